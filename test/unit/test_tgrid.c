/*
 * Time slots: runs in order and out of order, sums, highs and lows kept
 * through merges, the slot count bounded whatever the span.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "tgrid.h"

static size_t used(const struct tgrid *g)
{
	size_t n = 0;

	for (size_t i = g->lo; i < g->hi; i++)
		n += !isnan(tgrid_get(g, TG_COUNT, i));
	return n;
}

static double total(const struct tgrid *g, int ch)
{
	double sum = 0;

	for (size_t i = 0; i < g->nslots; i++)
		if (!isnan(tgrid_get(g, ch, i)))
			sum += tgrid_get(g, ch, i);
	return sum;
}

/* A day of hourly runs keeps one run per slot, at its own time. */
static void test_sparse_runs_keep_their_own_slot(void **state)
{
	struct tgrid g;
	int hi;

	(void)state;
	assert_int_equal(tgrid_init(&g, 64), 0);
	hi = tgrid_channel(&g, TG_MAX);
	assert_true(hi > TG_TIMES);
	for (int h = 0; h < 24; h++)
		tgrid_put(&g, tgrid_place(&g, 1e9 + 3600.0 * h), hi, h);
	assert_int_equal(used(&g), 24);
	assert_true(g.hi - g.lo <= 64);
	for (size_t i = g.lo, h = 0; i < g.hi; i++) {
		if (isnan(tgrid_time(&g, i)))
			continue;
		assert_true(tgrid_time(&g, i) == 1e9 + 3600.0 * (double)h);
		assert_true(tgrid_get(&g, hi, i) == (double)h);
		h++;
	}
	tgrid_free(&g);
}

/* Merged slots keep the sum, the highest and the lowest of their runs. */
static void test_merges_keep_sum_max_min(void **state)
{
	struct tgrid g;
	int sum, hi, lo;
	double top = -1, bottom = 1e300;

	(void)state;
	assert_int_equal(tgrid_init(&g, 16), 0);
	sum = tgrid_channel(&g, TG_SUM);
	hi = tgrid_channel(&g, TG_MAX);
	lo = tgrid_channel(&g, TG_MIN);
	for (int i = 0; i < 1000; i++) {
		size_t s = tgrid_place(&g, 5000.0 + 7.0 * i);
		double v = (double)((i * 37) % 101);

		tgrid_put(&g, s, sum, 1);
		tgrid_put(&g, s, hi, v);
		tgrid_put(&g, s, lo, v);
		top = fmax(top, v);
		bottom = fmin(bottom, v);
	}
	assert_true(g.hi <= 16);
	assert_true(total(&g, TG_COUNT) == 1000 && total(&g, sum) == 1000);
	assert_true(fabs(total(&g, TG_TIMES) - (5000.0 * 1000 + 7.0 * 999 * 1000 / 2)) < 1e-3);
	{
		double h = -1, l = 1e300;

		for (size_t i = 0; i < g.nslots; i++) {
			if (!isnan(tgrid_get(&g, hi, i)))
				h = fmax(h, tgrid_get(&g, hi, i));
			if (!isnan(tgrid_get(&g, lo, i)))
				l = fmin(l, tgrid_get(&g, lo, i));
		}
		assert_true(h == top && l == bottom);
	}
	tgrid_free(&g);
}

/* Runs before the first one move the slots; far ones widen them. */
static void test_out_of_order_and_extreme_times(void **state)
{
	struct tgrid g;
	static const double times[] = { 1e9, 1e9 - 10, 1e9 + 5, -1e11, 1e11, 0, 1e9 };

	(void)state;
	assert_int_equal(tgrid_init(&g, 32), 0);
	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		size_t s = tgrid_place(&g, times[i]);
		double from = g.origin + (double)s * g.width;

		assert_true(s < 32);
		assert_true(times[i] >= from && times[i] < from + g.width);
	}
	assert_true(total(&g, TG_COUNT) == 7);
	assert_true(g.width >= 2e11 / 32);
	tgrid_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sparse_runs_keep_their_own_slot),
		cmocka_unit_test(test_merges_keep_sum_max_min),
		cmocka_unit_test(test_out_of_order_and_extreme_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
