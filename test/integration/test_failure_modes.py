"""Real Kahua's failure modes: a worker that died stays listed (:worker-pid
#f) and keeps getting requests; a bad deploy registers "ERROR loading
module" entries; under load a restart can lose the supervisor's waitpid
race.  Each case: the exit status, the line, the JSON, and the
supervisor's table afterwards (no dead or broken entry left, counts whole,
no process lost or stray)."""

import os
import re
import signal
import threading
import time
import urllib.error
import urllib.request

import histfmt
from harness import Sim, Site, alive, check, descendants, one_line, run, wait_for

FAST = ["--ctl-timeout", "2", "--kill-after", "1", "--worker-timeout", "2", "--timeout", "30"]
WHOLE = {"hello": 2, "leaky": 1}

# A Kahua application file; without its line 8 it ends inside a list.
HELLO_KAHUA = """;; -*- coding: utf-8; mode: kahua -*-
;; hello.kahua -- trivial Kahua application.
;; GET /hello/  -> 200, body contains "hello"

(define-entry (hello)
  (html/
   (head/ (title/ "hello"))
   (body/ (p/ "hello"))))

(initialize-main-proc hello)
"""
LOAD_ERROR = 'line 10: EOF inside a list (starting from line 6)'


def start(tmp, faults=()):
    site = Site(tmp)
    return site, Sim(site, faults=faults)


def write_app(site, broken):
    os.makedirs(site.path("app", "hello"), exist_ok=True)
    lines = HELLO_KAHUA.splitlines(True)
    text = "".join(l for i, l in enumerate(lines, 1) if not (broken and i == 8))
    with open(site.path("app", "hello", "hello.kahua"), "w") as f:
        f.write(text)


def kill_worker(sim, type_):
    """SIGKILL a worker of type_ and wait until the supervisor lists it dead."""
    w = next(w for w in sim.ls() if w["type"] == type_)
    os.kill(w["pid"], signal.SIGKILL)
    wait_for(lambda: any(x["wno"] == w["wno"] and x["pid"] is None for x in sim.ls()), 10,
             "the dead entry to lose its pid")
    return w


def broken_entries(sim, n):
    """A bad deploy, then n workers of it started: n "ERROR loading module" entries."""
    write_app(sim.site, broken=True)
    for _ in range(n):
        check("ERROR loading module" in sim.call("(run hello)"), "run did not register a broken entry")
    return [w for w in sim.ls() if w["wid"] == "ERROR loading module"]


def whole(sim, want=WHOLE):
    """Nothing that cannot serve is listed, and every type is at its count."""
    check(sim.failing() == [], "entries that cannot serve are left: %r" % sim.failing())
    check(sim.counts() == want, "counts %r, wanted %r" % (sim.counts(), want))


def no_stray(sim):
    """Every child of the supervisor is a listed worker or the HTTP front."""
    kids = set(descendants(sim.pid))
    listed = {w["pid"] for w in sim.ls() if w["pid"] is not None}
    check(listed <= kids, "listed workers %r are not the supervisor's children %r" % (listed, kids))
    check(len(kids - listed) == 1, "stray processes: %r" % (kids - listed))


def statuses(sim, path, n):
    out = []
    for _ in range(n):
        out.append(sim.get(path)[0])
    return out


def warnings(res):
    return [l for l in res.err.splitlines() if l.startswith("kahua-restarter: warning: ")]


# ---- reading: status and check are not blind ----

def test_status_lists_dead_entry(tmp):
    site, sim = start(tmp)
    dead = kill_worker(sim, "leaky")
    res = run(["status"], site)
    check(res.rc == 0 and res.err == "", res)
    row = next(l.split() for l in res.out.splitlines() if l.split()[:1] == [str(dead["wno"])])
    check(row[1] == "-" and row[2] == "leaky" and row[5] == "dead" and row[-1] == dead["wid"], row)
    check("# worker %d (leaky) is dead: the supervisor lists no pid for it" % dead["wno"] in res.out,
          res.out)
    rep = run(["status", "--json"], site).json()
    w = next(w for w in rep["workers_before"] if w["number"] == dead["wno"])
    check(w["state"] == "dead" and w["pid"] is None and w["rss_bytes"] is None, w)
    check(all(w["state"] == "live" for w in rep["workers_before"] if w["number"] != dead["wno"]), rep)


def test_check_fails_on_dead_entry(tmp):
    site, sim = start(tmp)
    dead = kill_worker(sim, "leaky")
    before = sim.ls()
    # The supervisor still sends requests to it, and each fails.
    check(500 in statuses(sim, "/leaky/", 2), "the dead entry did not fail requests")
    res = run(["check", "--json"], site)
    check(res.rc == 1, res)
    line = one_line(res)
    check("worker %d (leaky) is dead" % dead["wno"] in line and "leaky has 0 of 1 workers" in line
          and "requests sent to them fail" in line, line)
    check(res.json()["outcome"] == "unhealthy", res.out)
    check(sim.ls() == before, "check changed the table")


def test_status_and_check_show_broken_entries(tmp):
    site, sim = start(tmp)
    broken = broken_entries(sim, 2)
    check(len(broken) == 2, broken)
    res = run(["status"], site)
    check(res.rc == 0, res)
    rows = [l for l in res.out.splitlines() if l.endswith("ERROR loading module")]
    check(len(rows) == 2 and all(r.split()[5] == "broken" for r in rows), res.out)
    rep = run(["status", "--json"], site).json()
    got = sorted(w["number"] for w in rep["workers_before"] if w["state"] == "broken")
    check(got == sorted(w["wno"] for w in broken), rep["workers_before"])
    res = run(["check"], site)
    check(res.rc == 1, res)
    line = one_line(res)
    for w in broken:
        check("worker %d (hello) is broken (its application did not load" % w["wno"] in line, line)


# ---- healing before the rollout ----

def test_restart_heals_dead_entry(tmp):
    site, sim = start(tmp)
    dead = kill_worker(sim, "leaky")
    prom = os.path.join(tmp, "k.prom")
    res = run(FAST + ["--json", "--prom", prom], site)
    check(res.rc == 0, res)
    warn = warnings(res)
    check(len(warn) == 1 and len(res.err.splitlines()) == 1, res.err)
    check(re.fullmatch(r"kahua-restarter: warning: worker %d \(leaky\) had died \(.+\) and still "
                       r"received requests: removed; leaky back to 1 of 1" % dead["wno"], warn[0]), warn)
    healed = res.json()["healed"]
    check(len(healed) == 1, healed)
    h = healed[0]
    check(h["number"] == dead["wno"] and h["id"] == dead["wid"] and h["type"] == "leaky"
          and h["state"] == "dead" and h["pid"] is None and h["removed"] and h["why"], h)
    check(site.history()[-1]["healed"] == histfmt.tidy(healed), site.history()[-1])
    text = open(prom).read()
    check(re.search(r'kahua_restarter_healed_entries\{site="[^"]+",type="leaky"\} 1\n', text), text)
    check(re.search(r'kahua_restarter_healed_entries\{site="[^"]+",type="hello"\} 0\n', text), text)
    whole(sim)
    no_stray(sim)
    check(statuses(sim, "/leaky/", 3) == [200] * 3 and statuses(sim, "/hello/", 4) == [200] * 4,
          "requests still fail after healing")


def test_restart_heals_broken_entries_after_a_fixed_deploy(tmp):
    site, sim = start(tmp)
    broken = broken_entries(sim, 2)
    write_app(site, broken=False)
    res = run(FAST + ["--json"], site)
    check(res.rc == 0, res)
    warn = warnings(res)
    check(len(warn) == 2 and len(res.err.splitlines()) == 2, res.err)
    for w, line in zip(broken, warn):
        check("worker %d (hello) was broken (its application did not load" % w["wno"] in line
              and line.endswith("removed; hello back to 2 of 2"), line)
    check([h["state"] for h in res.json()["healed"]] == ["broken", "broken"], res.out)
    whole(sim)
    no_stray(sim)


def test_dry_run_shows_the_healing(tmp):
    site, sim = start(tmp)
    dead = kill_worker(sim, "leaky")
    before = sim.ls()
    res = run(["-n"], site)
    check(res.rc == 0 and res.err == "", res)
    check("heal: remove worker %d (leaky, dead: " % dead["wno"] in res.out, res.out)
    check("top up leaky: 0 of 1 running (reload)" in res.out, res.out)
    rep = run(["-n", "--json"], site).json()
    check([(h["number"], h["removed"]) for h in rep["healed"]] == [(dead["wno"], False)], rep)
    check(sim.ls() == before, "a dry run changed the table")


def test_no_top_up_heals_and_says_so(tmp):
    site, sim = start(tmp)
    dead = kill_worker(sim, "leaky")
    res = run(FAST + ["--no-top-up"], site)
    check(res.rc == 0, res)
    warn = warnings(res)
    check(len(warn) == 1 and warn[0].endswith(
        "removed; leaky has 0 of 1 (not topped up: --no-top-up)"), res.err)
    check(all(w["wno"] != dead["wno"] for w in sim.ls()), "the dead entry is still listed")
    whole(sim, {"hello": 2})


def test_entry_the_supervisor_will_not_remove(tmp):
    # Kahua: a kill that meets a worker reaped meanwhile fails ("kill
    # failed: No such process") and the entry is never removed after.
    site, sim = start(tmp, ["kill-race"])
    dead = kill_worker(sim, "leaky")
    res = run(FAST + ["--json"], site)
    check(res.rc == 0, res)
    warn = warnings(res)
    check(len(warn) == 1 and len(res.err.splitlines()) == 1, res.err)
    check(("worker %d (leaky) has died" % dead["wno"]) in warn[0]
          and "still receives requests: the supervisor would not remove worker %d" % dead["wno"] in warn[0]
          and "kill failed: No such process" in warn[0] and warn[0].endswith("leaky has 1 live of 1"),
          warn[0])
    h = res.json()["healed"]
    check(len(h) == 1 and not h[0]["removed"] and "would not remove" in h[0]["error"], h)
    # reload counts the kept entry: the type was topped up with (run leaky).
    live = [w for w in sim.ls() if w not in sim.failing()]
    check(sorted(w["type"] for w in live) == ["hello", "hello", "leaky"], sim.ls())
    check([w["wno"] for w in sim.failing()] == [dead["wno"]], sim.failing())
    res = run(["check"], site)
    check(res.rc == 1 and ("worker %d (leaky) is dead" % dead["wno"]) in one_line(res), res)
    no_stray(sim)


# ---- a replacement that does not load ----

def bad_deploy_rolling(tmp, strategy_args):
    site, sim = start(tmp)
    write_app(site, broken=True)
    before = sim.ls()
    res = run(FAST + ["--json"] + strategy_args, site)
    check(res.rc == 1, res)
    line = one_line(res)
    log = site.path("logs", "kahua-spvr.log")
    check("*** READ-ERROR: Read error at \"%s\":%s" % (site.path("app", "hello", "hello.kahua"),
                                                      LOAD_ERROR) in line and log in line, line)
    return site, sim, before, res, line


def test_bad_deploy_stops_rolling(tmp):
    site, sim, before, res, line = bad_deploy_rolling(tmp, [])
    first = before[0]
    check(("worker %s (hello) was restarted, but its replacement" % first["wid"]) in line
          and "is broken (its application did not load" in line and "removed it" in line
          and "hello is one short (1 of 2 workers), not topped up" in line, line)
    rep = res.json()
    check([s["result"] for s in rep["restarts"]] == ["failed", "planned", "planned"], rep["restarts"])
    # No broken entry left, one live hello serving, the rest untouched.
    whole(sim, {"hello": 1, "leaky": 1})
    check([w["wid"] for w in sim.ls()] == [w["wid"] for w in before[1:]], sim.ls())
    check(statuses(sim, "/hello/", 4) == [200] * 4, "hello does not serve")
    no_stray(sim)


def test_bad_deploy_surge_leaves_the_type_untouched(tmp):
    site, sim, before, res, line = bad_deploy_rolling(tmp, ["--strategy", "surge"])
    check("a new hello worker did not come up" in line and "is broken" in line
          and "worker %s keeps serving, nothing lost" % before[0]["wid"] in line, line)
    check(sim.ls() == before, "surge changed the table: %r" % sim.ls())
    no_stray(sim)


def test_bad_deploy_all_leaves_no_broken_entry(tmp):
    site, sim, before, res, line = bad_deploy_rolling(tmp, ["--strategy", "all"])
    check("is broken" in line and "removed it" in line, line)
    check(sim.failing() == [], "broken entries left: %r" % sim.failing())
    check(sim.counts().get("leaky") == 1, sim.ls())
    no_stray(sim)


def test_top_up_of_a_bad_deploy_is_removed(tmp):
    site, sim = start(tmp)
    dead = kill_worker(sim, "hello")
    write_app(site, broken=True)
    res = run(FAST, site)
    check(res.rc == 1, res)
    warn = warnings(res)
    check(len(warn) == 1 and "worker %d (hello) had died" % dead["wno"] in warn[0]
          and warn[0].endswith("removed; hello has 1 of 2"), res.err)
    line = [l for l in res.err.splitlines() if "warning" not in l]
    check(len(line) == 1 and line[0].startswith("kahua-restarter: topping up hello: worker ")
          and "is broken" in line[0] and "removed it" in line[0]
          and "hello has 1 of 2 workers" in line[0] and LOAD_ERROR in line[0], res.err)
    whole(sim, {"hello": 1, "leaky": 1})
    no_stray(sim)


def test_worker_dies_at_start_rolling_stops(tmp):
    site, sim = start(tmp, ["die-at-start"])
    before = sim.ls()
    res = run(FAST + ["--no-top-up"], site)
    check(res.rc == 1, res)
    line = one_line(res)
    check(before[0]["wid"] in line and "exited before giving a worker id" in line
          and "removed it" in line and "no error logged by worker" in line, line)
    # The rollout stopped: the other workers keep serving, untouched.
    check([w["wid"] for w in sim.ls()] == [w["wid"] for w in before[1:]], sim.ls())
    check(sim.failing() == [], sim.failing())


def test_worker_dies_at_start_surge_loses_nothing(tmp):
    site, sim = start(tmp, ["die-at-start"])
    before = sim.ls()
    res = run(FAST + ["--strategy", "surge"], site)
    check(res.rc == 1, res)
    check("nothing lost" in one_line(res), res)
    check(sim.ls() == before, "surge lost a worker: %r" % sim.ls())


# ---- the restart race ----

def recorded_recoveries(site, res, want):
    """Each step of the run's JSON report and of its history line says
    what the program put right, and the metrics count it."""
    steps = res.json()["restarts"]
    check([s["result"] for s in steps] == ["ok"] * len(steps), res.out)
    said = [s["recovered"] for s in steps]
    check(all(r is not None and r.startswith("waitpid race: ") and want(s, r) for s, r in zip(steps, said)),
          said)
    check([s.get("recovered") for s in site.history()[-1]["restarts"]] == said, site.history()[-1])


def test_restart_race_is_recovered_quietly(tmp):
    site, sim = start(tmp, ["restart-race=1"])
    before = sim.ls()
    prom = os.path.join(tmp, "kr.prom")
    res = run(FAST + ["--json", "--prom", prom], site)
    # Put right by the program: nothing for a person to do, nothing printed.
    check(res.rc == 0 and res.err == "", res)
    recorded_recoveries(site, res, lambda s, r: r == "waitpid race: replacement started with (run %s)"
                        % s["old"]["type"])
    with open(prom) as f:
        text = f.read()
    races = dict(re.findall(r'^kahua_restarter_recovered_races\{.*type="(\w+)"\} (\d+)$', text, re.M))
    check(races == {"hello": "2", "leaky": "1"}, text)
    whole(sim)
    check(not {w["wid"] for w in before} & {w["wid"] for w in sim.ls()}, "not restarted")
    no_stray(sim)


def test_restart_race_is_narrated_with_v(tmp):
    site, sim = start(tmp, ["restart-race=1"])
    before = sim.ls()
    res = run(FAST + ["-v"], site)
    check(res.rc == 0 and warnings(res) == [], res)
    said = [l for l in res.err.splitlines() if "the supervisor started no replacement" in l]
    check(len(said) == 3, res.err)
    for w, line in zip(before, said):
        check(("worker %s (%s) was terminated but the supervisor started no replacement" % (w["wid"], w["type"])) in line
              and "waitpid() failed: No child processes" in line and "with (run TYPE)" in line, line)


def test_kill_race_of_a_surge_is_recovered_quietly(tmp):
    # Kahua's kill waits for the worker as its restart does, and loses
    # the same race under load: the old worker is gone and unlisted, but
    # the reply is an error.  Seen on real Kahua in a surge under load.
    site, sim = start(tmp, ["restart-race=1"])
    before = sim.ls()
    res = run(FAST + ["--strategy", "surge", "--json"], site)
    check(res.rc == 0 and res.err == "", res)
    recorded_recoveries(site, res, lambda s, r: "(kill %d) failed after the worker was gone" % s["old"]["number"] in r)
    whole(sim)
    check(not {w["wid"] for w in before} & {w["wid"] for w in sim.ls()}, "not replaced")
    no_stray(sim)


def test_restart_race_of_all_is_recovered_quietly(tmp):
    site, sim = start(tmp, ["restart-race=1"])
    before = sim.ls()
    res = run(FAST + ["--strategy", "all", "--json"], site)
    # (restart *) stops at the first worker it loses; those it did not
    # reach are restarted one by one (and lose the race too, here).
    check(res.rc == 0 and res.err == "", res)
    recorded_recoveries(site, res, lambda s, r: r == "waitpid race: replacement started with (run %s)"
                        % s["old"]["type"])
    whole(sim)
    check(not {w["wid"] for w in before} & {w["wid"] for w in sim.ls()}, "not restarted")
    no_stray(sim)


def test_restart_race_then_a_replacement_that_does_not_load(tmp):
    site, sim = start(tmp, ["restart-race=1"])
    write_app(site, broken=True)
    res = run(FAST, site)
    check(res.rc == 1, res)
    line = one_line(res)
    check("is broken" in line and "hello is one short (1 of 2 workers)" in line and LOAD_ERROR in line, line)
    whole(sim, {"hello": 1, "leaky": 1})
    no_stray(sim)


def load(sim, stop, results, rate):
    """GET /hello/ and /leaky/ at about rate requests/s until stop is set."""
    t0, i = time.monotonic(), 0
    while not stop.is_set():
        path = "/hello/" if i % 3 else "/leaky/"
        try:
            with urllib.request.urlopen(sim.url(path), timeout=5) as r:
                results.append(r.status)
        except urllib.error.HTTPError as e:
            results.append(e.code)
        except OSError:
            results.append(0)
        i += 1
        time.sleep(max(0.0, t0 + i / rate - time.monotonic()))


def test_ten_rolling_restarts_under_load_end_whole(tmp):
    site = Site(tmp)
    sim = Sim(site, faults=["restart-race=0.25"], extra=["--fault-seed", "7"])
    stop, results = threading.Event(), []
    # Five clients at 10/s: one held on the supervisor's lock does not stop the rest.
    clients = [threading.Thread(target=load, args=(sim, stop, results, 10.0)) for _ in range(5)]
    for c in clients:
        c.start()
    wait_for(lambda: len(results) >= 5, 10, "the load to start")
    raced, during = 0, len(results)
    try:
        for _ in range(10):
            # A worker busy with the load holds SIGTERM until its request
            # ends: on a loaded machine that can pass FAST's 1 s and bring
            # a (rightly reported) SIGKILL, which is not this test's subject.
            res = run(FAST + ["--kill-after", "30", "--json"], site)
            # Every race was put right: nothing printed, each one recorded.
            check(res.rc == 0 and res.err == "", res)
            raced += sum(s["recovered"] is not None for s in res.json()["restarts"])
            whole(sim)
        during = len(results) - during
    finally:
        stop.set()
        for c in clients:
            c.join()
    # The seed makes the supervisor lose some races: each was recovered.
    check(raced > 0, "the race never happened")
    check(during >= 10, "no load during the restarts: %d requests" % during)
    no_stray(sim)


# ---- older Kahua (1.0.x, or trunk on Gauche up to 0.9.1) ----

OLD = ["--kahua-version", "1.0"]


def test_old_kahua_heap_and_unknown_target(tmp):
    site = Site(tmp)
    sim = Sim(site, extra=OLD)
    # gc-stat is one flat list there: the heap still reads.
    rep = run(["status", "--json"], site).json()
    check(all(w["heap_bytes"] > 0 for w in rep["workers_before"]), rep["workers_before"])
    # Its "no such entry" error reads as Gauche up to 0.8.10 wrote it
    # (the program reads it: test_kahua_ctl, and a kill of an entry that
    # left ls by itself below).
    check("\"hash table doesn't have an entry for key 99\"" in sim.call("(restart 99)"), "old error text")


def test_old_kahua_dead_worker_leaves_ls_and_the_type_is_topped_up(tmp):
    site = Site(tmp)
    sim = Sim(site, extra=OLD)
    gone = next(w for w in sim.ls() if w["type"] == "leaky")
    os.kill(gone["pid"], signal.SIGKILL)
    # No dead entry to heal: the type is simply short.
    wait_for(lambda: all(w["wno"] != gone["wno"] for w in sim.ls()), 10, "the entry to leave ls")
    res = run(["check"], site)
    check(res.rc == 1 and "leaky has 0 of 1" in res.err, res)
    res = run(["--json"], site)
    check(res.rc == 0, res)
    check(warnings(res) == ["kahua-restarter: warning: type leaky: 0 of 1 workers running; topping up with reload"],
          res.err)
    check([t for t in res.json()["types"] if t["type"] == "leaky"][0]["topped_up"], res.out)
    whole(sim)
    no_stray(sim)


def test_old_kahua_broken_deploy_names_the_console(tmp):
    site = Site(tmp)
    sim = Sim(site, extra=OLD, console=True)
    write_app(site, broken=True)
    res = run(FAST, site)
    check(res.rc == 1, res)
    line = one_line(res)
    # The load error went to the supervisor's standard error, kept here in
    # logs/spvr-console.log: the line quotes it from there.
    check("is broken" in line and "hello is one short (1 of 2 workers)" in line
          and site.path("logs", "spvr-console.log") + ": *** READ-ERROR: " in line and LOAD_ERROR in line, line)
    wait_for(lambda: sim.counts() == {"hello": 1, "leaky": 1}, 10, "the broken entry to go")
    check(sim.failing() == [], sim.failing())
    no_stray(sim)


def test_old_kahua_broken_deploy_without_console_says_where(tmp):
    site = Site(tmp)
    sim = Sim(site, extra=OLD)
    write_app(site, broken=True)
    res = run(FAST, site)
    check(res.rc == 1, res)
    line = one_line(res)
    check("is broken" in line and "no error logged by worker" in line
          and "the supervisor's standard error" in line, line)
    check(LOAD_ERROR in sim.stderr(), "the simulator did not write the load error to its stderr")
