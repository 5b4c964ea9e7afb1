"""Real Kahua: only workers over a threshold are restarted.  The leaky
application keeps 5 MiB per GET /leaky/, so its worker's RSS grows on
real /proc numbers."""

from harness import check, rss, run, same_workers
from kahua import recoveries


def grow_leaky(site, n):
    for _ in range(n):
        code, _ = site.get("/leaky/")
        check(code == 200, "leaky answered %d" % code)


def test_min_rss_restarts_only_the_leaky_worker(site, tmp):
    grow_leaky(site, 10)        # +50 MiB over fresh gosh workers
    before = site.ls()
    leaky = [w for w in before if w["type"] == "leaky"][0]
    others = [rss(w["pid"]) for w in before if w is not leaky]
    size = rss(leaky["pid"])
    # A threshold between the others' size and the leaky worker's.
    limit_mb = (max(others) + size) // 2 >> 20
    check(size >> 20 > limit_mb > max(others) >> 20, "leaky %d, others %r" % (size, others))
    res = run(["--min-rss", "%dM" % limit_mb, "-n", "--json"], site)
    check(res.rc == 0, res)
    plan = res.json()["restarts"]
    check([r["old"]["id"] for r in plan] == [leaky["wid"]], plan)
    check(plan[0]["result"] == "planned" and plan[0]["reason"].startswith("rss "), plan)
    res = run(["--min-rss", "%dM" % limit_mb, "--json"], site)
    check(res.rc == 0 and res.err == "", res)
    rep = res.json()
    recoveries(rep)
    after = site.wait_whole(5)
    same_workers(before, after)
    gone = {w["wid"] for w in before} - {w["wid"] for w in after}
    check(gone == {leaky["wid"]}, "restarted %r, expected only leaky" % gone)
    check(rep["restarts"][0]["freed_bytes"] > 30 << 20, rep["restarts"])


def test_thresholds_none_match_restarts_nothing(site, tmp):
    before = site.ls()
    res = run(["--min-rss", "10G", "--max-age", "1d"], site)
    check(res.rc == 0 and res.err == "", res)
    check(site.ls() == before, "something restarted")


def test_max_age_from_the_supervisors_start_time(site, tmp):
    import time
    before = site.ls()
    newest = max(w["start"] for w in before)
    time.sleep(max(0.0, newest + 3 - time.time()))
    rep = run(["-n", "--max-age", "2s", "--json"], site).json()
    check(len(rep["restarts"]) == len(before), rep["restarts"])
    check(all(r["reason"].startswith("age ") for r in rep["restarts"]), rep["restarts"])
    rep = run(["-n", "--max-age", "1h", "--json"], site).json()
    check(rep["restarts"] == [], rep["restarts"])
