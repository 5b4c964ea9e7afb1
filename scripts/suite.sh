#!/bin/sh
# suite.sh NAME COMMAND... -- run one suite of `make check` and print one
# line with its name, result and wall time.  A suite that exits 77 was
# skipped and has said so itself (one line, with how to enable it): that
# is not a failure.
name=$1
shift
t0=$(date +%s)
"$@"
rc=$?
t=$(($(date +%s) - t0))
case $rc in
0) echo "check: $name passed in ${t} s" ;;
77) exit 0 ;;
*) echo "check: $name FAILED (status $rc) after ${t} s" ;;
esac
exit $rc
