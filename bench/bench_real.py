#!/usr/bin/env python3
"""Benchmark 6: on a real Kahua, when one is at hand ($KAHUA_PREFIX, else
/opt/kahua, /usr/local, /usr; test/real/kahua.py finds and runs it):
kahua-restarter side by side with Kahua's own kahua-admin in the same run,
for listing the workers and restarting every worker, and the site's
availability under 20 and 50 requests/s during a restart per strategy."""

import os
import signal
import sys
import time

import common as c
from bench_avail import Outcome, describe, fmt_kinds
from loadgen import Load

sys.path.insert(0, os.path.join(c.TOP, "test", "real"))
import kahua  # noqa: E402

RATES = [20.0, 50.0]
CLIENT_TIMEOUT = 2.0
LEAD = 1.0
TAIL = 1.0
RESTART_LIMIT = 120.0
# Pages that keep nothing per request: GET /leaky/ would grow the leaky
# worker 5 MiB a time, GET /wiki/ registers 100 continuations of 8 KiB.
PATHS = ["/hello/", "/leaky/ping"]
METHODS = ["kahua-admin 'restart *'", "rolling", "rolling --drain-timeout 0", "surge", "all"]


class Lab:
    """The benchmark's private site, replaced when a run leaves it broken."""

    def __init__(self, prefix, tmp):
        self.prefix, self.tmp, self.n, self.site = prefix, tmp, 0, None
        self.admin = os.path.join(prefix, "bin", "kahua-admin")
        self.replaced = []
        self.fresh()

    def fresh(self):
        if self.site is not None:
            self.site.stop()
        self.n += 1
        self.site = kahua.RealSite(self.prefix, self.tmp, name="bench%d" % self.n).start()
        self.nworkers = sum(self.site.want.values())

    def env(self):
        e = c.clean_env()
        e["PATH"] = self.site.env["PATH"]
        return e

    def admin_cmd(self, *words):
        return [self.admin, "-S", self.site.root] + list(words)

    def method(self, method, timeout=RESTART_LIMIT):
        """One restart of every worker; (Measured, why it failed or None)."""
        before = self.site.ls()
        if method.startswith("kahua-admin"):
            m = c.measure(self.admin_cmd("restart *"), timeout=timeout, env=self.env())
            ok = m.ok and "ERROR" not in m.out + m.err
        else:
            m = c.measure([c.BIN, "-S", self.site.root] + c.strategy_args(method) + ["restart"],
                          timeout=timeout)
            ok = m.ok
        why = None if ok else "exit %s: %s" % (m.status, (m.err or m.out).strip()[-300:])
        return m, why, before

    def whole_after(self, before, why):
        """Leave the site whole (fresh if need be); add what was wrong to why."""
        try:
            after = self.site.wait_whole(10)
        except Exception as e:  # noqa: BLE001  (not whole: start a fresh site)
            self.replaced.append(str(e)[:200])
            c.log("real: site not whole, starting a fresh one: %s" % str(e)[:200])
            self.fresh()
            return (why + "; " if why else "") + "site not whole afterwards"
        if {w["wid"] for w in before} & {w["wid"] for w in after}:
            return (why + "; " if why else "") + "not every worker replaced"
        return why


def bench_status(lab, runs, sec):
    t = c.Table(["command", "runs", "wall median ms", "wall p95 ms", "CPU median ms",
                 "max RSS MiB", "failed"], align=list("lrrrrrr"))
    cmds = [("kahua-admin -S SITE ls", lab.admin_cmd("ls"), lab.env()),
            ("kahua-restarter -S SITE status", [c.BIN, "-S", lab.site.root, "status"], None),
            ("kahua-restarter -S SITE status --memory pss",
             [c.BIN, "-S", lab.site.root, "status", "--memory", "pss"], None)]
    res = {name: [] for name, _, _ in cmds}
    for i in range(runs + 1):
        for name, argv, env in cmds:
            m = c.measure(argv, env=env)
            if i:                     # the first round warms caches
                res[name].append(m)
    for name, _, _ in cmds:
        ms_ = res[name]
        good = [m for m in ms_ if m.ok and len(m.out.strip().splitlines()) >= lab.nworkers]
        walls = [m.wall for m in good]
        sec.facts[name] = c.median(walls)
        t.add(name, len(ms_), c.ms(c.median(walls)), c.ms(c.pct(walls, 95)),
              c.ms(c.median([m.cpu for m in good])),
              c.mib_from_kb(max((m.maxrss_kb for m in good), default=0)), len(ms_) - len(good))
    return t


def bench_restart(lab, rounds):
    t = c.Table(["method", "runs", "median s", "min s", "max s", "vs kahua-admin",
                 "CPU median ms", "max RSS MiB", "failed"], align=list("lrrrrrrrr"))
    res = {m: [] for m in METHODS}
    fails = {m: [] for m in METHODS}
    for rnd in range(rounds):
        order = METHODS[rnd % len(METHODS):] + METHODS[:rnd % len(METHODS)]
        for method in order:
            time.sleep(0.5)
            m, why, before = lab.method(method)
            why = lab.whole_after(before, why)
            if why:
                fails[method].append(why)
                c.log("real restart: %s failed: %s" % (method, why))
            else:
                res[method].append(m)
        c.log("real restart: round %d/%d done" % (rnd + 1, rounds))
    base = c.median([m.wall for m in res[METHODS[0]]])
    for method in METHODS:
        walls = [m.wall for m in res[method]]
        med = c.median(walls)
        t.add(method, len(walls) + len(fails[method]), c.s3(med),
              c.s3(min(walls, default=float("nan"))), c.s3(max(walls, default=float("nan"))),
              "-" if method == METHODS[0] else "%+.1f%%" % (100.0 * (med - base) / base),
              c.ms(c.median([m.cpu for m in res[method]])),
              c.mib_from_kb(max((m.maxrss_kb for m in res[method]), default=0)),
              len(fails[method]))
    return t, fails


def avail_one(lab, method, rate):
    load = Load(lab.site.port, PATHS, rate=rate, timeout=CLIENT_TIMEOUT,
                max_requests=int(rate * (LEAD + RESTART_LIMIT + TAIL)) + 1)
    t0 = load.start()
    time.sleep(max(0.0, t0 + LEAD - time.monotonic()))
    r0 = time.monotonic()
    m, why, before = lab.method(method)
    r1 = time.monotonic()
    load.stop(r1 + TAIL)
    reqs = load.join()
    why = lab.whole_after(before, why)
    return Outcome(reqs, r1 - r0, why)


def bench_avail(lab, reps):
    summary = c.Table(["req/s", "method", "runs", "restart s", "requests",
                       "failed (5xx/timeout/conn/other)", "gap done med/max s",
                       "latency p50 ms", "p99 ms", "max ms", "restart failed"],
                      align=list("llrrrrrrrrr"))
    detail = c.Table(["req/s", "method", "run", "restart s", "requests", "failed",
                      "gap done s", "p99 ms", "restart error"], align=list("llrrrlrrl"))
    for rate in RATES:
        outs = {m: [] for m in METHODS}
        for rep in range(reps):
            order = METHODS[rep % len(METHODS):] + METHODS[:rep % len(METHODS)]
            for method in order:
                time.sleep(1.0)
                o = avail_one(lab, method, rate)
                outs[method].append(o)
                c.log("real availability: %g req/s, %s run %d: %d requests, %d failed, gap %.2f s%s"
                      % (rate, method, rep + 1, o.n, len(o.failed), o.gap_done,
                         ", " + o.why if o.why else ""))
        for method in METHODS:
            os_ = outs[method]
            kinds = {"5xx": 0, "timeout": 0, "conn": 0, "other": 0}
            for o in os_:
                for k, v in o.kinds().items():
                    kinds[k] += v
            lat = [x for o in os_ for x in o.lat]
            gd = [o.gap_done for o in os_]
            summary.add("%g" % rate, method, len(os_), c.s3(c.median([o.restart_secs for o in os_])),
                        sum(o.n for o in os_), "%d (%s)" % (sum(kinds.values()), fmt_kinds(kinds)),
                        "%.2f / %.2f" % (c.median(gd), max(gd)),
                        c.ms(c.pct(lat, 50), 0), c.ms(c.pct(lat, 99), 0),
                        c.ms(max(lat, default=float("nan")), 0), sum(1 for o in os_ if o.why))
            for i, o in enumerate(os_):
                detail.add("%g" % rate, method, i + 1, c.s3(o.restart_secs), o.n,
                           "%d: %s" % (len(o.failed), describe(o.failed)), "%.2f" % o.gap_done,
                           c.ms(c.pct(o.lat, 99), 0), short(o.why))
    return summary, detail


def short(why, limit=160):
    """A failed run's reason, cut to fit a table cell."""
    if not why:
        return ""
    why = why.replace("|", "/").replace("\n", " ")
    return why if len(why) <= limit else why[:limit] + "..."


def run(quick=False):
    sec = c.Section("6. real Kahua: kahua-restarter beside kahua-admin")
    try:
        prefix, why = kahua.find_prefix()
    except SystemExit as e:
        prefix, why = None, str(e)
    if prefix is None:
        sec.text("Skipped: %s. Set KAHUA_PREFIX=/path/to/kahua (bin/kahua-spvr, bin/gosh) "
                 "to run it." % why)
        c.log("real: skipped: %s" % why)
        sec.skipped = True
        return sec
    status_runs, rounds, reps = (3, 1, 1) if quick else (10, 3, 2)
    # Terminated from outside: still stop the Kahua site started here.
    old_term = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    d = c.harness.tempdir()
    lab = None
    try:
        lab = Lab(prefix, d)
        version = lab.site.call("(version)").split("\n")[1].strip()
        sec.text(
            "Measured %s on a real Kahua %s (installation %s, built by "
            "../shared/kahua-lab/build.sh on the machine above) with a private site "
            "from test/real/site: hello x2, leaky x1, wiki x1 (4 gosh workers), HTTP "
            "on 127.0.0.1, started fresh for this benchmark (and again whenever a "
            "run left it with a type short or a dead entry; counted below). "
            "kahua-admin is Kahua's own client (a gosh process); both tools run "
            "interleaved in the same run, each forked by the benchmark's 1 MB C "
            "helper (wall = fork to reap, max RSS = the tool's own)."
            % (time.strftime("%Y-%m-%d %H:%M %Z"), version, prefix))
        m = dict(c.machine())
        sec.text("Machine: " + "; ".join("%s %s" % kv for kv in c.machine()[:5])
                 + "; program %s; load average %s at start." % (m.get("program", "?"), c.loadavg()))
        c.log("real: status")
        sec.text("**Listing the workers**, %d runs each after one warm-up round:" % status_runs)
        sec.table(bench_status(lab, status_runs, sec))
        c.log("real: restart")
        t, fails = bench_restart(lab, rounds)
        sec.text(
            "**Restarting every worker** (4), idle site, %d round(s), methods "
            "interleaved: `kahua-admin -S SITE 'restart *'` (Kahua's synchronous "
            "restart of all workers, gosh start-up included) versus `kahua-restarter "
            "-S SITE --strategy S restart` with default settings (each replacement "
            "probed on its own socket, the site checked over HTTP, history written, "
            "rolling and surge draining each worker before it is terminated, "
            "`--drain-timeout 0` without draining). A run fails if "
            "the tool exits non-zero or the site is not whole afterwards." % rounds)
        sec.table(t)
        for method, whys in fails.items():
            for w in whys:
                sec.text("- %s failed: %s" % (method, short(w)))
        c.log("real: availability")
        summary, detail = bench_avail(lab, reps)
        sec.text(
            "**Availability during a restart** under open-loop load (bench/loadgen.py) "
            "of %s requests/s on kahua-httpd, alternating `/hello/` and `/leaky/ping` "
            "(new sessions that keep nothing), %g s client limit, load from %g s before "
            "the restart to %g s after; %d run(s) per method and rate. Definitions as "
            "in section 3; *restart failed*: the tool's exit status was not 0 or the "
            "site was not whole afterwards."
            % (" and ".join("%g" % r for r in RATES), CLIENT_TIMEOUT, LEAD, TAIL, reps))
        sec.table(summary)
        sec.text("Per run:")
        sec.table(detail)
        if lab.replaced:
            sec.text("Fresh sites started after a run left the site broken: %d."
                     % len(lab.replaced))
        sec.text("Load average %s at the end." % c.loadavg())
    finally:
        if lab is not None:
            lab.site.stop()
        c.harness.rmtree(d)
        signal.signal(signal.SIGTERM, old_term)
    return sec


if __name__ == "__main__":
    print(run("--quick" in sys.argv).markdown())
