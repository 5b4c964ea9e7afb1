"""Real Kahua: the JSON report, the history file and the Prometheus
metrics of a real run agree with what the supervisor and /proc say."""

import os

import histfmt
from harness import check, rss, run
from kahua import recoveries


def test_json_report_history_and_prometheus_of_a_real_run(site, tmp):
    for _ in range(6):
        check(site.get("/leaky/")[0] == 200, "leaky did not answer")
    before = site.ls()
    leaky = [w for w in before if w["type"] == "leaky"][0]
    leaky_rss = rss(leaky["pid"])
    prom = os.path.join(tmp, "kahua.prom")
    runs0 = len(site.history())
    res = run(["--json", "--prom", prom], site)
    check(res.rc == 0 and res.err == "", res)
    rep = res.json()
    recoveries(rep)
    after = site.wait_whole(5)

    check(rep["site"] == site.root and rep["command"] == "restart", rep)
    check(rep["strategy"] == "rolling" and rep["metric"] == "rss" and rep["dry_run"] is False, rep)
    check([(w["id"], w["pid"], w["number"], w["start_time"]) for w in rep["workers_before"]]
          == [(w["wid"], w["pid"], w["wno"], w["start"]) for w in before], rep["workers_before"])
    check([(w["id"], w["pid"], w["number"]) for w in rep["workers_after"]]
          == [(w["wid"], w["pid"], w["wno"]) for w in after], rep["workers_after"])
    check(len(rep["restarts"]) == len(before), rep["restarts"])
    for r, old in zip(rep["restarts"], before):
        check(r["old"]["id"] == old["wid"] and r["old"]["pid"] == old["pid"], r)
        check(r["result"] == "ok" and r["new"]["type"] == old["type"] and not r["killed"], r)
        check(r["new"]["id"] in {w["wid"] for w in after}, r)
        check(r["restart_ms"] > 0 and r["probe_ms"] >= 0 and r["error"] is None, r)
    leak = [r for r in rep["restarts"] if r["old"]["id"] == leaky["wid"]][0]
    check(abs(leak["old"]["rss_bytes"] - leaky_rss) < 8 << 20, (leak, leaky_rss))
    check(leak["freed_bytes"] > 20 << 20, leak)
    check(rep["memory_freed_bytes"] >= leak["freed_bytes"], rep)
    urls = [h["url"] for h in rep["http_checks"]]
    check(urls == [site.url("/%s/" % w["type"]) for w in before], urls)
    check(all(h["ok"] and h["status"] == 200 for h in rep["http_checks"]), rep["http_checks"])
    check({t["type"]: (t["running"], t["run_by_default"]) for t in rep["types"]}
          == {t: (n, n) for t, n in site.want.items()}, rep["types"])
    check(rep["outcome"] == "ok" and rep["exit_status"] == 0 and rep["error"] is None, rep)

    # History: the same report, one compact line (no nulls, fractions to six digits).
    hist = site.history()
    check(len(hist) == runs0 + 1 and hist[-1] == histfmt.expand(histfmt.compact(rep)),
          "history line differs from the report")

    text = open(prom).read()
    check(not os.path.exists(prom + ".tmp"), "tmp file left")
    label = 'site="%s"' % site.root
    for t, n in site.want.items():
        for m in ("kahua_restarter_workers", "kahua_restarter_workers_wanted"):
            want = '%s{%s,type="%s"} %d' % (m, label, t, n)
            check(want in text.splitlines(), "missing %r in\n%s" % (want, text))
    check('kahua_restarter_last_exit_status{%s} 0' % label in text.splitlines(), text)
    freed = [l for l in text.splitlines() if l.startswith("kahua_restarter_memory_freed_bytes{")]
    check(len(freed) == 1 and int(float(freed[0].split()[-1])) == rep["memory_freed_bytes"], freed)
    ups = [l for l in text.splitlines() if l.startswith("kahua_restarter_http_check_up{")]
    check(ups and all(l.endswith(" 1") for l in ups), ups)


def test_history_command_over_real_runs(site, tmp):
    check(run(["restart", "hello"], site).rc == 0, "restart")
    res = run(["history", "--json"], site)
    check(res.rc == 0, res)
    js = res.json()
    rows = {t["type"]: t for t in js["types"]}
    check(js["runs"] == len(site.history()), js)
    check(rows["hello"]["restarts"] >= 2 and rows["hello"]["failures"] == 0, rows)


def test_chart_of_real_runs(site, tmp):
    """history --svg over runs on a real Kahua: valid XML, a series per type,
    the leaky worker's growth and its drop at each restart."""
    from test_chart import by_class, parse, points, texts
    runs0 = len(site.history())
    for _ in range(2):
        for _ in range(4):
            check(site.get("/leaky/")[0] == 200, "leaky did not answer")
        check(run([], site).rc == 0, "restart")
    out = os.path.join(tmp, "chart.svg")
    res = run(["history", "--svg", out], site)
    check(res.rc == 0 and res.out == "" and res.err == "", res)
    root = parse(out)
    words = texts(root)
    check(any(site.root in w for w in words), "title lacks the site")
    check(any(" %d runs: %d with restarts, 0 failed" % (runs0 + 2, runs0 + 2) in w
              for w in words), words[:3])
    types = [w for w in words if w in site.want]
    check(sorted(types) == sorted(site.want), "legend %r, site %r" % (types, site.want))
    leaky = by_class(root, "mem t%d" % types.index("leaky"))
    check(len(leaky) == 1, "one leaky series")
    pts = points(leaky[0].get("d"))
    # y grows downwards: at each restart the series falls from peak to trough.
    drops = [b[1] - a[1] for a, b in zip(pts, pts[1:]) if a[0] == b[0] and b[1] > a[1]]
    check(len(drops) >= 2, "leaky drops at the restarts: %r" % pts)
