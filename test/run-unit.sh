#!/bin/sh
# Run every cmocka unit test binary given (under $KR_UNIT_WRAP, if set,
# e.g. valgrind); print one closing tally.
pass=0; fail=0
for t in "$@"; do
	# shellcheck disable=SC2086
	if ${KR_UNIT_WRAP:-} "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t" >&2; fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
