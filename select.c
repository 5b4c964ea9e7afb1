#include "select.h"
#include "fmt.h"
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

bool target_matches(const char *target, const struct worker *w)
{
	if (strcmp(target, "*") == 0)
		return true;
	if (all_digits(target))
		return strtol(target, NULL, 10) == w->wno;
	return strcmp(target, w->wid) == 0 || strcmp(target, w->type) == 0;
}

/* "no running worker matches 'x' (types: a, b; workers 0-4)" */
static int no_match(const char *target, const struct worker_obs *obs, size_t n,
		    struct kr_err *err)
{
	struct name_set set = { 0 };
	char types[512];
	long lo = 0, hi = -1;

	for (size_t i = 0; i < n; i++) {
		lo = i == 0 || obs[i].w.wno < lo ? obs[i].w.wno : lo;
		hi = obs[i].w.wno > hi ? obs[i].w.wno : hi;
	}
	/* Out of memory, the message names fewer types. */
	for (size_t i = 0; i < n && name_set_add(&set, obs[i].w.type) == 0; i++)
		;
	name_set_join(&set, types, sizeof types);
	name_set_free(&set);
	if (n == 0)
		return kr_fail(err, KR_USAGE, "no running worker matches '%s' (the supervisor runs none)",
			       target);
	return kr_fail(err, KR_USAGE, "no running worker matches '%s' (types: %s; worker numbers %ld-%ld)",
		       target, types, lo, hi);
}

static const char *threshold_reason(const struct worker_obs *o, const struct select_policy *pol,
				    char *buf, size_t size)
{
	long long mem = obs_memory(o, pol->pss);
	char have[32], limit[32], age[32], max[32];

	if (pol->min_mem > 0 && mem >= pol->min_mem) {
		fmt_bytes(mem, have, sizeof have);
		fmt_bytes(pol->min_mem, limit, sizeof limit);
		snprintf(buf, size, "%s %s >= %s", pol->pss ? "pss" : "rss", have, limit);
		return buf;
	}
	if (pol->max_conts > 0 && o->ev.conts >= pol->max_conts) {
		snprintf(buf, size, "continuations %lld >= %lld", o->ev.conts, pol->max_conts);
		return buf;
	}
	if (pol->max_age > 0 && (double)o->age >= pol->max_age) {
		fmt_age(o->age, age, sizeof age);
		fmt_age((long long)pol->max_age, max, sizeof max);
		snprintf(buf, size, "age %s >= %s", age, max);
		return buf;
	}
	return NULL;
}

static bool chosen_by_targets(const struct worker *w, const struct str_list *targets)
{
	if (targets->n == 0)
		return true;
	for (size_t t = 0; t < targets->n; t++)
		if (target_matches(targets->v[t], w))
			return true;
	return false;
}

/* With thresholds, biggest first: the worker that hurts most goes first. */
static int by_memory_desc(const void *a, const void *b)
{
	long long ma = ((const struct restart_step *)a)->mem;
	long long mb = ((const struct restart_step *)b)->mem;

	return ma < mb ? 1 : ma > mb ? -1 : 0;
}

/* With --max-conts, most continuations first (unknown last), then memory. */
static int by_conts_desc(const void *a, const void *b)
{
	long long ca = ((const struct restart_step *)a)->old.ev.conts;
	long long cb = ((const struct restart_step *)b)->old.ev.conts;

	return ca < cb ? 1 : ca > cb ? -1 : by_memory_desc(a, b);
}

int select_plan(const struct worker_obs *obs, size_t n, const struct str_list *targets,
		const struct select_policy *pol, struct restart_step **steps,
		size_t *nsteps, struct kr_err *err)
{
	bool thresholds = pol->min_mem > 0 || pol->max_age > 0 || pol->max_conts > 0;
	struct restart_step *v;
	size_t count = 0;

	*steps = NULL;
	*nsteps = 0;
	for (size_t t = 0; t < targets->n; t++) {
		size_t hits = 0;

		for (size_t i = 0; i < n; i++)
			hits += target_matches(targets->v[t], &obs[i].w);
		if (hits == 0)
			return no_match(targets->v[t], obs, n, err);
	}
	v = calloc(n ? n : 1, sizeof *v);
	if (v == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char reason[128];
		const char *why = thresholds ? threshold_reason(&obs[i], pol, reason, sizeof reason)
					     : (targets->n ? "target" : "all");

		/* Dead and broken entries are healed, not restarted. */
		if (obs[i].w.state != WORKER_LIVE || !chosen_by_targets(&obs[i].w, targets) ||
		    why == NULL)
			continue;
		v[count].old = obs[i];
		v[count].mem = obs_memory(&obs[i], pol->pss);
		v[count].result = STEP_PLANNED;
		snprintf(v[count].reason, sizeof v[count].reason, "%s", why);
		count++;
	}
	if (thresholds)
		qsort(v, count, sizeof *v, pol->max_conts > 0 ? by_conts_desc : by_memory_desc);
	if (pol->max_restarts > 0 && count > (size_t)pol->max_restarts)
		count = (size_t)pol->max_restarts;
	*steps = v;
	*nsteps = count;
	return 0;
}

/* One gate: met, not met, or its figure unknown (-1 with err). */
static int gate(const char *name, long long have, long long limit, bool below, bool *met,
		char *why, size_t size, struct kr_err *err)
{
	char h[32], l[32];

	if (have < 0)
		return kr_fail(err, KR_OSERR, "/proc/meminfo: no %s figure, needed by --when-%s",
			       name, below ? "available-below" : "swap-above");
	*met = below ? have < limit : have > limit;
	fmt_bytes(have, h, sizeof h);
	fmt_bytes(limit, l, sizeof l);
	snprintf(why, size, "%s %s is %s%s %s", name, h, *met ? "" : "not ",
		 below ? "below" : "above", l);
	return 0;
}

static int pressure_gate(const struct host_gates *g, const struct psi *p, bool *met,
			 char *why, size_t size, struct kr_err *err)
{
	double have = psi_some(p, g->window);

	if (have < 0)
		return kr_fail(err, KR_OSERR, "%s: no \"some\" figure, needed by --when-memory-pressure-above",
			       g->pressure_of ? g->pressure_of : PSI_HOST_FILE);
	*met = have > g->pressure_above;
	snprintf(why, size, "memory pressure%s%s some avg%d %.2f%% is %sabove %g%%",
		 g->pressure_of ? " of " : "", g->pressure_of ? g->pressure_of : "", g->window, have,
		 *met ? "" : "not ", g->pressure_above);
	return 0;
}

/* Append one gate's text to why, "; " between them. */
static void add_why(char *why, size_t size, const char *text)
{
	size_t used = strlen(why);

	if (text[0] != '\0' && used + 1 < size)
		snprintf(why + used, size - used, "%s%s", used ? "; " : "", text);
}

int select_gate(const struct host_gates *g, const struct host_mem *h, const struct psi *p,
		bool *go, char *why, size_t size, struct kr_err *err)
{
	char a[128] = "", s[128] = "", m[192] = "";
	bool met_a = false, met_s = false, met_m = false;

	*go = true;
	why[0] = '\0';
	if (g->avail_below <= 0 && g->swap_above <= 0 && g->pressure_above <= 0)
		return 0;
	if (g->avail_below > 0 &&
	    gate("MemAvailable", h->available, g->avail_below, true, &met_a, a, sizeof a, err) < 0)
		return -1;
	if (g->swap_above > 0 &&
	    gate("swap used", h->swap_used, g->swap_above, false, &met_s, s, sizeof s, err) < 0)
		return -1;
	if (g->pressure_above > 0 && pressure_gate(g, p, &met_m, m, sizeof m, err) < 0)
		return -1;
	*go = met_a || met_s || met_m;
	add_why(why, size, a);
	add_why(why, size, s);
	add_why(why, size, m);
	return 0;
}
