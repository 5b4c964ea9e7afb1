#include "select.h"

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
	char types[512] = "";
	size_t used = 0;
	long lo = 0, hi = -1;

	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(obs[j].w.type, obs[i].w.type) == 0;
		if (!seen && used < sizeof types)
			used += (size_t)snprintf(types + used, sizeof types - used, "%s%s",
						 used ? ", " : "", obs[i].w.type);
		lo = i == 0 || obs[i].w.wno < lo ? obs[i].w.wno : lo;
		hi = obs[i].w.wno > hi ? obs[i].w.wno : hi;
	}
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

int select_plan(const struct worker_obs *obs, size_t n, const struct str_list *targets,
		const struct select_policy *pol, struct restart_step **steps,
		size_t *nsteps, struct kr_err *err)
{
	bool thresholds = pol->min_mem > 0 || pol->max_age > 0;
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
		qsort(v, count, sizeof *v, by_memory_desc);
	if (pol->max_restarts > 0 && count > (size_t)pol->max_restarts)
		count = (size_t)pol->max_restarts;
	*steps = v;
	*nsteps = count;
	return 0;
}
