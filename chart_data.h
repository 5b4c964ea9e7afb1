/*
 * chart_data.h: what the chart keeps of the history: time slots with a
 * few channels each.  Shared by chart.c, which fills it from the file,
 * and chart_draw.c, which draws it.
 */
#ifndef KR_CHART_DATA_H
#define KR_CHART_DATA_H

#include <stdbool.h>
#include <stdio.h>

#include "tgrid.h"

#define CHART_TYPES 8           /* types drawn; later ones are counted only */
#define CHART_FAILS 16          /* latest failures kept with their message */
#define CHART_TEXT_MAX 512      /* bytes of a string from the history kept */

struct chart_type {
	char *name;
	int mem_hi, mem_lo;     /* channels: largest worker before (max), after (min) */
	int cont_hi, cont_lo;   /* the same for continuations */
	double run[4];          /* this run's figures, NAN until seen */
};

struct chart_fail {
	double time;
	char *why;              /* NULL when the line gave none */
};

struct chart_data {
	struct tgrid g;
	struct chart_type type[CHART_TYPES];
	size_t ntypes;
	bool more_types;        /* types beyond CHART_TYPES were not drawn */
	int restarts, fails, skips;             /* channels: runs per slot (sum) */
	int swept;              /* channel: continuations swept per slot (sum) */
	bool have_sweeps;
	long long swept_total;
	int avail_hi, avail_lo, swap_hi, swap_lo;
	int psi_hi, psi_lo;     /* the host's memory pressure, PSI some avg60 in percent */
	bool have_mem, have_conts, have_avail, have_swap, any_pss, any_rss;
	bool have_psi;
	char *site;             /* of the latest run, NULL when none named one */
	long long runs, restarted, failed, skipped;
	double first, last;
	struct chart_fail fail[CHART_FAILS];    /* ring of the latest */
	size_t nfail;
};


#endif
