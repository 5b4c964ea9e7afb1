"""Issue: restart policies and safety.  Surge, thresholds, top-up,
dry run, lock, signals, limits.  Every test checks that no worker was lost."""

import fcntl
import os
import signal
import subprocess
import threading
import time

from harness import (BIN, WRAP, Sim, Site, check, one_line, run, same_workers, wait_for)


def start(tmp, **kw):
    site = Site(tmp, types=kw.pop("types", None) or [("hello", [], 2), ("leaky", ["--leak-mb", "5"], 1)])
    return site, Sim(site, **kw)


class CountWatcher(threading.Thread):
    """Polls ls during a run and keeps the smallest count seen per type."""

    def __init__(self, sim):
        super().__init__(daemon=True)
        self.sim, self.low, self.halt, self.samples = sim, {}, False, 0

    def run(self):
        while not self.halt:
            try:
                c = self.sim.counts()
            except Exception:
                continue
            self.samples += 1
            for t in set(self.low) | set(c):
                self.low[t] = min(self.low.get(t, 99), c.get(t, 0))
            time.sleep(0.01)

    def stop(self):
        self.halt = True
        self.join(5)


def test_surge_never_has_fewer_workers(tmp):
    site, sim = start(tmp, worker_delay=200)
    before = sim.ls()
    watch = CountWatcher(sim)
    watch.start()
    res = run(["--strategy", "surge"], site)
    watch.stop()
    check(res.rc == 0, res)
    after = sim.ls()
    same_workers(before, after)
    check(not {w["pid"] for w in before} & {w["pid"] for w in after}, "not restarted")
    # ls waits on the supervisor lock during each run command, so samples
    # fall between commands: exactly the states a client can observe.
    check(watch.samples >= 3, "too few samples: %d" % watch.samples)
    check(watch.low == {"hello": 2, "leaky": 1}, "a type ran short: %r" % watch.low)


def test_rolling_keeps_every_type_serving(tmp):
    site, sim = start(tmp, worker_delay=200)
    watch = CountWatcher(sim)
    watch.start()
    res = run([], site)
    watch.stop()
    check(res.rc == 0, res)
    # One hello may be down at a time, never both.
    check(watch.low.get("hello", 0) >= 1, "hello had no worker: %r" % watch.low)


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
    time.sleep(2.2)
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


def test_memory_pss_named_in_status(tmp):
    site, sim = start(tmp)
    res = run(["status", "--memory", "pss"], site)
    check(res.rc == 0, res)
    check(res.out.split()[4] == "PSS", res.out)
    rep = run(["status", "--memory", "pss", "--json"], site).json()
    check(rep["metric"] == "pss" and all(w["pss_bytes"] for w in rep["workers_before"]), rep)


def test_top_up_short_type(tmp):
    site, sim = start(tmp)
    ws = sim.ls()
    hello = [w for w in ws if w["type"] == "hello"]
    sim.call("(kill %d)" % hello[0]["wno"])
    check(sim.counts() == {"hello": 1, "leaky": 1}, "kill failed")
    res = run(["--no-top-up", "restart", "leaky"], site)
    check(res.rc == 0, res)
    check("hello: 1 of 2" in one_line(res), res)
    check(sim.counts()["hello"] == 1, "--no-top-up topped up")
    res = run(["restart", "leaky"], site)
    check(res.rc == 0, res)
    check("topping up" in res.err, res)
    check(sim.counts() == {"hello": 2, "leaky": 1}, "not topped up: %r" % sim.counts())


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
