#!/bin/sh
# Run the libFuzzer targets that mk/fuzz.mk builds into $FUZZ_DIR.
#
#   sh fuzz/run.sh smoke|fuzz SECONDS TARGET...
#
# smoke first replays every file in test/fuzz-regress/T/ and fuzz/corpus/T/,
# then both modes fuzz each target for SECONDS.  Fuzzing starts from a work
# copy of those inputs in $FUZZ_DIR/corpus-T, so libFuzzer never rewrites
# the committed seeds.  Up to $FUZZ_JOBS targets run at once; the figures
# are printed per target once all are done, then "fuzz: N passed, N failed".
set -u

mode=$1 secs=$2
shift 2
dir=${FUZZ_DIR:-build/fuzz}
jobs=${FUZZ_JOBS:-2}
limits="-timeout=10 -rss_limit_mb=2048"

mkdir -p "$dir/logs" "$dir/artifacts" || exit 2

inputs() { # inputs T: the regression inputs and seeds of T
	for d in "test/fuzz-regress/$1" "fuzz/corpus/$1"; do
		[ ! -d "$d" ] || find "$d" -type f
	done
}

replay() { # replay T: run each known input once (file arguments do not fuzz)
	files=$(inputs "$1")
	[ -n "$files" ] || return 0
	# shellcheck disable=SC2086 # our input names hold no blanks
	"$dir/fuzz_$1" $limits $files >"$dir/logs/$1.replay.log" 2>&1
}

work() { # work T: fuzz T for $secs seconds from its work corpus
	corpus=$dir/corpus-$1
	mkdir -p "$corpus" || return 2
	for f in $(inputs "$1"); do
		cp "$f" "$corpus/" || return 2
	done
	dict=
	[ ! -f "fuzz/$1.dict" ] || dict=-dict=fuzz/$1.dict
	# shellcheck disable=SC2086
	"$dir/fuzz_$1" $limits $dict -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$dir/artifacts/$1-" "$corpus" >"$dir/logs/$1.log" 2>&1
}

field() { # field NAME LINE: the number after "NAME: " in a libFuzzer status line
	printf '%s\n' "$2" | sed -n "s/.* $1: \\([0-9]*\\).*/\\1/p"
}

figures() { # figures T: what the fuzzing run did, from its log
	log=$dir/logs/$1.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	files=$(find "$dir/corpus-$1" -type f | wc -l)
	corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p')
	printf '%s execs (%s/s), cov %s, ft %s, corpus %s (%s files in %s)' "${execs:-?}" \
		"${rate:-?}" "$(field cov "$last")" "$(field ft "$last")" "${corp:-?}" \
		"$files" "$dir/corpus-$1"
}

run_target() { # run_target T: leaves "ok ..." or "FAILED ..." in logs/T.result
	t=$1 out=$dir/logs/$1.result
	if [ ! -x "$dir/fuzz_$t" ]; then
		echo "FAILED: $dir/fuzz_$t not built" >"$out"
	elif [ "$mode" = smoke ] && ! replay "$t"; then
		echo "FAILED: a known input crashes; see $dir/logs/$t.replay.log" >"$out"
	elif ! work "$t"; then
		echo "FAILED: $(figures "$t"); see $dir/logs/$t.log and $dir/artifacts/" >"$out"
	else
		echo "ok: $(figures "$t")" >"$out"
	fi
}

running=0
for t in "$@"; do
	rm -f "$dir/logs/$t.result"
	run_target "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

passed=0 failed=0
for t in "$@"; do
	result=$(cat "$dir/logs/$t.result" 2>/dev/null || echo "FAILED: no result")
	echo "fuzz_$t: $result"
	case $result in
	ok:*) passed=$((passed + 1)) ;;
	*)
		failed=$((failed + 1))
		log=$dir/logs/$t.log
		[ "$mode" = smoke ] && grep -q '^FAILED: a known' "$dir/logs/$t.result" &&
			log=$dir/logs/$t.replay.log
		[ ! -f "$log" ] || tail -n 40 "$log" | sed "s/^/  fuzz_$t| /" >&2
		;;
	esac
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
