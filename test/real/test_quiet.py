"""Real Kahua: the cron contract on an idle site.  Kahua loses its
waitpid race now and then even when nothing else happens (about one
run in twenty, four workers each); the program puts it right, prints
nothing, and the JSON report, the history and the metrics say so.
KR_IDLE_RUNS sets how many runs (default 10; the issue's proof is 50)."""

import os
import re
import sys
import time

from harness import TOP, check, run, wait_for
from kahua import recoveries

sys.path.insert(0, os.path.join(TOP, "bench"))
from loadgen import Load  # noqa: E402

# The site check of the leaky type allocates 5 MiB in a fresh worker: on
# a loaded machine that can take longer than the default 5 s, and the run
# would rightly fail.  Quietness is the subject here, not that limit.
SLOW_OK = ["--http-timeout", "30"]


def test_idle_restarts_are_quiet_and_record_each_race(site, tmp):
    runs = int(os.environ.get("KR_IDLE_RUNS", "10"))
    prom = os.path.join(tmp, "kahua.prom")
    races = 0
    for i in range(runs):
        lines = len(site.history())
        res = run(SLOW_OK + ["--json", "--prom", prom], site)
        check(res.rc == 0 and res.err == "", "run %d of %d not quiet: %r" % (i + 1, runs, res))
        said = recoveries(res.json())
        hist = site.history()
        check(len(hist) == lines + 1, "run %d: no history line" % (i + 1))
        check([r.get("recovered") for r in hist[-1]["restarts"]]
              == [r["recovered"] for r in res.json()["restarts"]], hist[-1])
        with open(prom) as f:
            counted = sum(int(n) for n in re.findall(
                r'^kahua_restarter_recovered_races\{.*\} (\d+)$', f.read(), re.M))
        check(counted == len(said), "run %d: metrics count %d races, the report %d"
              % (i + 1, counted, len(said)))
        races += len(said)
        site.wait_whole(10)
    print("     %d idle runs: %d waitpid races put right, none printed, each recorded"
          % (runs, races), flush=True)


def test_restarts_under_load_are_quiet_and_record_each_race(site, tmp):
    # Under load Kahua loses the race about one restart in four.  The load
    # is the cheap hello page only: the single leaky and wiki workers
    # fall behind a steady load on a busy machine, their queues grow, and
    # the run's own health check of them would rightly fail (serving under
    # load is test_load's subject, not this one's).
    runs = int(os.environ.get("KR_LOADED_RUNS", "4"))
    load = Load(site.port, ["/hello/"], rate=10.0, timeout=5.0, max_requests=100000)
    load.start()
    races = 0
    try:
        wait_for(lambda: sum(r.ok for r in list(load.reqs)) >= 5, 30, "the load to be served")
        for i in range(runs):
            res = run(SLOW_OK + ["--json"], site)
            check(res.rc == 0 and res.err == "", "run %d of %d not quiet: %r" % (i + 1, runs, res))
            said = recoveries(res.json())
            check([r.get("recovered") for r in site.history()[-1]["restarts"]]
                  == [r["recovered"] for r in res.json()["restarts"]], site.history()[-1])
            races += len(said)
            site.wait_whole(10)
    finally:
        load.stop(time.monotonic())
        reqs = load.join()
    print("     %d runs under load (%d requests, %d failed): %d waitpid races put right, none printed, each recorded"
          % (runs, len(reqs), sum(not r.ok for r in reqs), races), flush=True)
