"""Real Kahua's own failure modes: a worker killed with SIGKILL stays
listed and fails every request it gets; a bad deploy registers "ERROR
loading module" entries.  restart heals the first and stops at the
second, quoting the load error from kahua-spvr.log.

Kahua keeps for good an entry whose kill met the worker's exit (its
main loop reaped it meanwhile: "kill failed: No such process"); only a
new kahua-spvr clears it.  Where that race struck, the test restarts the
site so the next one starts whole."""

import os
import re
import signal
import time

from harness import check, one_line, run
from kahua import alive

FAST = ["--worker-timeout", "10", "--timeout", "120"]


def warnings(res):
    return [l for l in res.err.splitlines() if l.startswith("kahua-restarter: warning: ")]


def failing(site):
    return [w for w in site.ls()
            if w["pid"] is None or not alive(w["pid"]) or not re.fullmatch(r"[0-9a-z]+:[0-9a-z]+", w["wid"])]


def kept_for_good(site, line):
    """The kill race struck: say so, and give the next test a whole site."""
    if "would not remove" not in line:
        return False
    site.stop()
    site.start()
    return True


class BadDeploy:
    """app/hello/hello.kahua without its last list's closing line, restored after."""

    def __init__(self, site):
        self.path = site.path("app", "hello", "hello.kahua")
        with open(self.path) as f:
            self.good = f.read()
        lines = self.good.splitlines(True)
        # Drop the line that closes the define-entry form: EOF inside a list.
        cut = max(i for i, l in enumerate(lines) if l.rstrip().endswith("))))"))
        with open(self.path, "w") as f:
            f.write("".join(lines[:cut] + lines[cut + 1:]))

    def restore(self):
        with open(self.path, "w") as f:
            f.write(self.good)


def test_killed_worker_is_healed(site, tmp):
    leaky = next(w for w in site.ls() if w["type"] == "leaky")
    os.kill(leaky["pid"], signal.SIGKILL)
    end = time.monotonic() + 10
    while alive(leaky["pid"]) and time.monotonic() < end:
        time.sleep(0.05)
    statuses = [site.http_status("/leaky/") for _ in range(3)]
    check(all(s == 500 for s in statuses), "the dead entry answered %r" % statuses)
    res = run(["check"], site)
    check(res.rc == 1 and ("worker %d (leaky) is dead" % leaky["wno"]) in one_line(res), res)
    res = run(FAST + ["--json"], site)
    check(res.rc == 0, res)
    warn = warnings(res)
    check(len(warn) == 1 and len(res.err.splitlines()) == 1, res.err)
    check(re.fullmatch(r"kahua-restarter: warning: worker %d \(leaky\) had died \(.+\) and still "
                       r"received requests: removed; leaky back to 1 of 1" % leaky["wno"], warn[0]), warn)
    h = res.json()["healed"]
    check([(x["number"], x["state"], x["removed"]) for x in h] == [(leaky["wno"], "dead", True)], h)
    check(failing(site) == [], failing(site))
    site.wait_whole(5)
    for path in ("/hello/", "/hello/", "/leaky/", "/wiki/"):
        check(site.http_status(path) == 200, "%s does not answer 200 after healing" % path)


def test_bad_deploy_stops_rolling(site, tmp):
    before = site.ls()
    bad = BadDeploy(site)
    try:
        res = run(FAST + ["--json"], site)
    finally:
        bad.restore()
    check(res.rc == 1, res)
    line = one_line(res)
    check(site.path("logs", "kahua-spvr.log") in line and "*** READ-ERROR: Read error at \"%s\"" % bad.path
          in line and "EOF inside a list" in line, line)
    check("hello is one short (1 of 2 workers), not topped up" in line, line)
    if kept_for_good(site, line):
        return
    check(failing(site) == [], "broken entries left: %r" % failing(site))
    check(sum(1 for w in site.ls() if w["type"] == "hello") == 1, site.ls())
    check(site.http_status("/hello/") == 200, "no hello serves")
    # The rest was not touched after the failure.
    rep = res.json()
    check(rep["restarts"][-1]["result"] == "planned" and len(rep["restarts"]) == len(before), rep["restarts"])
    # The code fixed, the next run tops hello up again.
    res = run(FAST, site)
    check(res.rc == 0 and "hello: 1 of 2 workers running; topping up" in res.err, res)
    site.wait_whole(5)


def test_bad_deploy_surge_leaves_the_type_untouched(site, tmp):
    before = site.ls()
    bad = BadDeploy(site)
    try:
        res = run(FAST + ["--strategy", "surge"], site)
    finally:
        bad.restore()
    check(res.rc == 1, res)
    line = one_line(res)
    check("a new hello worker did not come up" in line and "nothing lost" in line
          and "EOF inside a list" in line, line)
    if kept_for_good(site, line):
        return
    check(site.ls() == before, "surge changed the table: %r -> %r" % (before, site.ls()))


def test_ten_rolling_restarts_under_load_end_whole(site, tmp):
    """About 50 requests/s (ten clients at 5/s each, so a request held on
    the supervisor's lock does not slow the rest) while ten rolling
    restarts run: Kahua loses some restarts to its waitpid race there;
    each run must still exit 0 with every type at :run-by-default."""
    import threading
    import urllib.error
    import urllib.request

    stop, results, done, spans = threading.Event(), [], [], []

    def client(k):
        t0, i = time.monotonic(), 0
        while not stop.is_set():
            path = ("/hello/", "/leaky/", "/wiki/", "/hello/")[(i + k) % 4]
            try:
                with urllib.request.urlopen(site.url(path), timeout=5) as r:
                    results.append(r.status)
            except urllib.error.HTTPError as e:
                results.append(e.code)
            except OSError:
                results.append(0)
            done.append(time.monotonic())
            i += 1
            time.sleep(max(0.0, t0 + i / 5.0 - time.monotonic()))

    clients = [threading.Thread(target=client, args=(k,)) for k in range(10)]
    for c in clients:
        c.start()
    t0, races = time.monotonic(), 0
    try:
        for n in range(10):
            t = time.monotonic()
            res = run(FAST, site)
            spans.append((t, time.monotonic()))
            check(res.rc == 0, "run %d: %r" % (n + 1, res))
            check(all("started no replacement" in l for l in warnings(res)), res.err)
            races += len(warnings(res))
            check(site.whole(), "run %d left %r" % (n + 1, site.ls()))
    finally:
        stop.set()
        for c in clients:
            c.join()
    rate = len(results) / (time.monotonic() - t0)
    print("    %d requests at %.0f/s: %d ok, %d failed; %d restart race(s) recovered"
          % (len(results), rate, results.count(200), len(results) - results.count(200), races))
    # Under load means requests answered while each restart ran, however
    # fast the machine serves them (a loaded machine may serve far fewer
    # than the 50/s asked for).
    during = [sum(1 for d in done if a <= d <= b) for a, b in spans]
    check(min(during) >= 10, "too few requests answered during some run: %r" % during)
