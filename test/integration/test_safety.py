"""Safety: dry run, the site lock, signals, the whole-run time limit and
the splay.  Every test checks that no worker was lost."""

import fcntl
import os
import signal
import subprocess
import threading

from harness import (BIN, WRAP, check, one_line, run, same_workers, wait_for, start)


def test_dry_run_sends_nothing_but_ls(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    res = run(["-n"], site)
    check(res.rc == 0, res)
    check(res.out.startswith("plan: 3 of 3 workers, strategy rolling"), res.out)
    for w in before:
        check("pid %d" % w["pid"] in res.out, res.out)
    check(sim.ls() == before, "dry run changed workers")
    log = open(site.path("logs", "kahua-spvr.log")).read() if os.path.exists(site.path("logs", "kahua-spvr.log")) else ""
    check("restart" not in log.split("ready", 1)[-1] or "(restart" not in log, "dry run sent restart")
    check(not site.history(), "dry run wrote history")


def test_lock_held_by_another_run(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    fd = os.open(site.path("run", "kahua-restarter.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"4242\n")
    try:
        res = run([], site)
        check(res.rc == 75, res)
        check("4242" in one_line(res) and "kahua-restarter.lock" in res.err, res)
        res = run(["--wait-lock", "1"], site)
        check(res.rc == 75 and res.secs >= 0.9, res)
        threading.Timer(0.7, lambda: fcntl.flock(fd, fcntl.LOCK_UN)).start()
        res = run(["--wait-lock", "5"], site)
        check(res.rc == 0, res)
    finally:
        os.close(fd)
    same_workers(before, sim.ls())


def test_lock_refuses_symlink(tmp):
    site, sim = start(tmp)
    target = os.path.join(tmp, "victim")
    open(target, "w").write("keep me\n")
    os.symlink(target, site.path("run", "kahua-restarter.lock"))
    res = run([], site)
    check(res.rc == 73, res)
    check("kahua-restarter.lock" in one_line(res), res)
    check(open(target).read() == "keep me\n", "symlink target touched")


def test_sigterm_during_rollout_leaves_types_whole(tmp):
    site, sim = start(tmp, worker_delay=400)
    before = sim.ls()
    env = dict(os.environ, OT_SITE=site.root)
    p = subprocess.Popen(WRAP + [BIN, "-v"], env=env, stderr=subprocess.PIPE, text=True)
    # Wait for the first restart to be under way, then ask it to stop.
    line = ""
    while "restarting worker" not in line:
        line = p.stderr.readline()
        check(line != "", "the run ended before restarting a worker")
    p.send_signal(signal.SIGTERM)
    err = line + p.stderr.read()
    rc = p.wait(30)
    check(rc == 128 + signal.SIGTERM, "rc %d %s" % (rc, err))
    check("stopped by signal 15 after 1 of 3 workers" in err, err)
    after = sim.ls()
    same_workers(before, after)
    kept = {w["wid"] for w in before} & {w["wid"] for w in after}
    check(len(kept) == 2, "expected exactly one worker restarted: %r" % kept)


def test_whole_run_timeout(tmp):
    site, sim = start(tmp, worker_delay=800)
    before = sim.ls()
    res = run(["--timeout", "1"], site)
    check(res.rc == 69, res)
    check(res.secs < 5, "ran %.1fs past a 1 s limit" % res.secs)
    one_line(res)
    wait_for(lambda: sim.counts() == {"hello": 2, "leaky": 1}, 10, "types whole again")
    same_workers(before, sim.ls())


def test_splay_sleeps_then_runs(tmp):
    site, sim = start(tmp)
    res = run(["--splay", "0.5", "-v"], site)
    check(res.rc == 0, res)
    check("splay: sleeping" in res.err, res.err)


def test_signal_during_splay_restarts_nothing(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    env = dict(os.environ, OT_SITE=site.root)
    p = subprocess.Popen(WRAP + [BIN, "--splay", "60", "-v"], env=env, stderr=subprocess.PIPE,
                         text=True)
    line = p.stderr.readline()
    check("splay: sleeping" in line, line)
    p.send_signal(signal.SIGINT)
    err = line + p.stderr.read()
    rc = p.wait(10)
    check(rc == 128 + signal.SIGINT, "rc %d %s" % (rc, err))
    check("stopped by signal 2 before restarting anything" in err, err)
    check(sim.ls() == before, "workers changed")
