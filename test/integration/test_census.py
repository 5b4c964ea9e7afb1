"""census and sweep on the simulator: the census table and JSON, sweeping
only the stale continuations with heap figures that move, restart
--sweep-conts judging the figures after the sweep, bad input (each one
clear line, a defined exit status, nobody restarted or killed), and the
simulator's answers against the recordings of a real Kahua."""

import json
import os
import re

from harness import TOP, Sim, Site, check, one_line, raw_exchange, run

# "fresh" continuations are new; "stale" ones are made 5 minutes old.
TYPES = [("hello", [], 1),
         ("fresh", ["--conts-per-view", "100"], 1),
         ("stale", ["--conts-per-view", "100", "--cont-age-s", "300"], 1)]


def start(tmp, types=TYPES, conf=None):
    site = Site(tmp, types=types, conf=conf)
    return site, Sim(site)


def views(sim, path, n):
    for _ in range(n):
        code, _ = sim.get(path)
        check(code == 200, "%s answered %d" % (path, code))


def pids(sim):
    return sorted((w["wid"], w["pid"]) for w in sim.ls())


def by_type(js, t):
    return [w for w in js["workers"] if w["type"] == t][0]


def test_census_table_and_json(tmp):
    site, sim = start(tmp)
    views(sim, "/fresh/", 3)
    views(sim, "/stale/", 2)
    res = run(["census"], site)
    check(res.rc == 0 and res.err == "", res)
    check(res.out.startswith("census of 3 workers; :timeout-mins 60\n"), res)
    check(re.search(r"^worker \d+  pid \d+  fresh  \S+: 301 continuations, heap \S+ in use of \S+$",
                    res.out, re.M), res)
    check(re.search(r"^  continuations  301: <1m 300, 1-10m 0, 10m-timeout 0, overdue 0, permanent 1$",
                    res.out, re.M), res)
    check(re.search(r"^  continuations  201: <1m 0, 1-10m 200, 10m-timeout 0, overdue 0, permanent 1$",
                    res.out, re.M), res)
    check(re.search(r"^       300  99\.7%  \(lambda \(\) \(line-page i text\)\) \(fresh\.kahua:16\)$",
                    res.out, re.M), res)
    check(re.search(r"^         1   0\.3%  \[permanent\] define-entry fresh \(fresh\.kahua:10\)$",
                    res.out, re.M), res)
    js = run(["census", "--json"], site).json()
    check(js["command"] == "census" and js["timeout_mins"] == 60 and len(js["workers"]) == 3, js)
    fresh = by_type(js, "fresh")
    check(fresh["outcome"] == "ok" and fresh["why"] is None, fresh)
    check(fresh["continuations"] == {"total": 301, "under_1m": 300, "1m_10m": 0, "10m_timeout": 0,
                                     "overdue": 0, "permanent": 1}, fresh)
    check(fresh["state_sessions"]["total"] >= 3, fresh)
    check(0 < fresh["heap_used_bytes"] < fresh["heap_bytes"], fresh)
    m = fresh["makers"]
    check(m[0]["count"] == 300 and m[0]["share"] > 90 and not m[0]["permanent"], m)
    check(m[1]["permanent"] and m[1]["label"].startswith("define-entry fresh"), m)
    # A target narrows the census as it narrows a restart.
    js = run(["census", "stale", "--json"], site).json()
    check([w["type"] for w in js["workers"]] == ["stale"], js)
    check(by_type(js, "stale")["continuations"]["1m_10m"] == 200, js)


def test_sweep_removes_only_the_stale(tmp):
    site, sim = start(tmp)
    views(sim, "/fresh/", 2)
    views(sim, "/stale/", 4)
    before = pids(sim)
    res = run(["sweep", "--sweep-conts", "2m"], site)
    check(res.rc == 0 and res.out == "" and res.err == "", res)    # quiet for cron
    js = run(["census", "--json"], site).json()
    check(by_type(js, "stale")["continuations"]["total"] == 1, js)   # the define-entry stays
    check(by_type(js, "fresh")["continuations"]["total"] == 201, js)
    views(sim, "/stale/", 1)
    res = run(["sweep", "stale", "--sweep-conts", "2m", "--json"], site)
    check(res.rc == 0, res)
    js = res.json()
    check(js["command"] == "sweep" and js["sweep_conts_s"] == 120 and js["sweep_sessions_s"] is None, js)
    w = js["workers"][0]
    check(w["type"] == "stale" and w["outcome"] == "ok" and w["why"] is None, w)
    check(w["swept_continuations"] == 100 and w["continuations_after"] == 1, w)
    check(w["swept_sessions"] is None, w)
    check(w["heap_used_after"] < w["heap_used_before"], w)
    check(w["heap_used_before"] - w["heap_used_after"] == 100 * 8192, w)
    res = run(["sweep", "--sweep-conts", "2m", "-v"], site)
    check(re.search(r"worker \S+ \(stale, pid \d+\) swept: 0 continuations \(1 left\)", res.err), res)
    check(pids(sim) == before, "a sweep restarted a worker")
    hist = site.history()
    check([h["command"] for h in hist] == ["sweep", "sweep", "sweep"], hist)
    check(hist[1]["sweep"]["workers"][0]["swept_continuations"] == 100, hist[1])


def test_sweep_sessions(tmp):
    site, sim = start(tmp)
    views(sim, "/fresh/", 3)
    js = run(["sweep", "--sweep-conts", "1m", "--sweep-sessions", "1m", "--json"], site).json()
    check(js["sweep_sessions_s"] == 60, js)
    check(all(w["swept_sessions"] == 0 for w in js["workers"]), js)   # all younger than a minute


def test_restart_sweeps_first(tmp):
    site, sim = start(tmp)
    views(sim, "/fresh/", 5)
    views(sim, "/stale/", 5)
    old = {w["type"]: w["pid"] for w in sim.ls()}
    res = run(["restart", "--sweep-conts", "2m", "--max-conts", "200", "--no-http-check", "--json"], site)
    check(res.rc == 0, res)
    js = res.json()
    sw = {w["type"]: w for w in js["sweep"]["workers"]}
    check(sw["stale"]["swept_continuations"] == 500 and sw["fresh"]["swept_continuations"] == 0, sw)
    restarted = [s["old"]["type"] for s in js["restarts"]]
    check(restarted == ["fresh"], "only the worker still over --max-conts after the sweep: %r" % restarted)
    before = {w["type"]: w for w in js["workers_before"]}
    check(before["stale"]["continuations"] == 1 and before["stale"]["heap_used_bytes"] > 0, before)
    new = {w["type"]: w["pid"] for w in sim.ls()}
    check(new["stale"] == old["stale"] and new["fresh"] != old["fresh"], (old, new))
    check(site.history()[-1]["sweep"]["workers"], site.history()[-1])


def bad(site, sim, args, status, *words):
    before = pids(sim)
    res = run(args, site)
    check(res.rc == status, res)
    line = one_line(res)
    for w in words:
        check(w in line, "%r lacks %r" % (line, w))
    check(res.out == "", res)
    check(pids(sim) == before, "bad input changed the workers")
    return line


def test_bad_sweep_input(tmp):
    site, sim = start(tmp, conf="(make <kahua-config> :timeout-mins 5)\n")
    views(sim, "/stale/", 1)
    bad(site, sim, ["sweep", "--sweep-conts", "59"], 64, "--sweep-conts", "at least 60")
    bad(site, sim, ["sweep", "--sweep-conts", "soon"], 64, "sweep-conts", "soon")
    bad(site, sim, ["sweep", "--sweep-conts", "90.5"], 64, "whole seconds")
    bad(site, sim, ["sweep"], 64, "--sweep-conts")
    bad(site, sim, ["sweep", "--sweep-conts", "5m"], 64, ":timeout-mins 5")
    bad(site, sim, ["restart", "--sweep-conts", "1h"], 64, ":timeout-mins 5")
    bad(site, sim, ["sweep", "--sweep-conts", "1m", "--sweep-sessions", "10"], 64, "--sweep-sessions")
    bad(site, sim, ["sweep", "nosuchtype", "--sweep-conts", "1m"], 64, "nosuchtype")
    js = run(["census", "--json"], site).json()
    check(by_type(js, "stale")["continuations"]["total"] == 101, "bad input swept something: %r" % js)


def test_sweep_on_workers_that_fail(tmp):
    types = TYPES + [("broken", ["--conts-per-view", "10", "--eval-reply", "error"], 1),
                     ("mute", ["--eval-reply", "silent"], 1)]
    site, sim = start(tmp, types=types)
    views(sim, "/stale/", 2)
    line = bad(site, sim, ["sweep", "--sweep-conts", "1m", "--ctl-timeout", "2"], 1,
               "sweep failed on 2 of 5 workers", "(broken", "ERROR", "(mute", "no answer")
    check("UNBOUND-VARIABLE-ERROR" in line, line)
    # The others were swept all the same.
    js = run(["census", "stale", "--json"], site).json()
    check(by_type(js, "stale")["continuations"]["total"] == 1, js)
    res = run(["sweep", "--sweep-conts", "1m", "--ctl-timeout", "2", "--json"], site)
    check(res.rc == 1, res)
    w = {x["type"]: x for x in res.json()["workers"]}
    check(w["broken"]["outcome"] == "failed" and "ERROR" in w["broken"]["why"], w)
    check(w["broken"]["swept_continuations"] is None, w)
    check(w["hello"]["outcome"] == "ok", w)
    # restart --sweep-conts goes on to its thresholds, and says the sweep failed;
    # a worker whose sweep failed is not restarted for it.
    bad(site, sim, ["restart", "--sweep-conts", "1m", "--max-conts", "100000", "--ctl-timeout", "2",
                    "--no-http-check"], 1, "sweep failed on 2 of 5 workers")


def test_census_on_workers_that_fail(tmp):
    types = [("fresh", ["--conts-per-view", "100"], 1), ("junk", ["--eval-reply", "garbage"], 1)]
    site, sim = start(tmp, types=types)
    res = run(["census", "--json"], site)
    check(res.rc == 1, res)
    check("census failed on 1 of 2 workers" in one_line(res), res)
    junk = by_type(res.json(), "junk")
    check(junk["outcome"] == "unreadable" and junk["makers"] == [], junk)
    check(junk["continuations"]["total"] is None, junk)
    check(by_type(res.json(), "fresh")["outcome"] == "ok", res)


def test_census_past_16384_says_its_counts_are_estimates(tmp):
    """A worker with 20,000 continuations: exact ages, makers counted on 1
    entry in 2, marked as estimates in the table, maker_stride in JSON."""
    site, sim = start(tmp, types=[("big", ["--conts-per-view", "20000"], 1)])
    views(sim, "/big/", 1)
    res = run(["census", "--json"], site)
    check(res.rc == 0 and res.err == "", res)
    big = by_type(res.json(), "big")
    check(big["continuations"]["total"] == 20001 and big["maker_stride"] == 2, big)
    check(big["makers"][0]["count"] == 20000 and not big["makers"][0]["permanent"], big)
    res = run(["census"], site)
    check(res.rc == 0 and "makers counted on 1 continuation in 2 (~: estimates)" in res.out, res)
    check(re.search(r"^ ~   20000 100\.0%  \(lambda", res.out, re.M), res.out)


def test_simulator_answers_recorded_census_and_sweep(tmp):
    """Each recorded exchange of census-sweep.json, sent to a simulator
    worker of the same shape: the same reply, figures aside.  The census of
    a worker past 16384 continuations goes to one that a view gave 20,000
    (the recording minted them with an eval)."""
    site, sim = start(tmp, types=[("wiki", ["--conts-per-view", "100", "--cont-age-s", "70"], 1),
                                  ("hello", [], 1), ("big", ["--conts-per-view", "20000"], 1)])
    views(sim, "/wiki/", 3)
    views(sim, "/big/", 1)
    with open(os.path.join(TOP, "test", "vectors", "census-sweep.json")) as f:
        cases = json.load(f)
    check(len(cases) == 7, [c["case"] for c in cases])
    wid = {w["type"]: w["wid"] for w in sim.ls()}
    maker = r'\(\d+ #[tf] \\"[^"\\]*(\\.[^"\\]*)*\\"\)'

    def shape(text):
        """Figures as N; a census's makers list as one token (which makers
        a worker has depends on its history), each checked for its form."""
        m = re.search(r"\(census .* \d+ \(((%s ?)*)\)\)\"\)\n$" % maker, text)
        if m:
            text = text[:m.start(1)] + "MAKERS" + text[m.end(1):]
        return re.sub(r"\d+", "N", text)
    for case in cases:
        typ = "hello" if "hello" in case["case"] else "big" if "20,000" in case["case"] else "wiki"
        got = raw_exchange(os.path.join(sim.sockdir, wid[typ]), case["sent"].encode()).decode()
        want = case["received"]
        if "ERROR" in want:
            check(got.startswith('(("x-kahua-status" "ERROR"))\n"*** '), (case["case"], got[:300]))
            continue
        check(shape(got) == shape(want), "%s:\n got %r\nwant %r" % (case["case"], got, want))


def test_sweep_metrics(tmp):
    site, sim = start(tmp)
    views(sim, "/stale/", 3)
    prom = os.path.join(tmp, "kr.prom")
    res = run(["sweep", "--sweep-conts", "2m", "--prom", prom], site)
    check(res.rc == 0 and res.err == "", res)
    text = open(prom).read()
    check(re.search(r'^kahua_restarter_swept_continuations\{site="[^"]*",type="stale"\} 300$', text, re.M), text)
    check(re.search(r'^kahua_restarter_swept_continuations\{site="[^"]*",type="fresh"\} 0$', text, re.M), text)
    used = re.findall(r'^kahua_worker_heap_used_bytes\{site="[^"]*",type="(\w+)",rank="0"\} (\d+)$', text, re.M)
    check(sorted(t for t, _ in used) == ["fresh", "hello", "stale"], text)
    check("wid" not in text and "worker_id" not in text, text)


def test_history_summary_shows_swept(tmp):
    site, sim = start(tmp)
    views(sim, "/stale/", 2)
    check(run(["sweep", "--sweep-conts", "2m"], site).rc == 0, "sweep")
    views(sim, "/stale/", 1)
    check(run(["restart", "fresh", "--sweep-conts", "2m", "--no-http-check"], site).rc == 0, "restart")
    res = run(["history"], site)
    check(res.rc == 0, res)
    # The restart's sweep covered its target only.
    check(re.search(r"^# swept: .*fresh 0 continuations in 2 worker sweeps, "
                    r"stale 200 continuations in 1 worker sweep$", res.out, re.M), res)
    check(re.search(r"^# 1 run from", res.out, re.M), "a sweep run is no restart run: %r" % res.out)
    js = run(["history", "--json"], site).json()
    t = {x["type"]: x for x in js["types"]}
    check(t["stale"]["swept_continuations"] == 200 and t["stale"]["worker_sweeps"] == 1, t)
    check(t["fresh"]["swept_continuations"] == 0 and t["fresh"]["worker_sweeps"] == 2, t)
    svg = os.path.join(tmp, "h.svg")
    check(run(["history", "--svg", svg], site).rc == 0, "svg")
    text = open(svg).read()
    check('class="sweeps"' in text and ">swept<" in text and "200 continuations swept" in text, text[-3000:])


def test_status_verbose_shows_ages(tmp):
    site, sim = start(tmp)
    views(sim, "/stale/", 2)
    res = run(["status", "-v"], site)
    check(res.rc == 0 and res.err == "", res)
    check(re.search(r"^# worker \d+ \(stale\) continuations by age: <1m 0, 1-10m 200, 10m-timeout 0, "
                    r"overdue 0, permanent 1$", res.out, re.M), res)
    plain = run(["status"], site)
    check("by age" not in plain.out, plain)


def test_sweep_dry_run_sweeps_nothing(tmp):
    site, sim = start(tmp)
    views(sim, "/stale/", 2)
    res = run(["sweep", "stale", "--sweep-conts", "2m", "-n"], site)
    check(res.rc == 0 and res.err == "", res)
    check(re.match(r"plan: sweep continuations unused for 120s in 1 workers:\n  sweep worker \d+ \(stale, "
                   r"pid \d+\) \S+\n$", res.out), res)
    js = run(["census", "stale", "--json"], site).json()
    check(by_type(js, "stale")["continuations"]["total"] == 201, js)
    check(site.history() == [], site.history())
