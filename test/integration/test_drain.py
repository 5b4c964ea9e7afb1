"""Draining a worker before it is terminated: under load, rolling and
surge lose no request and every step reports drained; a worker busy past
--drain-timeout is terminated anyway, finishes its request, and the step
says drained false; --settle is still accepted."""

import os
import socket
import threading
import time

from harness import Sim, Site, check, run, same_workers, wait_for

RATE = 40.0          # requests/s through the HTTP front
HELLO = [("hello", [], 2)]
# Pages as slow as a loaded Kahua worker's, so that the requests released
# after each boot queue on the workers and there is something to drain.
LOADED = ["--request-ms", "10"]


def http_get(port, path, timeout=5.0):
    """"ok" for a complete 200 response, else what went wrong."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.settimeout(timeout)
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                   % path).encode())
        buf = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            buf += b
        s.close()
    except OSError as e:
        return "conn: %s" % e
    line = buf.split(b"\r\n", 1)[0].split()
    return "ok" if len(line) > 1 and line[1] == b"200" else "http %r" % buf[:40]


class Load:
    """Requests at RATE per second on their own threads until stopped."""

    def __init__(self, port, path="/hello/"):
        self.port, self.path = port, path
        self.results, self.threads, self.halt = [], [], False
        self.sched = threading.Thread(target=self._run, daemon=True)
        self.sched.start()

    def _one(self):
        self.results.append(http_get(self.port, self.path))

    def _run(self):
        t0 = time.monotonic()
        i = 0
        while not self.halt:
            i += 1
            time.sleep(max(0.0, t0 + i / RATE - time.monotonic()))
            t = threading.Thread(target=self._one, daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.halt = True
        self.sched.join()
        for t in self.threads:
            t.join(30)
        return [r for r in self.results if r != "ok"], len(self.results)


def restart_under_load(tmp, strategy, runs):
    site = Site(tmp, types=HELLO)
    sim = Sim(site, worker_delay=300, extra=LOADED)
    before = sim.ls()
    load = Load(sim.port)
    wait_for(lambda: load.results.count("ok") >= 5, 30, "the load to be served")
    reports = []
    for _ in range(runs):
        # The drain needs a quiet moment; on a machine loaded many times
        # over its cores one can take longer than the default 5 s to come.
        res = run(["--json", "--strategy", strategy, "--drain-timeout", "30", "restart"], site)
        check(res.rc == 0, res)
        reports.append(res.json())
    failed, n = load.stop()
    check(n > 0, "no load was sent")
    check(failed == [], "%d of %d requests failed: %r" % (len(failed), n, failed[:5]))
    for rep in reports:
        check(len(rep["restarts"]) == 2, rep["restarts"])
        for s in rep["restarts"]:
            check(s["result"] == "ok", s)
            check(s["drained"] is True, "step not drained: %r" % s)
            check(isinstance(s["drain_ms"], (int, float)) and s["drain_ms"] >= 0, s)
    same_workers(before, sim.ls())
    sim.stop()


def test_rolling_under_load_loses_nothing(tmp):
    restart_under_load(tmp, "rolling", 3)


def test_surge_under_load_loses_nothing(tmp):
    restart_under_load(tmp, "surge", 2)


def worker_request(sockpath, out):
    """A page request straight to a worker socket, as kahua-httpd sends it."""
    req = (b'(("x-kahua-worker" "slow") ("x-kahua-path-info" ("slow")) '
           b'("x-kahua-metavariables" (("REQUEST_METHOD" "GET") ("PATH_INFO" "/slow"))))()')
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(sockpath)
    s.sendall(req)
    buf = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        buf += b
    s.close()
    out.append(buf)


def serving(wid):
    """A connection accepted on the worker's socket (/proc/net/unix state 03)."""
    with open("/proc/net/unix") as f:
        return any(l.split()[5:6] == ["03"] and l.rstrip().endswith("/" + wid) for l in f)


def test_busy_worker_past_the_limit_is_not_drained(tmp):
    """A request longer than --drain-timeout (by far: the run must start
    and begin draining while it is still in flight, however loaded the
    machine is): the worker is terminated anyway, finishes that request
    (signals are blocked while it serves), and the step says drained
    false."""
    site = Site(tmp, types=[("slow", ["--request-ms", "3000"], 1)])
    sim = Sim(site)
    before = sim.ls()
    wid = before[0]["wid"]
    got = []
    t = threading.Thread(target=worker_request, args=(os.path.join(sim.sockdir, wid), got))
    t.start()
    wait_for(lambda: serving(wid), 30, "the worker to take the request")
    # --no-eval: asking the worker what it holds waits for its turn after
    # the request in flight (Kahua serves one at a time), and so would
    # let that request end before the drain began.
    res = run(["-v", "--json", "--drain-timeout", "0.3", "--no-http-check", "--no-eval",
               "restart", wid], site)
    t.join(30)
    check(res.rc == 0, res)
    step = res.json()["restarts"][0]
    check(step["drained"] is False, step)
    check(step["drain_ms"] >= 300, "gave up before its limit: %r" % step)
    check("not drained" in res.err and wid in res.err, res.err)
    check(len(got) == 1 and b'"x-kahua-worker" "slow"' in got[0] and b"slow" in got[0].split(b"\n", 1)[1],
          "the request in flight did not complete: %r" % got)
    same_workers(before, sim.ls())
    sim.stop()


def test_settle_is_an_alias_of_drain_timeout(tmp):
    site = Site(tmp, types=HELLO)
    sim = Sim(site)
    res = run(["--settle", "0.2", "--print-config"], site)
    check(res.rc == 0, res)
    line = [l for l in res.out.splitlines() if l.startswith("drain-timeout")]
    check(line and "0.2" in line[0] and "command line" in line[0], res.out)
    check(not any(l.startswith("settle") for l in res.out.splitlines()), res.out)
    res = run(["--json", "--settle", "2", "--no-http-check"], site, env={"KAHUA_RESTARTER_SETTLE": "1"})
    check(res.rc == 0, res)
    steps = res.json()["restarts"]
    check(len(steps) == 2 and all(s["drained"] is True for s in steps), steps)
    sim.stop()


def test_drain_off_reports_not_drained(tmp):
    site = Site(tmp, types=HELLO)
    sim = Sim(site)
    res = run(["--json", "--drain-timeout", "0", "--no-http-check"], site)
    check(res.rc == 0, res)
    steps = res.json()["restarts"]
    check(all(s["drained"] is False and s["drain_ms"] == 0 for s in steps), steps)
    sim.stop()


def test_drains_with_socket_paths_longer_than_sun_path(tmp):
    deep = os.path.join(tmp, *(["a-rather-long-directory-name"] * 5))
    os.makedirs(deep)
    site = Site(deep, types=HELLO)
    check(len(site.path("socket", "kahua")) > 108, "path not long enough")
    sim = Sim(site, worker_delay=300, extra=LOADED)
    load = Load(sim.port)
    wait_for(lambda: load.results.count("ok") >= 5, 30, "the load to be served")
    res = run(["--json", "-v", "--drain-timeout", "30"], site)
    failed, n = load.stop()
    check(res.rc == 0, res)
    steps = res.json()["restarts"]
    check(all(s["drained"] is True for s in steps), "%r %s" % (steps, res.err))
    check(failed == [], "%d of %d requests failed: %r" % (len(failed), n, failed[:5]))
    sim.stop()


def test_drain_is_not_fooled_by_another_site_bound_alike(tmp):
    # Two bundles too deep for sun_path: both supervisors listen on
    # /proc/self/fd/N/kahua, the same text in /proc/net/unix.  A busy
    # other site must not keep this one from draining.
    sites = []
    for name in ("one", "two"):
        deep = os.path.join(tmp, name, *(["a-rather-long-directory-name"] * 5))
        os.makedirs(deep)
        sites.append(Site(deep, types=HELLO))
    idle = Sim(sites[0])
    busy = Sim(sites[1], extra=["--request-ms", "100"])
    load = Load(busy.port)
    try:
        wait_for(lambda: load.results.count("ok") >= 5, 30, "the other site to get busy")
        res = run(["--json", "--drain-timeout", "2", "--no-http-check"], sites[0])
    finally:
        failed, n = load.stop()
    check(res.rc == 0, res)
    steps = res.json()["restarts"]
    check(len(steps) == 2 and all(s["drained"] is True for s in steps), steps)
    check(failed == [], "%d of %d requests failed: %r" % (len(failed), n, failed[:5]))
    idle.stop()
    busy.stop()


