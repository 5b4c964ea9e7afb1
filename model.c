/*
 * model.c: figures derived from the model, shared by the planner and
 * every output, so each is computed one way.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long long obs_memory(const struct worker_obs *o, bool pss)
{
	return pss && o->pss >= 0 ? o->pss : o->rss;
}

size_t obs_rank(const struct worker_obs *v, size_t n, const struct worker_obs *w)
{
	size_t rank = 0;

	/* Dead and broken entries hold no place: ranks stay below :run-by-default. */
	for (size_t i = 0; i < n; i++)
		rank += v[i].w.state == WORKER_LIVE && strcmp(v[i].w.type, w->w.type) == 0 &&
			v[i].w.wno < w->w.wno;
	return rank;
}

bool step_freed(const struct restart_step *s, bool pss, long long *freed)
{
	long long before = obs_memory(&s->old, pss), after = obs_memory(&s->new, pss);

	if (s->result != STEP_OK || !s->have_new || before < 0 || after < 0)
		return false;
	*freed = before - after;
	return true;
}

long long run_memory_freed(const struct run_report *r)
{
	bool pss = run_pss(r);
	long long freed = 0, f;

	for (size_t i = 0; i < r->nsteps; i++)
		if (step_freed(&r->steps[i], pss, &f) && f > 0)
			freed += f;
	return freed;
}

bool run_pss(const struct run_report *r)
{
	return r->metric != NULL && strcmp(r->metric, "pss") == 0;
}

/* The row of type in r->types, added (wanted -1: not in app-servers) when new. */
static struct type_count *type_row(struct run_report *r, const char *type)
{
	struct type_count *t;

	for (size_t i = 0; i < r->ntypes; i++)
		if (strcmp(r->types[i].type, type) == 0)
			return &r->types[i];
	t = &r->types[r->ntypes++];
	snprintf(t->type, sizeof t->type, "%s", type);
	t->wanted = -1;
	return t;
}

void count_types(struct run_report *r, const struct kahua_type *app, size_t napp,
		 const struct worker_list *wl)
{
	struct type_count *was = r->types;
	size_t nwas = r->ntypes, cap = napp + wl->n;

	r->types = calloc(cap ? cap : 1, sizeof *r->types);
	r->ntypes = 0;
	if (r->types == NULL) {
		free(was);
		return;
	}
	for (size_t i = 0; i < napp; i++)
		type_row(r, app[i].name)->wanted = app[i].run_by_default;
	/* A dead or broken entry serves nothing: it is not running. */
	for (size_t i = 0; i < wl->n; i++)
		type_row(r, wl->v[i].type)->running += wl->v[i].state == WORKER_LIVE;
	/* Counted again after the run: what the run did to a type stays said. */
	for (size_t i = 0; i < nwas; i++)
		if (was[i].topped_up)
			type_row(r, was[i].type)->topped_up = true;
	free(was);
}
