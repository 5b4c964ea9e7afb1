"""Real Kahua's own failure modes, produced on a real site without
patching Kahua: a worker killed with SIGKILL stays listed with no pid (a
dead entry that still receives requests), and a bad deploy (an
application file that no longer loads) makes every new worker of its type
a broken "ERROR loading module" entry.  The program must heal the first
and stop at the second, leaving nothing broken behind."""

import os
import signal
import time

from harness import check, one_line, run, same_workers
from kahua import alive


def dead_entry(site, wtype):
    """SIGKILL a worker of wtype; return its ls entry once Kahua lists it
    dead (pid #f, or the pid of a process gone)."""
    w = [w for w in site.ls() if w["type"] == wtype][0]
    os.kill(w["pid"], signal.SIGKILL)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        now = [x for x in site.ls() if x["wno"] == w["wno"]]
        check(now, "Kahua dropped the killed worker's entry: %r" % site.ls())
        if now[0]["pid"] is None or not alive(now[0]["pid"]):
            return now[0]
        time.sleep(0.1)
    raise AssertionError("worker %r still alive after SIGKILL" % w)


def test_dead_entry_is_reported_by_check_and_healed_by_a_run(site, tmp):
    before = site.ls()
    dead = dead_entry(site, "leaky")
    # Kahua still sends it requests: each one fails.
    codes = {site.http_status("/leaky/ping") for _ in range(3)}
    check(codes == {500}, "requests to the dead entry answered %r" % codes)
    res = run(["check"], site)
    check(res.rc == 1, res)
    check("leaky" in res.err and str(dead["wno"]) in res.err, res.err)
    st = run(["status", "--json"], site).json()
    states = {w["number"]: w["state"] for w in st["workers_before"]}
    check(states[dead["wno"]] == "dead", states)

    res = run(["--json", "restart", "hello"], site)
    check(res.rc == 0, res)
    warn = [l for l in res.err.splitlines() if l.strip()]
    check(len(warn) == 1 and "had died" in warn[0] and "leaky back to 1 of 1" in warn[0], res.err)
    rep = res.json()
    check([(h["number"], h["state"], h["removed"]) for h in rep["healed"]]
          == [(dead["wno"], "dead", True)], rep["healed"])
    after = site.wait_whole(5)
    same_workers(before, after)
    check(dead["wno"] not in {w["wno"] for w in after}, "the dead entry is still listed")
    check(site.http_status("/leaky/ping") == 200, "leaky does not answer after healing")


def break_app(site, wtype):
    """Make app/TYPE/TYPE.kahua unloadable; return a function restoring it."""
    path = site.path("app", wtype, "%s.kahua" % wtype)
    with open(path) as f:
        good = f.read()
    with open(path, "w") as f:
        f.write(good + "\n(define (broken\n")

    def restore():
        with open(path, "w") as f:
            f.write(good)
    return restore


def no_broken_entry(site):
    ws = site.ls()
    check(not [w for w in ws if w["pid"] is None or w["wid"].startswith("ERROR")],
          "dead or broken entries left: %r" % ws)
    return ws


def test_bad_deploy_rolling_stops_at_the_first_and_removes_it(site, tmp):
    before = site.ls()
    hellos = [w for w in before if w["type"] == "hello"]
    restore = break_app(site, "hello")
    try:
        res = run(["restart", "hello"], site)
    finally:
        restore()
    check(res.rc == 1, res)
    line = one_line(res)
    check("broken" in line and "READ-ERROR" in line and "kahua-spvr.log" in line, line)
    ws = no_broken_entry(site)
    left = [w for w in ws if w["type"] == "hello"]
    # The first hello was terminated; the second was never touched.
    check([w["wid"] for w in left] == [hellos[1]["wid"]], "hello workers now %r" % left)
    check(site.http_status("/hello/") == 200, "the remaining hello does not serve")
    # The code fixed, the next run tops the type up again.
    res = run(["restart", "leaky"], site)
    check(res.rc == 0, res)
    same_workers(before, site.wait_whole(5))


def test_bad_deploy_surge_loses_nothing(site, tmp):
    before = site.ls()
    restore = break_app(site, "hello")
    try:
        res = run(["--strategy", "surge", "restart", "hello"], site)
    finally:
        restore()
    check(res.rc == 1, res)
    check("READ-ERROR" in one_line(res), res)
    ws = no_broken_entry(site)
    check([w["wid"] for w in ws] == [w["wid"] for w in before], "workers changed: %r" % ws)
    check(site.http_status("/hello/") == 200, "hello does not serve")
