"""The fault matrix: one test per fault: the exit status, the one
line, and that nothing was lost (same workers per type, no stray process,
no signal to a pid that failed verification)."""

import os
import signal
import subprocess
import time

from harness import (Sim, Site, alive, check, descendants, one_line, run, same_workers,
                     wait_for)

FAST = ["--ctl-timeout", "2", "--kill-after", "1", "--worker-timeout", "2", "--timeout", "20"]


def start(tmp, faults, **kw):
    site = Site(tmp)
    return site, Sim(site, faults=faults, **kw)


def pids_of(sim):
    return sorted(descendants(sim.pid))


def test_supervisor_hangs_on_restart(tmp):
    site, sim = start(tmp, ["hang-restart"])
    before = sim.ls()
    procs = pids_of(sim)
    res = run(FAST, site)
    check(res.rc == 69, res)
    line = one_line(res)
    check("restart" in line and "time limit" in line, line)
    check("supervisor is stuck, not the worker: not killed" in line, line)
    check(res.secs < 15, "took %.1fs" % res.secs)
    # The worker was healthy (it would obey SIGTERM), so it was not killed.
    check(pids_of(sim) == procs, "processes changed: %r -> %r" % (procs, pids_of(sim)))
    check(all(alive(w["pid"]) for w in before), "a worker died")


def refused_and_untouched(tmp, fault, words, max_secs=10):
    """A supervisor misbehaving in one way: exit 69 with one line naming
    the trouble, within the time limits, and every process as it was."""
    site, sim = start(tmp, [fault])
    procs = pids_of(sim)
    res = run(FAST, site)
    check(res.rc == 69, res)
    check(words in one_line(res), res)
    check(res.secs < max_secs, "took %.1fs" % res.secs)
    check(pids_of(sim) == procs, "processes changed: %r -> %r" % (procs, pids_of(sim)))


def test_supervisor_replies_garbage(tmp):
    refused_and_untouched(tmp, "garbage", "unreadable")


def test_supervisor_replies_huge(tmp):
    refused_and_untouched(tmp, "huge", "larger than 4194304 bytes")


def test_supervisor_closes_without_reply(tmp):
    refused_and_untouched(tmp, "close", "closed without replying")


def test_supervisor_half_reply(tmp):
    refused_and_untouched(tmp, "half-reply", "no complete reply within the time limit")


def test_worker_slow_to_start_is_waited_for(tmp):
    site, sim = start(tmp, ["slow-start=1500"])
    before = sim.ls()
    res = run(FAST + ["--kill-after", "1"], site)
    check(res.rc == 0, res)
    after = sim.ls()
    same_workers(before, after)
    check(not {w["pid"] for w in before} & {w["pid"] for w in after}, "not restarted")


def test_worker_slower_than_limits_fails_cleanly(tmp):
    site, sim = start(tmp, ["slow-start=6000"])
    before = sim.ls()
    res = run(FAST, site)
    check(res.rc == 69, res)
    check("time limit" in one_line(res), res)
    # The supervisor finishes the restart it was given; the type is whole again.
    wait_for(lambda: sim.counts() == {"hello": 2, "leaky": 1}, 15, "types whole again")
    after = sim.ls()
    check(sum(1 for w in before if w["wid"] in {a["wid"] for a in after}) == 2,
          "the rollout did not stop after the first worker")


def test_worker_ignores_sigterm_is_killed_after_verification(tmp):
    site, sim = start(tmp, ["ignore-term"])
    before = sim.ls()
    res = run(FAST + ["--kill-after", "0.5"], site)
    check(res.rc == 0, res)
    check(res.err.count("ignored SIGTERM") == 3 and "sent SIGKILL" in res.err, res.err)
    after = sim.ls()
    same_workers(before, after)
    check(not any(alive(w["pid"]) for w in before), "an old worker survived")


def test_unverified_pid_is_never_signalled(tmp):
    site, sim = start(tmp, ["ignore-term"])
    before = sim.ls()
    # A pid file naming another process: no worker is its child.
    decoy = subprocess.Popen(["sleep", "60"])
    try:
        with open(site.path("run", "kahua-spvr.pid"), "w") as f:
            f.write(str(decoy.pid))
        res = run(FAST + ["--kill-after", "0.5", "restart", before[0]["wid"]], site)
        check(res.rc == 69, res)
        line = one_line(res)
        check("not signalled" in line and "parent" in line and before[0]["wid"] in line, line)
        check(alive(before[0]["pid"]), "the unverified worker was signalled to death")
        check(alive(decoy.pid), "the decoy was signalled")
    finally:
        decoy.kill()
        decoy.wait()
        with open(site.path("run", "kahua-spvr.pid"), "w") as f:
            f.write(str(sim.pid))
    # Let the stuck supervisor finish so the simulator can stop.
    os.kill(before[0]["pid"], signal.SIGKILL)
    wait_for(lambda: sim.counts() == {"hello": 2, "leaky": 1}, 10, "types whole again")


def test_http_500(tmp):
    site, sim = start(tmp, ["http-500"])
    before = sim.ls()
    res = run(FAST + ["--retries", "1", "--retry-delay", "0.1"], site)
    check(res.rc == 1, res)
    check("status 500" in one_line(res), res)
    same_workers(before, sim.ls())


def test_http_slower_than_timeout(tmp):
    site, sim = start(tmp, ["http-delay=3000"])
    before = sim.ls()
    res = run(FAST + ["--http-timeout", "0.5", "--retries", "0"], site)
    check(res.rc == 1, res)
    check("Timeout" in one_line(res) or "timed out" in res.err, res)
    check(res.secs < 10, "took %.1fs" % res.secs)
    same_workers(before, sim.ls())


def test_surge_kills_stuck_old_worker_after_verification(tmp):
    site, sim = start(tmp, ["ignore-term"])
    before = sim.ls()
    res = run(FAST + ["--strategy", "surge", "--kill-after", "0.5"], site)
    check(res.rc == 0, res)
    check(res.err.count("sent SIGKILL") == 3, res.err)
    after = sim.ls()
    same_workers(before, after)
    check(not any(alive(w["pid"]) for w in before), "an old worker survived")
