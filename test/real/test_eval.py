"""Real Kahua: what a worker holds, through the eval exchange.  The wiki
application registers 100 continuations per view of /wiki/; the leaky one
keeps 5 MiB per view of /leaky/."""

import os
import re

from harness import check, rss, run, same_workers


def conts_by_wid(res):
    """status output: worker id -> CONTS column."""
    lines = res.out.splitlines()
    head = lines[0].split()
    col = head.index("CONTS")
    return {l.split()[-1]: l.split()[col] for l in lines[1:] if not l.startswith("#")}


def test_continuations_grow_with_page_views(site, tmp):
    wiki = [w for w in site.ls() if w["type"] == "wiki"][0]
    res = run(["status"], site)
    check(res.rc == 0 and res.err == "", res)
    before = int(conts_by_wid(res)[wiki["wid"]])
    for _ in range(10):
        check(site.get("/wiki/")[0] == 200, "wiki did not answer")
    res = run(["status", "-v"], site)
    check(res.rc == 0, res)
    check(int(conts_by_wid(res)[wiki["wid"]]) - before >= 1000, res)
    check(re.search(r"\bSESSIONS\b.*\bHEAP\b", res.out.splitlines()[0]), res)
    rep = run(["status", "--json"], site).json()
    w = [x for x in rep["workers_before"] if x["id"] == wiki["wid"]][0]
    check(w["continuations"] >= before + 1000 and w["state_sessions"] >= 10, w)
    check(w["heap_bytes"] > 1 << 20 and w["eval_error"] is None, w)
    check(all(x["continuations"] is not None for x in rep["workers_before"]), rep)


def test_max_conts_restarts_the_wiki_worker_alone(site, tmp):
    for _ in range(10):
        check(site.get("/wiki/")[0] == 200, "wiki did not answer")
    before = site.ls()
    wiki = [w for w in before if w["type"] == "wiki"][0]
    prom = os.path.join(tmp, "k.prom")
    res = run(["--max-conts", "500", "--json", "--prom", prom], site)
    check(res.rc == 0 and res.err == "", res)
    rep = res.json()
    check([r["old"]["id"] for r in rep["restarts"]] == [wiki["wid"]], rep["restarts"])
    check(rep["restarts"][0]["reason"].startswith("continuations "), rep["restarts"])
    after = site.wait_whole(5)
    same_workers(before, after)
    check({w["wid"] for w in before} - {w["wid"] for w in after} == {wiki["wid"]}, after)
    text = open(prom).read()
    for name in ("kahua_worker_continuations", "kahua_worker_state_sessions",
                 "kahua_worker_heap_bytes"):
        rows = [l for l in text.splitlines() if l.startswith(name + "{")]
        check(len(rows) == len(after), "%s: %r" % (name, rows))
        check(all(re.search(r',type="\w+",rank="\d"\} \d+$', l) for l in rows), rows)
    for w in after:
        check(w["wid"] not in text, "worker id in the metrics")


def test_eval_probe_costs_the_leaky_worker_nothing(site, tmp):
    grown = {}
    for probe in ("eval", "http"):
        res = run(["--json", "--no-http-check", "--probe", probe, "restart", "leaky"], site)
        check(res.rc == 0, res)
        step = res.json()["restarts"][0]
        new = site.wait_whole(5)
        pid = [w["pid"] for w in new if w["type"] == "leaky"][0]
        check(pid == step["new"]["pid"], (pid, step))
        grown[probe] = rss(pid) - step["new"]["rss_bytes"]
    check(grown["eval"] < 1 << 20, "the eval probe cost %d bytes" % grown["eval"])
    check(grown["http"] >= 4 << 20, "the web probe cost only %d bytes" % grown["http"])


def test_gate_restarts_nothing(site, tmp):
    before = site.ls()
    res = run(["--when-available-below", "1K"], site)
    check(res.rc == 0 and res.out == "" and res.err == "", res)
    check(site.ls() == before, "a gated run restarted workers")
    last = site.history()[-1]
    check(last["outcome"] == "skipped" and last["skip_reason"].startswith("MemAvailable "), last)
    check(last["host"]["mem_available_bytes"] > 0, last)
