#!/bin/sh
# make demo: run the main job on a copy of the bundled demo site, served by
# the Kahua simulator: status, a few requests that make "leaky" grow, a
# rolling restart with narration, status again; then a few quick rounds
# of requests and restarts, their history, and a chart of it
# (build/demo-chart.svg).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/kahua-restarter"
sim="$top/test/kahua-sim"
work=$(mktemp -d "${TMPDIR:-/tmp}/kahua-demo.XXXXXX")
sim_pid=""

cleanup() {
	if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
		kill "$sim_pid" 2>/dev/null || :
		wait "$sim_pid" 2>/dev/null || :
	fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

cp -R "$top/test/demo-site" "$work/site"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

echo "== starting the Kahua simulator on $work/site (HTTP on 127.0.0.1:$port)"
"$sim" -S "$work/site" -H "127.0.0.1:$port" --worker-delay 550 >"$work/sim.out" 2>&1 &
sim_pid=$!
i=0
until grep -q '^kahua-sim: ready' "$work/sim.out" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$sim_pid" 2>/dev/null; then
		echo "demo: the simulator did not start:" >&2
		cat "$work/sim.out" >&2
		exit 1
	fi
	sleep 0.1
done

export OT_SITE="$work/site"
echo
echo "== kahua-restarter status"
"$bin" status

echo
echo "== 6 requests to the leaky worker (it keeps 5 MB per request)"
for n in 1 2 3 4 5 6; do
	python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1]).read()" \
		"http://127.0.0.1:$port/leaky/"
done
"$bin" status

echo
echo "== kahua-restarter -v restart   (what cron runs, narrated)"
"$bin" -v restart

echo
echo "== kahua-restarter status   (new pids and worker ids; leaky is small again, though
   the HTTP check's page view costs it 5 MB, as any request does; the probe, an
   eval, costs nothing)"
"$bin" status

echo
echo "== kahua-restarter check"
"$bin" -v check

echo
echo "== four more rounds, quickly: 6 requests to leaky, then a restart, each"
for round in 1 2 3 4; do
	for n in 1 2 3 4 5 6; do
		python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1]).read()" \
			"http://127.0.0.1:$port/leaky/"
	done
	"$bin" restart
done

echo
echo "== kahua-restarter history   (the runs so far, from the site's history file)"
"$bin" history

# The chart outlives the demo's temporary site.
mkdir -p "$top/build"
chart="$top/build/demo-chart.svg"
echo
echo "== kahua-restarter history --svg $chart"
"$bin" history --svg "$chart"
echo
echo "demo: done; the chart of its runs is $chart"
