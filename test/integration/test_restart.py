"""restart: every target form, the strategies, a short type topped up,
and the site checked after each replacement.  Every test that restarts
asserts that no worker was lost."""

from harness import (alive, check, one_line, run, same_workers, start, CountWatcher)


def test_restart_replaces_every_worker_quietly(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    res = run([], site)
    check(res.rc == 0, res)
    check(res.out == "" and res.err == "", "not quiet: %r" % res)
    after = sim.ls()
    same_workers(before, after)
    old_pids = {w["pid"] for w in before}
    check(not old_pids & {w["pid"] for w in after}, "a pid survived: %r %r" % (before, after))
    check(not {w["wid"] for w in before} & {w["wid"] for w in after}, "an id survived")
    check(not any(alive(p) for p in old_pids), "an old worker process still runs")


def restart_only(tmp, target, pick):
    site, sim = start(tmp)
    before = sim.ls()
    chosen = [w for w in before if pick(w)]
    res = run(["restart", target], site)
    check(res.rc == 0, res)
    after = sim.ls()
    same_workers(before, after)
    after_wids = {w["wid"] for w in after}
    for w in before:
        kept = w["wid"] in after_wids
        check(kept != (w in chosen), "worker %r %s" % (w, "kept" if kept else "restarted"))


def test_restart_by_type(tmp):
    restart_only(tmp, "hello", lambda w: w["type"] == "hello")


def test_restart_by_number(tmp):
    restart_only(tmp, "2", lambda w: w["wno"] == 2)


def test_restart_by_id(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    wid = before[1]["wid"]
    res = run(["restart", wid], site)
    check(res.rc == 0, res)
    after = sim.ls()
    same_workers(before, after)
    check(wid not in {w["wid"] for w in after}, "worker %s not restarted" % wid)
    check({w["wid"] for w in before if w["wid"] != wid} <= {w["wid"] for w in after},
          "another worker was restarted")


def test_unknown_target_is_usage_error_naming_types(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    for target in ("nosuchtype", "999", "zz:zz"):
        res = run(["restart", target], site)
        check(res.rc == 64, res)
        line = one_line(res)
        check(target in line and "hello" in line and "leaky" in line, line)
    check(sim.ls() == before, "something was restarted")


def test_worker_that_dies_before_its_restart_is_replaced(tmp):
    # The simulator kills its last worker right after answering the first
    # ls (the restarter's).  As in Kahua, the entry stays, dead.  Seen dead
    # already, it is healed (removed, the type topped up); seen live, its
    # restart by id starts the replacement all the same.  Either way the
    # site ends whole.
    site, sim = start(tmp, faults=["lose-worker"])
    res = run(["--json"], site)
    check(res.rc == 0, res)
    rep = res.json()
    lost = rep["workers_before"][-1]
    check(all(r["result"] == "ok" for r in rep["restarts"]), rep["restarts"])
    healed = [h["id"] for h in rep["healed"]]
    check((len(rep["restarts"]) == 3 and healed == []) or
          (len(rep["restarts"]) == 2 and healed == [lost["id"]]), rep)
    after = sim.ls()
    check(lost["id"] not in {w["wid"] for w in after}, after)
    check(sim.failing() == [] and sim.counts() == {"hello": 2, "leaky": 1}, after)


def test_site_answering_500_exits_1_after_restart(tmp):
    site, sim = start(tmp, faults=["http-500"])
    before = sim.ls()
    res = run(["--retries", "0"], site)
    check(res.rc == 1, res)
    line = one_line(res)
    check("500" in line and "http://127.0.0.1:%d/hello/" % sim.port in line, line)
    check(before[0]["wid"] in line, "the worker after which the site failed is not named: " + line)
    after = sim.ls()
    same_workers(before, after)
    # The rollout stopped after the first worker: the others keep serving.
    check([w["wid"] for w in after[:2]] == [w["wid"] for w in before[1:]], (before, after))


def test_all_strategy_checks_site_once_at_the_end(tmp):
    site, sim = start(tmp, faults=["http-500"])
    before = sim.ls()
    res = run(["--strategy", "all", "--retries", "0", "--json"], site)
    check(res.rc == 1, res)
    rep = res.json()
    check(len(rep["http_checks"]) == 2, rep["http_checks"])
    check(not {w["pid"] for w in before} & {w["pid"] for w in sim.ls()}, "not all restarted")


def test_rolling_restarts_one_at_a_time(tmp):
    site, sim = start(tmp)
    res = run(["-v"], site)
    check(res.rc == 0, res)
    events = [l for l in res.err.splitlines() if "restarting worker" in l or "restarted worker" in l]
    check(len(events) == 6, res.err)
    for i in range(0, 6, 2):
        check("restarting worker" in events[i] and "restarted worker" in events[i + 1], events)
        check(events[i].split()[3] == events[i + 1].split()[3], "interleaved: %r" % events)


def test_strategy_all(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    res = run(["--strategy", "all", "-v"], site)
    check(res.rc == 0, res)
    check("at once" in res.err, res.err)
    after = sim.ls()
    same_workers(before, after)
    check(not {w["pid"] for w in before} & {w["pid"] for w in after}, "not restarted")


def test_surge_never_has_fewer_workers(tmp):
    site, sim = start(tmp, worker_delay=200)
    before = sim.ls()
    watch = CountWatcher(sim)
    watch.start()
    res = run(["--strategy", "surge"], site)
    watch.stop()
    check(res.rc == 0, res)
    after = sim.ls()
    same_workers(before, after)
    check(not {w["pid"] for w in before} & {w["pid"] for w in after}, "not restarted")
    # ls waits on the supervisor lock during each run command, so samples
    # fall between commands: exactly the states a client can observe.
    check(watch.samples >= 3, "too few samples: %d" % watch.samples)
    check(watch.low == {"hello": 2, "leaky": 1}, "a type ran short: %r" % watch.low)


def test_rolling_keeps_every_type_serving(tmp):
    site, sim = start(tmp, worker_delay=200)
    watch = CountWatcher(sim)
    watch.start()
    res = run([], site)
    watch.stop()
    check(res.rc == 0, res)
    # One hello may be down at a time, never both.
    check(watch.low.get("hello", 0) >= 1, "hello had no worker: %r" % watch.low)


def test_top_up_short_type(tmp):
    site, sim = start(tmp)
    ws = sim.ls()
    hello = [w for w in ws if w["type"] == "hello"]
    sim.call("(kill %d)" % hello[0]["wno"])
    check(sim.counts() == {"hello": 1, "leaky": 1}, "kill failed")
    res = run(["--no-top-up", "restart", "leaky"], site)
    check(res.rc == 0, res)
    check("hello: 1 of 2" in one_line(res), res)
    check(sim.counts()["hello"] == 1, "--no-top-up topped up")
    res = run(["restart", "leaky"], site)
    check(res.rc == 0, res)
    check("topping up" in res.err, res)
    check(sim.counts() == {"hello": 2, "leaky": 1}, "not topped up: %r" % sim.counts())
