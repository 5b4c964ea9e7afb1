"""Which workers a restart picks: memory and age thresholds, largest
first, and --max-restarts."""

import time

from harness import (check, run, same_workers, start, wait_for)


def grow_leaky(sim, n):
    for _ in range(n):
        code, _ = sim.get("/leaky/")
        check(code == 200, "leaky answered %d" % code)


def test_min_rss_restarts_only_big_workers(tmp):
    site, sim = start(tmp)
    grow_leaky(sim, 8)          # +40 MB
    before = sim.ls()
    leaky = [w for w in before if w["type"] == "leaky"][0]
    res = run(["--min-rss", "30M", "-n"], site)
    check(res.rc == 0, res)
    check("rss" in res.out and leaky["wid"] in res.out, res)
    check(sum(1 for l in res.out.splitlines() if "restart worker" in l) == 1, res.out)
    res = run(["--min-rss", "30M"], site)
    check(res.rc == 0, res)
    after = sim.ls()
    same_workers(before, after)
    gone = {w["wid"] for w in before} - {w["wid"] for w in after}
    check(gone == {leaky["wid"]}, "restarted %r, expected only leaky" % gone)


def test_thresholds_none_match_restarts_nothing(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    res = run(["--min-rss", "10G", "--max-age", "1d"], site)
    check(res.rc == 0 and res.err == "", res)
    check(sim.ls() == before, "something restarted")


def test_max_age_uses_supervisor_start_time(tmp):
    site, sim = start(tmp)
    # Ages are whole seconds from the supervisor's :start-time, read by
    # time(2), whose coarse clock may lag this one across a second's edge:
    # one second more than needed.
    newest = max(w["start"] for w in sim.ls())
    wait_for(lambda: int(time.time()) >= newest + 3, 10, "the workers to be 2 s old")
    res = run(["-n", "--max-age", "2s", "--json"], site)
    check(res.rc == 0, res)
    rep = res.json()
    check(len(rep["restarts"]) == 3, rep)
    check(all(r["reason"].startswith("age ") for r in rep["restarts"]), rep)
    res = run(["-n", "--max-age", "1h", "--json"], site)
    check(len(res.json()["restarts"]) == 0, res)


def test_largest_first_and_max_restarts(tmp):
    site, sim = start(tmp, types=[("leaky", ["--leak-mb", "5"], 3)])
    ws = sim.ls()
    # Different sizes: round robin spreads the requests, so count per pid.
    for _ in range(9):
        sim.get("/leaky/")
    sizes = {}
    import harness
    for w in ws:
        sizes[w["wid"]] = harness.rss(w["pid"])
    biggest = max(sizes, key=sizes.get)
    res = run(["--min-rss", "1M", "--max-restarts", "1"], site)
    check(res.rc == 0, res)
    after = {w["wid"] for w in sim.ls()}
    check(biggest not in after and len(after & set(sizes)) == 2, "wrong worker restarted")
