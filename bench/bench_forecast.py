#!/usr/bin/env python3
"""The forecast's cost: `status` (no forecast) against `status -v` and
`check --warn-within` (which read the history's growth rates) on a
3-worker simulator site, with no history, a month and a year of hourly
runs (bench/gen_history.py).  Figures only.

    python3 bench/bench_forecast.py [--quick]     (KR_BIN, KR_SIM as for make bench)
"""

import os
import subprocess
import sys

import common as c

TYPES = "hello:2:20,leaky:1:48"    # the default site's types
HISTORIES = [("none", 0), ("a month", 720), ("a year", 8760)]
COMMANDS = [("status", ["status"]), ("status -v", ["status", "-v"]),
            ("check --warn-within 1h", ["check", "--no-http-check", "--no-history",
                                        "--warn-within", "1h"])]


def run(quick=False):
    runs = 3 if quick else 15
    sec = c.Section("forecast")
    sec.text("`kahua-restarter -S SITE COMMAND` on a simulator site of 3 workers whose "
             "history file holds the runs shown (gen_history.py --types %s); %d runs "
             "per row after one warm-up run; wall and CPU median. `status` makes no "
             "forecast; `status -v` and `check` read the whole history once for the "
             "growth rates." % (TYPES, runs))
    t = c.Table(["history", "MiB", "command", "runs", "wall median ms", "CPU median ms",
                 "max RSS MiB", "failed"], align=list("lrlrrrrr"))
    d = c.harness.tempdir()
    try:
        site = c.harness.Site(d)
        sim = c.harness.Sim(site, http=False, worker_delay=5)
        hist = site.path("logs", "kahua-restarter.jsonl")
        try:
            for label, hours in HISTORIES:
                if os.path.exists(hist):
                    os.unlink(hist)
                if hours:
                    subprocess.run([sys.executable, os.path.join(c.BENCH, "gen_history.py"), hist,
                                    "--hours", str(hours), "--types", TYPES], check=True)
                size = os.path.getsize(hist) / 1048576.0 if hours else 0
                for name, args in COMMANDS:
                    argv = ["-S", site.root] + args
                    c.restarter(argv)
                    res = [c.restarter(argv) for _ in range(runs)]
                    good = [r for r in res if r.ok]
                    t.add(label, "%.1f" % size, "`%s`" % name, len(res),
                          c.ms(c.median([r.wall for r in good])),
                          c.ms(c.median([r.cpu for r in good])),
                          c.mib_from_kb(max((r.maxrss_kb for r in good), default=0)),
                          len(res) - len(good))
        finally:
            sim.stop()
    finally:
        c.harness.rmtree(d)
    sec.table(t)
    return sec


if __name__ == "__main__":
    print(run("--quick" in sys.argv).markdown())
