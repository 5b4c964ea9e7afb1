#!/usr/bin/env python3
"""Curing without restarts: Kahua's own example wiki (wiki-iki x2 + login
x1, test/real/wikiiki.py) crawled like a search bot, with a reader beside
it, once per policy, on a real Kahua; time compressed by a factor F.

    python3 bench/bench_cure.py [--minutes M] [--factor F] [--rate R]
                                [--policies abcde] [--write]

The policies run CONCURRENTLY, each on its own site and port, each in a
child process of its own (--one POLICY), so that they share the machine's
load alike.  Per policy: sum of the workers' RSS (from /proc, every
--sample s), workers replaced, the bot's and the readers' requests by
outcome.  --write puts the table into bench/RESULTS.md (section "9.") and
the chart into doc/cure-rss.svg and doc/cure-rss.png (rsvg-convert).

Time compression: the site's :timeout-mins is 60/F and a policy's "hour"
is 3600/F s of wall time, its "5 minutes" 300/F s.  The request rate and
the readers' pauses are NOT compressed (a compressed hour holds F times
fewer page views than a real hour at the same rate), and a sweep's age
can not go below the program's minimum of 60 s.

Standard library only; all traffic to 127.0.0.1; every loop ends by the
run's deadline."""

import argparse
import collections
import http.client
import importlib.util
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import common as c

# bench/run.py by its path: test/integration and test/real have a run.py too.
_spec = importlib.util.spec_from_file_location("bench_run", os.path.join(c.BENCH, "run.py"))
bench_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_run)

sys.path.insert(0, os.path.join(c.TOP, "test", "real"))
import kahua  # noqa: E402
import wikiiki  # noqa: E402

POLICIES = collections.OrderedDict([
    ("a", "nothing"),
    ("b", "kahua-admin 'restart *' hourly"),
    ("c", "kahua-restarter rolling hourly"),
    ("d", "kahua-restarter --min-rss hourly"),
    ("e", "sweep every 5 min + --min-rss hourly"),
])
HTTP_TIMEOUT = 10.0
CMD_TIMEOUT = 120.0
QUEUE_LIMIT = 50000
FORM_TAG = re.compile(r"<form[^>]*>")


# ------------------------------------------------------------------ HTTP

def get(port, path):
    """(outcome, status, body, location): outcome "ok" for 2xx/3xx, else
    "http NNN", "timeout" or "conn"; no redirect is followed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        r = conn.getresponse()
        body = r.read().decode(errors="replace")
        loc = r.getheader("Location")
        return ("ok" if r.status < 400 else "http %d" % r.status), r.status, body, loc
    except socket.timeout:
        return "timeout", None, "", None
    except (OSError, http.client.HTTPException) as e:
        return "conn: %s" % type(e).__name__, None, "", None
    finally:
        conn.close()


class Tally:
    """Outcomes of one client: ok, stale (404/503 on a continuation link),
    failed (any other error status, a timeout, a broken connection)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.n = collections.Counter()
        self.kinds = collections.Counter()

    def add(self, path, outcome, status):
        with self.lock:
            if outcome == "ok":
                self.n["ok"] += 1
            elif status in (404, 503) and wikiiki.is_cont(path):
                self.n["stale"] += 1
                self.kinds["stale %d" % status] += 1
            else:
                self.n["failed"] += 1
                self.kinds[outcome] += 1
            if wikiiki.is_cont(path):
                self.n["cont_links"] += 1

    def data(self):
        return {"ok": self.n["ok"], "stale": self.n["stale"], "failed": self.n["failed"],
                "cont_links": self.n["cont_links"], "kinds": dict(self.kinds)}


# ------------------------------------------------------------------ clients

def bot(port, rate, deadline, tally, halt):
    """Breadth-first over every same-site href, no cookies, at a fixed rate
    (request i due at t0 + i/rate); a round that runs out of links starts
    again from the top page, as a bot re-crawls."""
    t0 = time.monotonic()
    i = 0
    while not halt.is_set() and time.monotonic() < deadline:
        queue, seen = collections.deque(["/wiki-iki/"]), {"/wiki-iki/"}
        while queue and not halt.is_set():
            due = t0 + i / rate
            now = time.monotonic()
            if due >= deadline:
                return
            if due > now:
                time.sleep(due - now)
            i += 1
            path = queue.popleft()
            outcome, status, body, loc = get(port, path)
            tally.add(path, outcome, status)
            # hrefs only: a bot does not submit forms
            found = wikiiki.site_paths(FORM_TAG.sub("", body), port)
            if loc:
                found += [p for p in [wikiiki.to_path(loc, port)] if p]
            for p in found:
                if p not in seen and len(queue) < QUEUE_LIMIT:
                    seen.add(p)
                    queue.append(p)


def reader(port, pages, deadline, tally, halt, rnd):
    """Opens a page, reads it 5-30 s, follows its continuation link ([Edit]),
    reads that 5-30 s, and so on."""
    while not halt.is_set():
        path = "/wiki-iki/show-page/" + rnd.choice(pages)
        outcome, status, body, _ = get(port, path)
        tally.add(path, outcome, status)
        pause = rnd.uniform(5, 30)
        if time.monotonic() + pause >= deadline or halt.wait(pause):
            return
        if outcome != "ok":
            continue
        link = wikiiki.EDIT.search(body)
        if link:
            cont = wikiiki.to_path(link.group(1) or link.group(2), port)
            outcome, status, _, _ = get(port, cont)
            tally.add(cont, outcome, status)
        pause = rnd.uniform(5, 30)
        if time.monotonic() + pause >= deadline or halt.wait(pause):
            return


# ------------------------------------------------------------------ memory

def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def sampler(site, t0, every, deadline, samples, seen_wids, halt):
    while not halt.is_set() and time.monotonic() < deadline:
        try:
            ws = site.ls()
        except (OSError, kahua.TestFailure):
            ws = None
        if ws is not None:
            live = [w for w in ws if w["pid"]]
            samples.append((round(time.monotonic() - t0, 1),
                            sum(rss_kb(w["pid"]) for w in live), len(live)))
            seen_wids.update(w["wid"] for w in ws)
        halt.wait(every)


# ------------------------------------------------------------------ policies

class Policy:
    """Runs one policy's commands on its schedule and counts what they did."""

    def __init__(self, name, site, bin_path, hour, five, min_rss, sweep_age, log):
        self.name, self.site, self.bin = name, site, bin_path
        self.hour, self.five, self.min_rss, self.sweep_age = hour, five, min_rss, sweep_age
        self.log = log
        self.restarts = 0
        self.runs = collections.Counter()
        self.errors = []
        self.swept = 0

    def env(self):
        e = c.clean_env()
        e["PATH"] = self.site.env["PATH"]
        return e

    def cmd(self, argv, what):
        t = time.monotonic()
        before = {w["wid"] for w in self.site.ls()}
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=CMD_TIMEOUT,
                               env=self.env())
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            rc, out, err = None, "", "timed out after %gs" % CMD_TIMEOUT
        after = {w["wid"] for w in self.site.ls()}
        gone = len(before - after)
        self.restarts += gone
        self.runs[what] += 1
        if rc != 0 or "ERROR" in err:
            self.errors.append("%s: exit %s: %s" % (what, rc, (err or out).strip()[-300:]))
        self.log.write("%.1f %s rc=%s replaced=%d %.2fs %s\n"
                       % (t, what, rc, gone, time.monotonic() - t, err.strip()[-200:]))
        self.log.flush()
        return out

    def program(self, *args):
        return [self.bin, "-S", self.site.root, "--no-history"] + list(args)

    def hourly(self):
        admin = os.path.join(self.site.prefix, "bin", "kahua-admin")
        if self.name == "b":
            self.cmd([admin, "-S", self.site.root, "restart *"], "kahua-admin restart *")
        elif self.name == "c":
            self.cmd(self.program("restart"), "rolling restart")
        elif self.name in "de":
            self.cmd(self.program("--min-rss", self.min_rss, "restart"), "--min-rss restart")

    def every_five(self):
        if self.name != "e":
            return
        out = self.cmd(self.program("--json", "sweep", "--sweep-conts", "%ds" % self.sweep_age),
                       "sweep")
        try:
            rep = json.loads(out)
            self.swept += sum(w.get("swept_continuations") or 0 for w in rep.get("workers", []))
        except ValueError:
            pass

    def run(self, t0, deadline, halt):
        """Due times from t0: each 'hour' and each '5 minutes'; the commands
        of one due time run in turn (sweep first)."""
        events = sorted([(t0 + k * self.five, 0) for k in range(1, int((deadline - t0) / self.five) + 1)] +
                        [(t0 + k * self.hour, 1) for k in range(1, int((deadline - t0) / self.hour) + 1)])
        for due, kind in events:
            if halt.wait(max(0.0, due - time.monotonic())) or due >= deadline:
                return
            (self.every_five if kind == 0 else self.hourly)()


# ------------------------------------------------------------------ one policy

def run_one(a):
    """A child: one policy on its own site; writes OUT/POLICY.json."""
    prefix, why = kahua.find_prefix()
    if prefix is None:
        sys.exit("bench_cure: %s" % why)
    tmp = kahua.harness.tempdir()
    site = wikiiki.WikiIkiSite(prefix, tmp, name="cure-" + a.one,
                               timeout_mins=max(1, round(60 / a.factor)))
    result = {"policy": a.one, "what": POLICIES[a.one]}
    try:
        site.start()
        pages = [p for p in wikiiki.seed(site, a.pages) if p != wikiiki.WELCOME]
        # Seeding made a few continuations; start from freshly started workers.
        site.call("(restart *)", timeout=60)
        site.wait_whole(30)
        hour, five = 3600.0 / a.factor, 300.0 / a.factor
        log = open(os.path.join(a.out, a.one + ".log"), "w")
        pol = Policy(a.one, site, a.bin, hour, five, a.min_rss, a.sweep_age, log)
        halt = threading.Event()
        bot_t, read_t, samples, wids = Tally(), Tally(), [], set()
        t0 = time.monotonic()
        deadline = t0 + a.minutes * 60
        rnd = random.Random(7)
        threads = [threading.Thread(target=bot, args=(site.port, a.rate, deadline, bot_t, halt)),
                   threading.Thread(target=sampler, args=(site, t0, a.sample, deadline, samples,
                                                          wids, halt)),
                   threading.Thread(target=pol.run, args=(t0, deadline, halt))]
        threads += [threading.Thread(target=reader, args=(site.port, pages, deadline, read_t, halt,
                                                          random.Random(rnd.random())))
                    for _ in range(a.readers)]
        for t in threads:
            t.daemon = True
            t.start()
        for t in threads:
            t.join(max(1.0, deadline - time.monotonic() + CMD_TIMEOUT + HTTP_TIMEOUT + 30))
        halt.set()
        rss = [s[1] for s in samples]
        result.update({
            "factor": a.factor, "minutes": a.minutes, "rate": a.rate, "readers": a.readers,
            "timeout_mins": max(1, round(60 / a.factor)), "hour_s": hour, "five_s": five,
            "min_rss": a.min_rss, "sweep_age_s": a.sweep_age,
            "samples": samples, "peak_kb": max(rss) if rss else None,
            "mean_kb": sum(rss) / len(rss) if rss else None,
            "restarts": pol.restarts, "runs": dict(pol.runs), "errors": pol.errors,
            "swept": pol.swept, "workers_seen": len(wids),
            "bot": bot_t.data(), "reader": read_t.data(), "load_end": c.loadavg(),
            "stuck_threads": sum(t.is_alive() for t in threads),
        })
        log.close()
    except Exception as e:  # noqa: BLE001  (recorded, the driver reports it)
        result["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        try:
            site.stop()
        finally:
            kahua.harness.rmtree(tmp)
    with open(os.path.join(a.out, a.one + ".json"), "w") as f:
        json.dump(result, f)


# ------------------------------------------------------------------ driver

def mb(kb):
    return "%.0f" % (kb / 1024.0) if kb is not None else "-"


def table(results):
    t = c.Table(["policy", "peak RSS MB", "mean RSS MB", "restarts", "failed (bot+reader)",
                 "bot stale / cont links", "reader stale / cont links", "bot fetches",
                 "swept conts"])
    for r in results:
        if "error" in r:
            t.add(r["what"], *(["-"] * 7), r["error"][:80])
            continue
        b, rd = r["bot"], r["reader"]
        t.add(r["what"], mb(r["peak_kb"]), mb(r["mean_kb"]), r["restarts"],
              b["failed"] + rd["failed"], "%d / %d" % (b["stale"], b["cont_links"]),
              "%d / %d" % (rd["stale"], rd["cont_links"]), b["ok"] + b["stale"] + b["failed"],
              r["swept"] if r["policy"] == "e" else "-")
    return t


SHORT = {"a": "nothing", "b": "kahua-admin restart * hourly", "c": "rolling hourly",
         "d": "--min-rss hourly", "e": "sweep 5 min + --min-rss hourly"}
COLOURS = {"a": "#888888", "b": "#d62728", "c": "#ff7f0e", "d": "#9467bd", "e": "#2ca02c"}


def svg(results, factor):
    """RSS (sum of the workers') over time, one line per policy."""
    W, H, L, R, T, B = 960, 400, 60, 350, 40, 50
    runs = [r for r in results if r.get("samples")]
    tmax = max(s[0] for r in runs for s in r["samples"])
    ymax = max(s[1] for r in runs for s in r["samples"]) / 1024.0
    ystep = 50 if ymax < 600 else 100
    ytop = (int(ymax / ystep) + 1) * ystep
    hour = 3600.0 / factor

    def x(t):
        return L + (W - L - R) * t / tmax

    def y(v):
        return T + (H - T - B) * (1 - v / ytop)

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="20" font-size="14">Sum of the workers\' RSS, wiki-iki x2 + login '
           'under a crawler (time compressed %gx)</text>' % (L, factor)]
    for v in range(0, ytop + 1, ystep):
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>'
                   % (L, W - R, y(v), y(v)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%d</text>' % (L - 5, y(v) + 4, v))
    k = 0
    while k * hour <= tmax + 1:
        out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/>'
                   % (x(k * hour), x(k * hour), T, H - B))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%dh</text>'
                   % (x(k * hour), H - B + 15, k))
        k += 1
    out.append('<text x="%d" y="%d" text-anchor="middle">compressed hours (1 h = %.0f s of '
               'wall time)</text>' % ((L + W - R) / 2, H - 12, hour))
    out.append('<text x="15" y="%d" transform="rotate(-90 15 %d)" text-anchor="middle">MB'
               '</text>' % ((T + H - B) / 2, (T + H - B) / 2))
    for i, r in enumerate(runs):
        pts = " ".join("%.1f,%.1f" % (x(s[0]), y(s[1] / 1024.0)) for s in r["samples"])
        col = COLOURS.get(r["policy"], "black")
        out.append('<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>'
                   % (col, pts))
        ly = T + 10 + 20 * i
        out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="3"/>'
                   % (W - R + 10, W - R + 30, ly, ly, col))
        out.append('<text x="%d" y="%d">(%s) %s: peak %s MB</text>'
                   % (W - R + 35, ly + 4, r["policy"], SHORT[r["policy"]], mb(r["peak_kb"])))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def section(results, a, took, load0):
    s = c.Section(bench_run.CURE_TITLE + ": a crawler on Kahua's wiki-iki, per policy")
    r0 = next((r for r in results if "error" not in r), {})
    s.text("Kahua's own example wiki (`wiki-iki` x2 + `login` x1, installed with kahua-install, "
           "%d seeded pages of 30-60 lines; test/real/wikiiki.py) on a real Kahua, one site per "
           "policy, the %d policies run at the same time (each its own port, same load). Per "
           "site: a breadth-first bot over every same-site link, no cookies, %g requests/s; "
           "%d readers that open a page, read 5-30 s, follow its [Edit] continuation link. "
           "Time compressed %gx: `:timeout-mins %s`, a policy's hour is %.0f s, its 5 minutes "
           "%.0f s; %g minutes of wall time = %.1f compressed hours. Threshold `--min-rss %s` "
           "(per worker); sweep `--sweep-conts %ds` (the program's minimum is 60 s). Rates and "
           "reading pauses are not compressed: a compressed hour holds %gx fewer page views "
           "than a real one, so the heap each policy lets grow is smaller than on a real site "
           "over real hours. Run by `%s`, took %.0f s; load average %s at start, %s at end."
           % (a.pages, len(results), a.rate, a.readers, a.factor, r0.get("timeout_mins", "?"),
              3600.0 / a.factor, 300.0 / a.factor, a.minutes, a.minutes * 60 * a.factor / 3600,
              a.min_rss, a.sweep_age, a.factor, os.environ.get("KR_BENCH_VIA",
                                                               "python3 bench/bench_cure.py"),
              took, load0, c.loadavg()))
    s.table(table(results))
    s.text("RSS: sum of VmRSS of the site's workers (from `ls` and /proc) every %g s. restarts: "
           "workers replaced by the policy's commands. failed: HTTP status >= 400 other than a "
           "stale link, timeouts (%g s), broken connections. stale: 404 or 503 on a "
           "continuation link (the bot's are by design: Kahua expires what it keeps). "
           "Chart: doc/cure-rss.svg (and .png)." % (a.sample, HTTP_TIMEOUT))
    notes = []
    for r in results:
        for e in r.get("errors", [])[:3]:
            notes.append("- %s: %s" % (r["what"], e))
        kinds = dict(r.get("bot", {}).get("kinds", {}))
        for k, v in r.get("reader", {}).get("kinds", {}).items():
            kinds["reader " + k] = v
        if kinds:
            notes.append("- %s: %s" % (r["what"], ", ".join("%s %d" % kv for kv in
                                                              sorted(kinds.items()))))
    if notes:
        s.text("Errors and outcomes other than ok:\n\n" + "\n".join(notes))
    s.text(goal(results))
    s.text("Reading the ratio: a swept site stays near its workers' warmed-up size (the heap "
           "a few minutes of pages need), while an hourly restart lets a compressed hour of "
           "crawl pile up first. Compression shortens that hour F times at an uncompressed "
           "request rate, so what the hourly policies let grow here is about 1/F of what the "
           "same rate piles up over a real hour with `:timeout-mins 60`; the swept site's "
           "level does not depend on F.")
    return s


def goal(results):
    by = {r["policy"]: r for r in results if "error" not in r}
    if "b" not in by or "e" not in by:
        return "Goal not judged: policy (b) or (e) did not run."
    b, e = by["b"], by["e"]
    ratio = e["peak_kb"] / float(b["peak_kb"])
    ok = (ratio <= 0.5 and e["restarts"] == 0 and e["bot"]["failed"] + e["reader"]["failed"] == 0
          and e["reader"]["stale"] == 0)
    return ("Goal (sweep policy: peak RSS at most half of `kahua-admin 'restart *'` hourly, 0 "
            "restarts, 0 failed requests, 0 stale reader links): %s. Peak %s MB vs %s MB "
            "(%.0f%%), %d restarts, %d failed, %d stale reader links."
            % ("MET" if ok else "NOT MET", mb(e["peak_kb"]), mb(b["peak_kb"]), ratio * 100,
               e["restarts"], e["bot"]["failed"] + e["reader"]["failed"], e["reader"]["stale"]))


def drive(a):
    out = a.out or kahua.harness.tempdir()
    os.makedirs(out, exist_ok=True)
    t0, load0 = time.monotonic(), c.loadavg()
    if a.again:
        took = json.load(open(os.path.join(out, "run.json")))
        return report(a, out, took["took"], took["load0"])
    kids = []
    for i, p in enumerate(a.policies):
        argv = [sys.executable, os.path.abspath(__file__), "--one", p, "--out", out,
                "--bin", a.bin] + ["--%s=%s" % (k, getattr(a, k.replace("-", "_")))
                                   for k in ("minutes", "factor", "rate", "readers", "pages",
                                             "min-rss", "sweep-age", "sample")]
        kids.append((p, subprocess.Popen(argv)))
        time.sleep(2)   # site start-ups one after another, not all at once
    limit = a.minutes * 60 + 600
    for p, k in kids:
        try:
            k.wait(max(1.0, t0 + limit - time.monotonic()))
        except subprocess.TimeoutExpired:
            c.log("policy %s: still running after %.0f s; stopping it" % (p, limit))
            k.terminate()
            k.wait(60)
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump({"took": time.monotonic() - t0, "load0": load0}, f)
    return report(a, out, time.monotonic() - t0, load0)


def report(a, out, took, load0):
    """Section 7 and the chart from the policies' results in out."""
    results = []
    for p in a.policies:
        try:
            with open(os.path.join(out, p + ".json")) as f:
                results.append(json.load(f))
        except (OSError, ValueError) as e:
            results.append({"policy": p, "what": POLICIES[p], "error": "no result: %s" % e})
    sec = section(results, a, took, load0)
    print(sec.markdown(), flush=True)
    chart = svg(results, a.factor) if any(r.get("samples") for r in results) else None
    if chart:
        with open(os.path.join(out, "cure-rss.svg"), "w") as f:
            f.write(chart)
    if a.write and chart:
        doc = os.path.join(c.TOP, "doc")
        shutil.copy(os.path.join(out, "cure-rss.svg"), os.path.join(doc, "cure-rss.svg"))
        subprocess.run(["rsvg-convert", "-o", os.path.join(doc, "cure-rss.png"),
                        os.path.join(doc, "cure-rss.svg")], check=False)
        path = os.path.join(c.BENCH, "RESULTS.md")
        text = bench_run.merge(path, [sec])
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        c.log("wrote %s, doc/cure-rss.svg, doc/cure-rss.png" % path)
    c.log("raw results in %s" % out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=27.0, help="wall time per policy [27]")
    ap.add_argument("--factor", type=float, default=3.0, help="time compression F [3]")
    ap.add_argument("--rate", type=float, default=15.0, help="bot requests/s per site [15]")
    ap.add_argument("--readers", type=int, default=2, help="readers per site [2]")
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--min-rss", default="128M", help="threshold of policies d and e [128M]")
    ap.add_argument("--sweep-age", type=int, default=60, help="--sweep-conts of policy e, s [60]")
    ap.add_argument("--sample", type=float, default=5.0, help="RSS sampling period, s [5]")
    ap.add_argument("--policies", default="abcde")
    ap.add_argument("--bin", default=c.BIN, help="the program (default: KR_BIN or the tree's)")
    ap.add_argument("--out", help="directory for raw results (default: a temp dir)")
    ap.add_argument("--write", action="store_true",
                    help="write bench/RESULTS.md section 9 and doc/cure-rss.{svg,png}")
    ap.add_argument("--again", action="store_true",
                    help="report on the finished run in --out instead of running (same options)")
    ap.add_argument("--one", choices=list(POLICIES), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        return run_one(a)
    if not set(a.policies) <= set(POLICIES):
        ap.error("--policies: letters of %s" % "".join(POLICIES))
    prefix, why = kahua.find_prefix()
    if prefix is None:
        print("bench_cure: skipped (%s)" % why)
        return 0
    return drive(a)


if __name__ == "__main__":
    sys.exit(main())
