"""Real Kahua: availability while every worker is replaced under a steady
HTTP load (bench/loadgen.py: open loop, 20 requests/s on 127.0.0.1,
bounded).  Asserted: the run succeeds, every worker was drained before it
was terminated, every type is whole with live workers and no dead entry,
every old worker is gone.  Failed requests and
the longest time without a successful response are printed, not asserted:
they are figures (bench/ measures them), not pass/fail."""

import os
import sys
import time

from harness import TOP, check, run, same_workers, wait_for
from kahua import alive, recoveries

sys.path.insert(0, os.path.join(TOP, "bench"))
from loadgen import Load, max_gap  # noqa: E402

RATE = 20.0
PATHS = ["/hello/", "/leaky/ping", "/hello/", "/wiki/"]


def under_load(site, args):
    before = site.ls()
    load = Load(site.port, PATHS, rate=RATE, timeout=5.0, max_requests=int(RATE * 120))
    t0 = load.start()
    wait_for(lambda: sum(r.ok for r in list(load.reqs)) >= 5, 30,
             "the load to be served")
    # A drain limit well above the default: on a loaded machine Kahua
    # serves the 20 requests/s slowly and a worker's queue may take more
    # than the default's 5 s to empty; what is tested is that each worker
    # is drained before it goes, not how fast a busy machine serves.
    res = run(args + ["--drain-timeout", "30", "--json"], site)
    load.stop(time.monotonic() + 1.0)
    reqs = load.join()
    ok = [r for r in reqs if r.ok]
    failed = [r for r in reqs if not r.ok]
    gap = max_gap([t0, max(r.done for r in reqs)] + [r.done for r in ok])
    kinds = {}
    for r in failed:
        kinds[r.outcome] = kinds.get(r.outcome, 0) + 1
    print("     %s: %d requests, %d failed%s, longest gap without success %.2f s, run %.2f s"
          % (" ".join(args) or "rolling", len(reqs), len(failed),
             " (%s)" % ", ".join("%s x%d" % kv for kv in sorted(kinds.items())) if kinds else "",
             gap, res.secs), flush=True)
    # Quiet even where Kahua lost its waitpid race (about one restart in
    # four under load): the program put it right and recorded it.
    check(res.rc == 0 and res.err == "", res)
    check(len(reqs) >= RATE * 2, "the load generator sent only %d requests" % len(reqs))
    rep = res.json()
    said = recoveries(rep)
    if said:
        print("     Kahua lost its waitpid race %d time(s); recorded: %s" % (len(said), said[0]), flush=True)
    check([r["result"] for r in rep["restarts"]] == ["ok"] * len(before), rep["restarts"])
    check(all(r["drained"] is True for r in rep["restarts"]), "not drained: %r" % rep["restarts"])
    after = site.wait_whole(5)
    same_workers(before, after)
    check(all(w["pid"] is not None for w in after), "dead entries: %r" % after)
    check(not {w["wid"] for w in before} & {w["wid"] for w in after}, "a worker was not replaced")
    check(not any(alive(w["pid"]) for w in before), "an old worker process still runs")


def test_rolling_under_load(site, tmp):
    under_load(site, [])


def test_surge_under_load(site, tmp):
    under_load(site, ["--strategy", "surge"])
