"""What a worker holds: continuations, state sessions and heap
through the eval exchange in status, check, JSON, history and Prometheus;
the eval probe; --max-conts; --no-eval; the memory gates; and the
simulator's eval answers against the recordings of a real Kahua."""

import json
import os
import re
import signal
import time

from harness import (TOP, Sim, Site, check, check_gated, meminfo, one_line, raw_exchange, rss, run,
                     same_workers, wait_for)

WIKI_TYPES = [("hello", [], 2), ("leaky", ["--leak-mb", "5"], 1),
              ("wiki", ["--conts-per-view", "100"], 1)]
COUNT_EXPR = ("(with-module kahua.session (list (hash-table-num-entries (class-slot-ref "
              "<session-cont> 'key->session)) (hash-table-num-entries (state-sessions))))")


def start(tmp, types=WIKI_TYPES, **kw):
    site = Site(tmp, types=types)
    return site, Sim(site, **kw)


def views(sim, path, n):
    for _ in range(n):
        code, _ = sim.get(path)
        check(code == 200, "%s answered %d" % (path, code))


def status_rows(res):
    """status output as dicts by worker id, plus the header and the # lines."""
    lines = res.out.splitlines()
    head = lines[0].split()
    rows = {}
    for line in lines[1:]:
        if line.startswith("#"):
            continue
        f = line.split()
        rows[f[-1]] = dict(zip(head, f))
    return head, rows, [l for l in lines if l.startswith("#")]


def by_type(ws, t):
    return [w for w in ws if w["type"] == t]


def eval_raw(sim, wid, expr, sgsid="test"):
    hdr = '(("x-kahua-eval" "#t") ("x-kahua-sgsid" "%s"))\n' % sgsid
    return raw_exchange(os.path.join(sim.sockdir, wid), (hdr + expr).encode()).decode()


def test_status_shows_continuations_growing(tmp):
    site, sim = start(tmp)
    wiki = by_type(sim.ls(), "wiki")[0]
    res = run(["status"], site)
    check(res.rc == 0 and res.err == "", res)
    head, rows, notes = status_rows(res)
    check(head == ["WNO", "PID", "TYPE", "AGE", "RSS", "STATE", "CONTS", "WORKER-ID"], res)
    check(notes == [], res)
    before = int(rows[wiki["wid"]]["CONTS"])
    views(sim, "/wiki/", 10)
    res = run(["status"], site)
    _, rows, _ = status_rows(res)
    check(int(rows[wiki["wid"]]["CONTS"]) - before >= 1000, res)
    # -v and --json add state sessions and heap.
    res = run(["status", "-v"], site)
    head, rows, _ = status_rows(res)
    check(head == ["WNO", "PID", "TYPE", "AGE", "RSS", "STATE", "CONTS", "SESSIONS", "HEAP", "WORKER-ID"],
          res)
    row = rows[wiki["wid"]]
    check(int(row["CONTS"]) == before + 1000 and int(row["SESSIONS"]) >= 10, row)
    check(re.match(r"^[0-9.]+[KMG]$", row["HEAP"]), row)
    rep = run(["status", "--json"], site).json()
    w = [x for x in rep["workers_before"] if x["id"] == wiki["wid"]][0]
    check(w["continuations"] == before + 1000 and w["state_sessions"] >= 10, w)
    check(w["heap_bytes"] > 0 and w["eval_error"] is None, w)
    check(rep["eval"] is True and rep["probe"] == "eval", rep)
    hello = [x for x in rep["workers_before"] if x["type"] == "hello"]
    check(all(x["continuations"] == 1 for x in hello), hello)


def test_no_eval_sends_none(tmp):
    site, sim = start(tmp)
    res = run(["status", "--no-eval"], site)
    check(res.rc == 0, res)
    _, rows, _ = status_rows(res)
    check(all(r["CONTS"] == "-" for r in rows.values()), res)
    rep = run(["status", "--no-eval", "--json"], site).json()
    check(all(w["continuations"] is None and w["state_sessions"] is None and
              w["heap_bytes"] is None for w in rep["workers_before"]), rep)
    check(rep["eval"] is False and rep["probe"] == "http", rep)
    # Had an eval been sent, its "kahua-restarter" session would be counted too.
    wid = by_type(sim.ls(), "wiki")[0]["wid"]
    check(eval_raw(sim, wid, COUNT_EXPR).endswith('("" "" "(1 1)")\n'), "an eval was sent")
    # --no-eval probes by web request: the leaky replacement pays for its page.
    res = run(["--no-eval", "--json", "--no-http-check", "restart", "leaky"], site)
    check(res.rc == 0, res)
    step = res.json()["restarts"][0]
    check(step["new"]["continuations"] is None, step)
    new = by_type(sim.ls(), "leaky")[0]
    check(eval_raw(sim, new["wid"], COUNT_EXPR).endswith('("" "" "(1 2)")\n'),
          "the web probe made no session, or an eval was sent")


def test_probe_is_eval_and_costs_no_memory(tmp):
    """A page view costs the leaky worker 5 MB; the eval probe nothing."""
    site, sim = start(tmp)
    grown = {}
    for probe in ("eval", "http"):
        res = run(["--json", "--no-http-check", "--probe", probe, "restart", "leaky"], site)
        check(res.rc == 0, res)
        rep = res.json()
        step = rep["restarts"][0]
        check(rep["probe"] == probe and step["result"] == "ok", rep)
        new = by_type(sim.ls(), "leaky")[0]
        check(new["wid"] == step["new"]["id"], (new, step))
        grown[probe] = rss(new["pid"]) - step["new"]["rss_bytes"]
        if probe == "eval":
            check(step["new"]["continuations"] == 1 and step["new"]["heap_bytes"] > 0, step)
        else:
            check(step["new"]["continuations"] is None, step)
    check(grown["eval"] < 2 << 20, "eval probe grew the worker by %d bytes" % grown["eval"])
    check(grown["http"] >= 4 << 20, "web probe grew the worker by only %d bytes" % grown["http"])


def test_max_conts_restarts_the_holder_alone(tmp):
    site, sim = start(tmp)
    views(sim, "/wiki/", 10)
    before = sim.ls()
    res = run(["--max-conts", "500", "--json"], site)
    check(res.rc == 0, res)
    rep = res.json()
    check([r["old"]["type"] for r in rep["restarts"]] == ["wiki"], rep)
    check(rep["restarts"][0]["reason"] == "continuations 1001 >= 500", rep)
    check(rep["restarts"][0]["old"]["continuations"] == 1001, rep)
    check(rep["restarts"][0]["new"]["continuations"] == 1, rep)
    after = sim.ls()
    same_workers(before, after)
    check({w["pid"] for w in before if w["type"] != "wiki"} ==
          {w["pid"] for w in after if w["type"] != "wiki"}, "another worker was restarted")
    check(by_type(before, "wiki")[0]["pid"] != by_type(after, "wiki")[0]["pid"], "wiki kept")
    # Nothing holds 500 now: a quiet run that restarts nothing.
    res = run(["--max-conts", "500"], site)
    check(res.rc == 0 and res.out == "" and res.err == "", res)
    check(sim.ls() == after, "restarted without cause")


def test_max_conts_with_min_rss_most_first(tmp):
    site, sim = start(tmp)
    views(sim, "/wiki/", 6)
    views(sim, "/leaky/", 8)
    res = run(["--max-conts", "500", "--min-rss", "30M", "--json", "--no-http-check"], site)
    check(res.rc == 0, res)
    steps = res.json()["restarts"]
    check([s["old"]["type"] for s in steps] == ["wiki", "leaky"], steps)
    check(steps[0]["reason"].startswith("continuations 601") and steps[1]["reason"].startswith("rss "),
          steps)
    res = run(["--max-conts", "1", "--max-restarts", "1", "-n"], site)
    check(res.rc == 0 and res.out.count("restart worker") == 1, res)
    check("continuations 1, " in res.out or "continuations 1," in res.out, res)


def test_check_reports_numbers(tmp):
    site, sim = start(tmp)
    views(sim, "/wiki/", 3)
    res = run(["check", "--json", "-v"], site)
    check(res.rc == 0, res)
    wiki = [w for w in res.json()["workers_before"] if w["type"] == "wiki"][0]
    check(wiki["continuations"] == 301, wiki)
    check(re.search(r"\(wiki, pid \d+\) answers: continuations 301, state sessions \d+, heap ",
                    res.err), res)


def test_eval_error_is_numbers_unavailable_not_dead(tmp):
    types = [("hello", [], 1), ("broken", ["--eval-reply", "error"], 1),
             ("noisy", ["--eval-reply", "garbage"], 1)]
    site, sim = start(tmp, types=types)
    ws = sim.ls()
    res = run(["status"], site)
    check(res.rc == 0 and res.err == "", res)
    _, rows, notes = status_rows(res)
    broken, noisy = by_type(ws, "broken")[0], by_type(ws, "noisy")[0]
    check(rows[broken["wid"]]["CONTS"] == "-" and rows[noisy["wid"]]["CONTS"] == "-", res)
    check(rows[by_type(ws, "hello")[0]["wid"]]["CONTS"] == "1", res)
    check(len(notes) == 2, notes)
    check("numbers unavailable: eval answered ERROR: *** UNBOUND-VARIABLE-ERROR" in notes[0], notes)
    check("numbers unavailable: eval reply unreadable" in notes[1], notes)
    rep = run(["check", "--json"], site)
    check(rep.rc == 0, rep)
    errs = {w["type"]: w["eval_error"] for w in rep.json()["workers_before"]}
    check(errs["hello"] is None and "ERROR" in errs["broken"] and "unreadable" in errs["noisy"], errs)
    # Their replacements are probed by web request instead, and pass.
    res = run(["--json", "-v"], site)
    check(res.rc == 0, res)
    check(all(s["result"] == "ok" for s in res.json()["restarts"]), res)
    check("probing with a web request instead" in res.err, res)
    same_workers(ws, sim.ls())


def test_dead_entry_is_not_asked(tmp):
    """A dead entry has no worker to ask: "-" and the dead note, no eval note."""
    site, sim = start(tmp)
    w = by_type(sim.ls(), "wiki")[0]
    os.kill(w["pid"], signal.SIGKILL)
    wait_for(lambda: any(x["wno"] == w["wno"] and x["pid"] is None for x in sim.ls()), 10,
             "the dead entry to lose its pid")
    res = run(["status"], site)
    check(res.rc == 0, res)
    _, rows, notes = status_rows(res)
    check(rows[w["wid"]]["STATE"] == "dead" and rows[w["wid"]]["CONTS"] == "-", res)
    check("is dead" in notes[0] and not any("numbers unavailable" in n for n in notes), notes)
    rep = run(["status", "--json"], site).json()
    dead = [x for x in rep["workers_before"] if x["id"] == w["wid"]][0]
    check(dead["continuations"] is None and dead["eval_error"] is None, dead)
    check(all(x["continuations"] == 1 for x in rep["workers_before"] if x["state"] == "live"), rep)


def test_silent_worker_bounded_by_ctl_timeout(tmp):
    types = [("hello", [], 2), ("stuck", ["--eval-reply", "silent"], 1)]
    site, sim = start(tmp, types=types)
    ws = sim.ls()
    res = run(["status", "--ctl-timeout", "1"], site)
    check(res.rc == 0, res)
    check(res.secs < 4, "status took %.1fs" % res.secs)
    _, rows, notes = status_rows(res)
    check(all(rows[w["wid"]]["CONTS"] == "1" for w in by_type(ws, "hello")), res)
    check(rows[by_type(ws, "stuck")[0]["wid"]]["CONTS"] == "-", res)
    check(notes == ["# worker 2 (stuck): numbers unavailable: no answer to the eval within the time limit"],
          notes)
    # check: a worker that does not answer its probe is unhealthy.
    res = run(["check", "--ctl-timeout", "1", "--no-http-check"], site)
    check(res.rc == 1, res)
    check("stuck" in one_line(res) and "no answer" in one_line(res), res)
    # A replacement that does not answer stops the rollout; nothing is lost.
    res = run(["--worker-timeout", "1", "--ctl-timeout", "1", "restart", "stuck"], site)
    check(res.rc == 1 and "no answer to the eval" in one_line(res), res)
    same_workers(ws, sim.ls())


def test_prometheus_worker_figures_by_rank(tmp):
    site, sim = start(tmp)
    views(sim, "/wiki/", 4)
    prom = os.path.join(tmp, "k.prom")
    res = run(["--prom", prom, "restart", "hello"], site)
    check(res.rc == 0, res)
    text = open(prom).read()
    label = 'site="%s"' % os.path.realpath(site.root)
    for name in ("kahua_worker_continuations", "kahua_worker_state_sessions",
                 "kahua_worker_heap_bytes"):
        check("# TYPE %s gauge" % name in text, "no %s in\n%s" % (name, text))
    lines = text.splitlines()
    check('kahua_worker_continuations{%s,type="wiki",rank="0"} 401' % label in lines, text)
    check('kahua_worker_continuations{%s,type="hello",rank="0"} 1' % label in lines, text)
    check('kahua_worker_continuations{%s,type="hello",rank="1"} 1' % label in lines, text)
    check(any(l.startswith('kahua_worker_heap_bytes{%s,type="leaky",rank="0"} ' % label)
              for l in lines), text)
    check(any(l.startswith('kahua_restarter_worker_memory_bytes{%s,type="hello",rank="1",' % label)
              for l in lines), text)
    for w in sim.ls():
        check(w["wid"] not in text, "worker id %s in the metrics" % w["wid"])


def test_memory_gates(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    last = check_gated(run(["--when-available-below", "1K"], site), site, sim, before)
    check(re.match(r"^MemAvailable \S+ is not below 1\.0K$", last["skip_reason"]), last)
    check(last["host"]["mem_available_bytes"] > 1 << 20 and last["host"]["swap_used_bytes"] >= 0, last)
    # Verbose says why; --json reports it; a dry run prints it as the plan.
    res = run(["--when-available-below", "1K", "-v"], site)
    check(res.rc == 0 and "nothing restarted: MemAvailable" in res.err, res)
    rep = run(["--when-available-below", "1K", "--json"], site).json()
    check(rep["outcome"] == "skipped" and rep["skip_reason"].startswith("MemAvailable"), rep)
    res = run(["--when-available-below", "1K", "-n"], site)
    check(res.rc == 0 and res.out.startswith("plan: nothing to restart: MemAvailable"), res)
    # No one uses a petabyte of swap; nor has a petabyte of memory free.
    res = run(["--when-swap-above", "1T"], site)
    check(res.rc == 0 and sim.ls() == before, res)
    check(site.history()[-1]["skip_reason"].startswith("swap used "), site.history()[-1])
    check(site.history()[-1]["skip_reason"].endswith("is not above 1.0T"), site.history()[-1])
    res = run(["--when-available-below", "1T", "--json"], site)
    check(res.rc == 0 and len(res.json()["restarts"]) == 4, res)
    check(res.json()["outcome"] == "ok" and res.json()["skip_reason"] is None, res)
    same_workers(before, sim.ls())
    # Swap in use above a figure below the host's: only where swap is in use.
    m = meminfo()
    used = m["SwapTotal"] - m["SwapFree"]
    if used > 1 << 20:
        res = run(["--when-swap-above", "1K", "--json"], site)
        check(res.rc == 0 and res.json()["outcome"] == "ok", res)
    # Either gate met is enough.
    res = run(["--when-available-below", "1T", "--when-swap-above", "1T", "--json"], site)
    check(res.rc == 0 and res.json()["outcome"] == "ok", res)
    js = run(["history", "--json"], site).json()
    check(js["gated_runs"] == 4, js)
    res = run(["history"], site)
    check("4 runs restarted nothing (memory gates)" in res.out, res)


def test_host_memory_on_every_run(tmp):
    site, sim = start(tmp)
    check(run([], site).rc == 0, "restart")
    check(run(["check"], site).rc == 0, "check")
    m = meminfo()
    for line in site.history():
        h = line["host"]
        check(set(h) == {"mem_available_bytes", "swap_used_bytes", "mem_total_bytes"} |
              {"psi_%s_avg%s" % (k, w) for k in ("some", "full") for w in (10, 60, 300)}, h)
        check(h["mem_total_bytes"] == m["MemTotal"], (h, m))
        # The same host, moments apart: within a quarter of what it has.
        check(abs(h["mem_available_bytes"] - m["MemAvailable"]) < m["MemTotal"] / 4, (h, m))
        check(h["swap_used_bytes"] == m["SwapTotal"] - m["SwapFree"] or m["SwapTotal"] > 0, h)


def test_history_summary_continuations_rate(tmp):
    site, sim = start(tmp)
    views(sim, "/wiki/", 5)
    check(run([], site).rc == 0, "restart")
    # A real rate needs an hour of age; shift the recorded run an hour back
    # (written back in the old format, which the reader takes too).
    path = site.path("logs", "kahua-restarter.jsonl")
    lines = site.history()
    for step in lines[0]["restarts"]:
        step["old"]["age_s"] += 3600
    with open(path, "w") as f:
        f.write(json.dumps(lines[0]) + "\n")
    res = run(["history"], site)
    check(res.rc == 0, res)
    head = res.out.splitlines()[0].split()
    check(head[:7] == ["TYPE", "RUNS", "RESTARTS", "FAILURES", "MEAN-MEM", "GROWTH/H", "CONTS/H"], res)
    rows = {l.split()[0]: l.split() for l in res.out.splitlines()[1:] if not l.startswith("#")}
    # 500 continuations more than the fresh replacement, over about an hour
    # (the ages are read a second or so apart).
    check(480 <= int(rows["wiki"][6].rstrip("/h")) <= 510, res.out)
    check(rows["hello"][6] == "0/h", res.out)
    check(rows["wiki"][5].endswith("M/h"), res.out)
    js = run(["history", "--json"], site).json()
    wiki = [t for t in js["types"] if t["type"] == "wiki"][0]
    check(480 <= wiki["continuations_per_hour"] <= 510, wiki)


def test_simulator_answers_recorded_evals(tmp):
    """Each recorded eval, sent to a simulator worker: the same reply, counts
    aside (the simulator's worker is fresh), errors byte for byte."""
    site, sim = start(tmp)
    wid = by_type(sim.ls(), "wiki")[0]["wid"]
    vectors = []
    for name in ("failure-modes.json", "eval-combined.json"):
        with open(os.path.join(TOP, "test", "vectors", name)) as f:
            vectors += [c for c in json.load(f) if c["case"].startswith("eval")]
    check(len(vectors) == 9, [c["case"] for c in vectors])
    shapes = {
        "(7101 72)": r'^\(\(\"x-kahua-status\" \"OK\"\)\)\n\(\"\" \"\" \"\(\d+ \d+\)\"\)\n$',
        "gc": r'^\(\(\"x-kahua-status\" \"OK\"\)\)\n\(\"\" \"\" \"\(\(:total-heap-size \d+\) '
              r'\(:free-bytes \d+\) \(:bytes-since-gc \d+\) \(:total-bytes \d+\)\)\"\)\n$',
        "combined": r'^\(\(\"x-kahua-status\" \"OK\"\)\)\n\(\"\" \"\" \"\(\d+ \d+ \(\(:total-heap-size \d+\) '
                    r'\(:free-bytes \d+\) \(:bytes-since-gc \d+\) \(:total-bytes \d+\)\)\)\"\)\n$',
    }
    for case in vectors:
        got = raw_exchange(os.path.join(sim.sockdir, wid), case["sent"].encode()).decode()
        want = case["received"]
        if "ERROR" in want or want.endswith('"60")\n'):
            check(got == want, "%s: %r != %r" % (case["case"], got[:300], want[:300]))
        elif "combined" in case["case"]:
            check(re.match(shapes["combined"], got), (case["case"], got))
        elif "gc-stat" in case["case"]:
            check(re.match(shapes["gc"], got), (case["case"], got))
        else:
            check(re.match(shapes["(7101 72)"], got), (case["case"], got))
    # The counts move as the recording's did: 10 views, +1000 and +10.
    c0, s0 = map(int, re.findall(r'"\((\d+) (\d+)\)"', eval_raw(sim, wid, COUNT_EXPR))[0])
    views(sim, "/wiki/", 10)
    c1, s1 = map(int, re.findall(r'"\((\d+) (\d+)\)"', eval_raw(sim, wid, COUNT_EXPR))[0])
    check((c1 - c0, s1 - s0) == (1000, 10), (c0, s0, c1, s1))
    # Without an sgsid each eval is a new state session, as in Kahua.
    hdr = '(("x-kahua-eval" "#t"))\n'
    for _ in range(3):
        raw_exchange(os.path.join(sim.sockdir, wid), (hdr + COUNT_EXPR).encode())
    c2, s2 = map(int, re.findall(r'"\((\d+) (\d+)\)"', eval_raw(sim, wid, COUNT_EXPR))[0])
    check((c2, s2) == (c1, s1 + 3), (c1, s1, c2, s2))


def test_crontab_line_documented(tmp):
    """The every-5-minutes crontab line with the gates, in crontab.example
    and the man page (the README only points to crontab.example)."""
    want = re.compile(r"^(# )?\*/5\s+\*\s+\*\s+\*\s+\*\s+.*kahua-restarter .*--when-available-below \S+.*$",
                      re.M)
    with open(os.path.join(TOP, "crontab.example")) as f:
        check(want.search(f.read()), "crontab.example lacks the 5-minute gated line")
    with open(os.path.join(TOP, "kahua-restarter.1")) as f:
        man = f.read().replace("\\-", "-").replace("\\(**", "*").replace("\\*", "*")
    check("--when-available-below" in man and "*/5" in man, "man page lacks the 5-minute line")
    # And the line as written is valid: a gated run there exits 0.
    site, sim = start(tmp)
    line = want.search(open(os.path.join(TOP, "crontab.example")).read()).group(0)
    args = line.split("kahua-restarter", 1)[1].split()
    res = run([a for a in args if not a.startswith(">")], site)
    check(res.rc == 0, res)
    wait_for(lambda: site.history(), what="the history line")
    check(time.time() - site.history()[-1]["started"] < 60, site.history()[-1])
