"""Real Kahua: the cron contract on an idle site.  Kahua loses its
waitpid race now and then even when nothing else happens (about one
run in twenty, four workers each); the program puts it right, prints
nothing, and the JSON report, the history and the metrics say so.
KR_IDLE_RUNS sets how many runs (default 10; the issue's proof is 50)."""

import os
import re

from harness import check, run
from kahua import recoveries


def test_idle_restarts_are_quiet_and_record_each_race(site, tmp):
    runs = int(os.environ.get("KR_IDLE_RUNS", "10"))
    prom = os.path.join(tmp, "kahua.prom")
    races = 0
    for i in range(runs):
        lines = len(site.history())
        res = run(["--json", "--prom", prom], site)
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
