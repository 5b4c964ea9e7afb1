"""Real Kahua: each strategy replaces every worker and keeps what it
promises while it runs (watched through the supervisor's own ls)."""

from harness import CountWatcher, check, run, same_workers
from kahua import alive, recoveries


def strategy_run(site, strategy):
    before = site.ls()
    watch = CountWatcher(site)
    watch.start()
    res = run(["--strategy", strategy, "--json"], site)
    watch.stop()
    # Quiet even when Kahua lost its waitpid race on the way (with all,
    # its (restart *) terminates every worker before it starts any).
    check(res.rc == 0 and res.err == "", res)
    rep = res.json()
    recoveries(rep)
    check(rep["strategy"] == strategy and rep["outcome"] == "ok", rep)
    after = site.wait_whole(5)
    same_workers(before, after)
    check(not {w["wid"] for w in before} & {w["wid"] for w in after}, "a worker was not replaced")
    check(not any(alive(w["pid"]) for w in before), "an old worker process still runs")
    check([r["result"] for r in rep["restarts"]] == ["ok"] * len(before), rep["restarts"])
    return watch


def test_rolling_keeps_every_multi_worker_type_serving(site, tmp):
    watch = strategy_run(site, "rolling")
    check(watch.samples >= 3, "too few samples: %d" % watch.samples)
    # One hello may be down at a time, never both.
    check(watch.low.get("hello", 0) >= 1, "hello had no worker: %r" % watch.low)


def test_surge_never_has_fewer_workers(site, tmp):
    watch = strategy_run(site, "surge")
    check(watch.samples >= 3, "too few samples: %d" % watch.samples)
    check(watch.low == site.want, "a type ran short: %r (want %r)" % (watch.low, site.want))


def test_all_restarts_everything_at_once(site, tmp):
    strategy_run(site, "all")
