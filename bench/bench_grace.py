#!/usr/bin/env python3
"""The grace after SIGTERM (--term-grace): rolling restarts of hello x2
under 50 requests/s, counting failed requests, with the grace off (0) and
at its default (300 ms), on a simulator whose supervisor connects to the
picked worker right away, and on one that waits between the pick (under
its lock) and the connect (outside it), as a Kahua thread descheduled
there does under load (fault dispatch-delay).  Figures only.

usage: python3 bench/bench_grace.py [RESTARTS_PER_ROW]   (default 10)
"""

import sys

import common as c
from bench_drain import in_a_row

DELAYS = [0, 40]                        # ms between pick and connect
# Requests held in the supervisor leave few quiet moments to drain in:
# both give up draining after 0.5 s, as the integration test does.
METHODS = ["rolling --drain-timeout 0.5 --term-grace 0", "rolling --drain-timeout 0.5"]


def row(delay, method, n):
    d = c.harness.tempdir()
    try:
        site = c.harness.Site(d, types=[("hello", [], 2)], name="grace")
        faults = ["dispatch-delay=%d" % delay] if delay else []
        sim = c.harness.Sim(site, worker_delay=c.KAHUA_WORKER_DELAY_MS, faults=faults,
                            extra=["--request-ms", str(c.LOADED_REQUEST_MS)])
        try:
            o, walls = in_a_row(sim, site, method, n)
        finally:
            sim.stop()
    finally:
        c.harness.rmtree(d)
    return o, walls


def main(n):
    t = c.Table(["dispatch delay", "method", "restarts", "requests", "failed", "median wall s"],
                align=list("rlrrrr"))
    for delay in DELAYS:
        for m in METHODS:
            c.log("grace: %d x %s, dispatch delay %d ms" % (n, m, delay))
            o, walls = row(delay, m, n)
            t.add("%d ms" % delay, m, n, o.n, len(o.failed), c.s3(c.median(walls)))
    print("load average %s" % (c.loadavg(),))
    print(t.markdown())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
