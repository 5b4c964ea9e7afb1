/* Target matching and the restart plan: thresholds, order, limits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "select.h"

#define MB (1024LL * 1024)

static struct worker_obs obs[4] = {
	{ { "a:1", 0, "hello", 100, 0, WORKER_LIVE, "" }, 50 * MB, 40 * MB, 7200, { EVAL_OK, 8101, 82, -1, -1, "" } },
	{ { "a:2", 1, "hello", 101, 0, WORKER_LIVE, "" }, 900 * MB, 300 * MB, 600, { EVAL_OK, 120, 3, 1, -1, "" } },
	{ { "a:3", 2, "leaky", 102, 0, WORKER_LIVE, "" }, 600 * MB, 800 * MB, 60, { EVAL_UNREADABLE, -1, -1, -1, -1, "x" } },
	{ { "a:4", 3, "leaky", 103, 0, WORKER_LIVE, "" }, 700 * MB, -1, 30000, { EVAL_OK, 2000, 20, 1, -1, "" } },
};

static void plan(const char **targets, size_t ntargets, struct select_policy pol,
		 const long *want_wnos, size_t nwant)
{
	struct str_list tl = { (char **)targets, ntargets };
	struct restart_step *steps;
	size_t n;
	struct kr_err err = { 0 };

	assert_int_equal(select_plan(obs, 4, &tl, &pol, &steps, &n, &err), 0);
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(steps[i].old.w.wno, want_wnos[i]);
		assert_int_equal(steps[i].result, STEP_PLANNED);
		assert_true(steps[i].reason[0] != '\0');
	}
	free(steps);
}

static void test_targets(void **state)
{
	(void)state;
	assert_true(target_matches("*", &obs[0].w));
	assert_true(target_matches("hello", &obs[1].w));
	assert_false(target_matches("hello", &obs[2].w));
	assert_true(target_matches("2", &obs[2].w));
	assert_false(target_matches("2", &obs[1].w));
	assert_true(target_matches("a:4", &obs[3].w));
	assert_false(target_matches("a:", &obs[3].w));
}

static void test_plain_plan_keeps_worker_order(void **state)
{
	static const char *hello[] = { "hello" };
	static const char *mixed[] = { "3", "a:1" };

	(void)state;
	plan(NULL, 0, (struct select_policy){ 0 }, (long[]){ 0, 1, 2, 3 }, 4);
	plan(hello, 1, (struct select_policy){ 0 }, (long[]){ 0, 1 }, 2);
	plan(mixed, 2, (struct select_policy){ 0 }, (long[]){ 0, 3 }, 2);
	plan(NULL, 0, (struct select_policy){ .max_restarts = 2 }, (long[]){ 0, 1 }, 2);
}

static void test_thresholds_largest_first(void **state)
{
	static const char *leaky[] = { "leaky" };

	(void)state;
	plan(NULL, 0, (struct select_policy){ .min_mem = 600 * MB }, (long[]){ 1, 3, 2 }, 3);
	/* PSS ranks differently; the worker without PSS falls back to RSS. */
	plan(NULL, 0, (struct select_policy){ .min_mem = 600 * MB, .pss = true }, (long[]){ 2, 3 }, 2);
	plan(NULL, 0, (struct select_policy){ .max_age = 3600 }, (long[]){ 3, 0 }, 2);
	/* Either threshold selects. */
	plan(NULL, 0, (struct select_policy){ .min_mem = 800 * MB, .max_age = 3600 },
	     (long[]){ 1, 3, 0 }, 3);
	plan(leaky, 1, (struct select_policy){ .min_mem = 650 * MB }, (long[]){ 3 }, 1);
	plan(NULL, 0, (struct select_policy){ .min_mem = 10000 * MB }, NULL, 0);
	plan(NULL, 0, (struct select_policy){ .min_mem = 600 * MB, .max_restarts = 1 }, (long[]){ 1 }, 1);
}

static void test_continuations_most_first(void **state)
{
	(void)state;
	plan(NULL, 0, (struct select_policy){ .max_conts = 500 }, (long[]){ 0, 3 }, 2);
	/* Unknown figures never select; known ones go most first. */
	plan(NULL, 0, (struct select_policy){ .max_conts = 1 }, (long[]){ 0, 3, 1 }, 3);
	/* Any threshold selects; with --max-conts the order is by continuations. */
	plan(NULL, 0, (struct select_policy){ .max_conts = 500, .min_mem = 800 * MB },
	     (long[]){ 0, 3, 1 }, 3);
	plan(NULL, 0, (struct select_policy){ .max_conts = 500, .min_mem = 550 * MB },
	     (long[]){ 0, 3, 1, 2 }, 4);
	plan(NULL, 0, (struct select_policy){ .max_conts = 500, .max_restarts = 1 }, (long[]){ 0 }, 1);
	plan(NULL, 0, (struct select_policy){ .max_conts = 9000 }, NULL, 0);
}

static void gates_case(struct host_gates g, struct host_mem h, struct psi p, bool want_go,
		       const char *want_why)
{
	struct kr_err err = { 0 };
	char why[256];
	bool go = !want_go;

	assert_int_equal(select_gate(&g, &h, &p, &go, why, sizeof why, &err), 0);
	assert_true(go == want_go);
	assert_string_equal(why, want_why);
}

static void gate_case(struct host_mem h, long long below, long long above, bool want_go,
		      const char *want_why)
{
	gates_case((struct host_gates){ .avail_below = below, .swap_above = above }, h,
		   (struct psi){ 0 }, want_go, want_why);
}

static void test_memory_gates(void **state)
{
	struct host_mem unknown = { -1, -1, -1 };
	struct kr_err err = { 0 };
	char why[256];
	bool go;

	(void)state;
	gate_case((struct host_mem){ 3072 * MB, 0, -1 }, 0, 0, true, "");
	gate_case((struct host_mem){ 3072 * MB, 0, -1 }, 1024 * MB, 0, false,
		  "MemAvailable 3.0G is not below 1.0G");
	gate_case((struct host_mem){ 500 * MB, 0, -1 }, 1024 * MB, 0, true, "MemAvailable 500M is below 1.0G");
	gate_case((struct host_mem){ 3072 * MB, 0, -1 }, 1024, 0, false, "MemAvailable 3.0G is not below 1.0K");
	gate_case((struct host_mem){ 3072 * MB, 0, -1 }, 0, 1, false, "swap used 0B is not above 1B");
	gate_case((struct host_mem){ 3072 * MB, 2048 * MB, -1 }, 0, 1024 * MB, true,
		  "swap used 2.0G is above 1.0G");
	/* Either gate met is enough. */
	gate_case((struct host_mem){ 3072 * MB, 2048 * MB, -1 }, 1024 * MB, 1024 * MB, true,
		  "MemAvailable 3.0G is not below 1.0G; swap used 2.0G is above 1.0G");
	gate_case((struct host_mem){ 3072 * MB, 10 * MB, -1 }, 1024 * MB, 1024 * MB, false,
		  "MemAvailable 3.0G is not below 1.0G; swap used 10M is not above 1.0G");
	/* A figure that cannot be read is an error only when its gate is given. */
	gate_case((struct host_mem){ -1, 2048 * MB, -1 }, 0, 1024 * MB, true, "swap used 2.0G is above 1.0G");
	assert_int_equal(select_gate(&(struct host_gates){ .avail_below = 1024 }, &unknown,
				     &(struct psi){ 0 }, &go, why, sizeof why, &err), -1);
	assert_int_equal(err.status, KR_OSERR);
	assert_string_equal(err.msg, "/proc/meminfo: no MemAvailable figure, needed by --when-available-below");
}

static void pressure_case(struct host_gates g, struct psi p, bool want_go, const char *want_why)
{
	gates_case(g, (struct host_mem){ 3072 * MB, 0, 4096 * MB }, p, want_go, want_why);
}

/* The pressure gate alone, with each window, and with the other gates. */
static void test_pressure_gate(void **state)
{
	struct psi idle = { .some = { true, 0.00, 0.00, 0.00, 0 }, .full = { true, 0, 0, 0, 0 } };
	struct psi busy = { .some = { true, 30.5, 12.25, 2.0, 9000 } };
	struct host_mem h = { 3072 * MB, 0, 4096 * MB };
	struct kr_err err = { 0 };
	char why[256];
	bool go = false;

	(void)state;
	pressure_case((struct host_gates){ .pressure_above = 5, .window = 60 }, idle, false,
		      "memory pressure some avg60 0.00% is not above 5%");
	pressure_case((struct host_gates){ .pressure_above = 5, .window = 60 }, busy, true,
		      "memory pressure some avg60 12.25% is above 5%");
	pressure_case((struct host_gates){ .pressure_above = 20, .window = 10 }, busy, true,
		      "memory pressure some avg10 30.50% is above 20%");
	pressure_case((struct host_gates){ .pressure_above = 20, .window = 60 }, busy, false,
		      "memory pressure some avg60 12.25% is not above 20%");
	pressure_case((struct host_gates){ .pressure_above = 1.5, .window = 300 }, busy, true,
		      "memory pressure some avg300 2.00% is above 1.5%");
	/* The figure equal to the limit is not above it. */
	pressure_case((struct host_gates){ .pressure_above = 2, .window = 300 }, busy, false,
		      "memory pressure some avg300 2.00% is not above 2%");
	pressure_case((struct host_gates){ .pressure_above = 5, .window = 60,
					   .pressure_of = "system.slice/sumibi.service" }, busy, true,
		      "memory pressure of system.slice/sumibi.service some avg60 12.25% is above 5%");
	/* Any gate met is enough; none met keeps the run back. */
	pressure_case((struct host_gates){ .avail_below = 4096 * MB, .pressure_above = 5, .window = 60 },
		      idle, true, "MemAvailable 3.0G is below 4.0G; memory pressure some avg60 0.00% is not above 5%");
	pressure_case((struct host_gates){ .swap_above = MB, .pressure_above = 5, .window = 60 },
		      busy, true, "swap used 0B is not above 1.0M; memory pressure some avg60 12.25% is above 5%");
	pressure_case((struct host_gates){ .avail_below = MB, .swap_above = MB, .pressure_above = 5,
					   .window = 60 }, idle, false,
		      "MemAvailable 3.0G is not below 1.0M; swap used 0B is not above 1.0M; "
		      "memory pressure some avg60 0.00% is not above 5%");
	/* No PSI figure is an error only when the pressure gate is given. */
	pressure_case((struct host_gates){ .avail_below = 4096 * MB }, (struct psi){ 0 }, true,
		      "MemAvailable 3.0G is below 4.0G");
	assert_int_equal(select_gate(&(struct host_gates){ .pressure_above = 5, .window = 60 }, &h,
				     &(struct psi){ 0 }, &go, why, sizeof why, &err), -1);
	assert_int_equal(err.status, KR_OSERR);
	assert_string_equal(err.msg, "/proc/pressure/memory: no \"some\" figure, needed by --when-memory-pressure-above");
}

static void test_unknown_target(void **state)
{
	static const char *t[] = { "hello", "nosuch" };
	struct str_list tl = { (char **)t, 2 };
	struct select_policy pol = { 0 };
	struct restart_step *steps;
	size_t n;
	struct kr_err err = { 0 };

	(void)state;
	assert_int_equal(select_plan(obs, 4, &tl, &pol, &steps, &n, &err), -1);
	assert_int_equal(err.status, KR_USAGE);
	assert_string_equal(err.msg, "no running worker matches 'nosuch' (types: hello, leaky; worker numbers 0-3)");
	assert_null(steps);
}

static void test_reasons(void **state)
{
	struct str_list tl = { NULL, 0 };
	struct select_policy pol = { .min_mem = 800 * MB, .max_age = 3600 };
	struct restart_step *steps;
	size_t n;
	struct kr_err err = { 0 };

	(void)state;
	assert_int_equal(select_plan(obs, 4, &tl, &pol, &steps, &n, &err), 0);
	assert_string_equal(steps[0].reason, "rss 900M >= 800M");
	assert_string_equal(steps[2].reason, "age 2h00m >= 60m");
	free(steps);
	pol = (struct select_policy){ .max_conts = 500, .max_age = 3600 };
	assert_int_equal(select_plan(obs, 4, &tl, &pol, &steps, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(steps[0].reason, "continuations 8101 >= 500");
	assert_string_equal(steps[1].reason, "continuations 2000 >= 500");
	free(steps);
}

/* Dead and broken entries are healed, never restarted; a target naming one is no usage error. */
static void test_dead_entries_not_planned(void **state)
{
	static const char *t[] = { "leaky" };
	struct worker_obs v[4];
	struct str_list all = { NULL, 0 }, tl = { (char **)t, 1 };
	struct select_policy pol = { 0 };
	struct restart_step *steps;
	size_t n;
	struct kr_err err = { 0 };

	(void)state;
	memcpy(v, obs, sizeof v);
	v[2].w.state = WORKER_DEAD;
	v[3].w.state = WORKER_BROKEN;
	assert_int_equal(select_plan(v, 4, &all, &pol, &steps, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(steps[0].old.w.wno, 0);
	assert_int_equal(steps[1].old.w.wno, 1);
	free(steps);
	assert_int_equal(select_plan(v, 4, &tl, &pol, &steps, &n, &err), 0);
	assert_int_equal(n, 0);
	free(steps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_plain_plan_keeps_worker_order),
		cmocka_unit_test(test_thresholds_largest_first),
		cmocka_unit_test(test_continuations_most_first),
		cmocka_unit_test(test_memory_gates),
		cmocka_unit_test(test_pressure_gate),
		cmocka_unit_test(test_unknown_target),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_dead_entries_not_planned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
