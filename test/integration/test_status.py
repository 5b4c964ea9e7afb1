"""status: the table and its JSON match the supervisor's ls and /proc,
with the memory metric named."""

from harness import (check, run, start)


def test_status_lists_every_worker(tmp):
    site, sim = start(tmp)
    ws = sim.ls()
    res = run(["status"], site)
    check(res.rc == 0, res)
    check(res.err == "", res)
    lines = res.out.splitlines()
    check(lines[0].split()[:8] == ["WNO", "PID", "TYPE", "AGE", "RSS", "STATE", "CONTS", "WORKER-ID"], res)
    check(len(lines) == 1 + len(ws), res)
    for w, line in zip(ws, lines[1:]):
        f = line.split()
        check(f[0] == str(w["wno"]) and f[1] == str(w["pid"]) and f[2] == w["type"]
              and f[5] == "live" and f[-1] == w["wid"], "row %r for %r" % (line, w))


def test_status_json_matches_supervisor(tmp):
    site, sim = start(tmp)
    ws = sim.ls()
    res = run(["status", "--json"], site)
    check(res.rc == 0, res)
    rep = res.json()
    got = [(w["id"], w["number"], w["pid"], w["type"]) for w in rep["workers_before"]]
    want = [(w["wid"], w["wno"], w["pid"], w["type"]) for w in ws]
    check(got == want, "json %r != ls %r" % (got, want))
    check(all(w["rss_bytes"] > 1024 * 1024 for w in rep["workers_before"]), rep)
    check(rep["outcome"] == "ok" and rep["exit_status"] == 0, rep)


def test_memory_pss_named_in_status(tmp):
    site, sim = start(tmp)
    res = run(["status", "--memory", "pss"], site)
    check(res.rc == 0, res)
    check(res.out.split()[4] == "PSS", res.out)
    rep = run(["status", "--memory", "pss", "--json"], site).json()
    check(rep["metric"] == "pss" and all(w["pss_bytes"] for w in rep["workers_before"]), rep)
