"""Real Kahua: status, check, the quiet default run, every target form,
dry run and the lock.  Every test that restarts asserts that no worker was
lost and that the replaced processes are gone."""

import fcntl
import os
import threading

from harness import check, one_line, run, same_workers
from kahua import alive, recoveries


def test_status_lists_every_worker(site, tmp):
    ws = site.ls()
    res = run(["status"], site)
    check(res.rc == 0 and res.err == "", res)
    lines = res.out.splitlines()
    check(lines[0].split()[:8] == ["WNO", "PID", "TYPE", "AGE", "RSS", "STATE", "CONTS", "WORKER-ID"], res)
    check(len(lines) == 1 + len(ws), res)
    for w, line in zip(ws, lines[1:]):
        f = line.split()
        check(f[0] == str(w["wno"]) and f[1] == str(w["pid"]) and f[2] == w["type"]
              and f[5] == "live" and f[-1] == w["wid"], "row %r for %r" % (line, w))


def test_status_json_matches_supervisor(site, tmp):
    ws = site.ls()
    rep = run(["status", "--json"], site).json()
    got = [(w["id"], w["number"], w["pid"], w["type"], w["start_time"]) for w in rep["workers_before"]]
    want = [(w["wid"], w["wno"], w["pid"], w["type"], w["start"]) for w in ws]
    check(got == want, "json %r != ls %r" % (got, want))
    # Fresh gosh workers are tens of MB (Kahua measured ~47 MB).
    check(all(w["rss_bytes"] > 10 << 20 for w in rep["workers_before"]), rep["workers_before"])
    check(rep["outcome"] == "ok" and rep["exit_status"] == 0, rep)


def test_check_probes_every_worker_and_the_site(site, tmp):
    before = site.ls()
    res = run(["check", "--json"], site)
    check(res.rc == 0, res)
    rep = res.json()
    check(rep["command"] == "check" and rep["restarts"] == [], rep)
    base = site.url("/")
    urls = sorted(h["url"] for h in rep["http_checks"])
    check(urls == sorted(base + t + "/" for t in site.want), "checked %r" % urls)
    check(all(h["ok"] and h["status"] == 200 for h in rep["http_checks"]), rep["http_checks"])
    check(site.ls() == before, "check changed the workers")


def test_default_run_replaces_every_worker_quietly(site, tmp):
    before = site.ls()
    res = run(["--json"], site)
    # Quiet even when Kahua lost its waitpid race: the program put it right.
    check(res.rc == 0 and res.err == "", "not quiet: %r" % res)
    recoveries(res.json())
    after = site.wait_whole(5)
    same_workers(before, after)
    check(not {w["pid"] for w in before} & {w["pid"] for w in after}, "a pid survived")
    check(not {w["wid"] for w in before} & {w["wid"] for w in after}, "an id survived")
    check(not any(alive(w["pid"]) for w in before), "an old worker process still runs")


def restart_only(site, target, pick):
    before = site.ls()
    chosen = [w for w in before if pick(w)]
    check(chosen, "nothing to choose with %r in %r" % (target, before))
    res = run(["restart", target], site)
    check(res.rc == 0 and res.out == "" and res.err == "", res)
    after = site.wait_whole(5)
    same_workers(before, after)
    after_wids = {w["wid"] for w in after}
    for w in before:
        kept = w["wid"] in after_wids
        check(kept != (w in chosen), "target %r: worker %r %s" % (target, w, "kept" if kept else "restarted"))


def test_restart_star(site, tmp):
    restart_only(site, "*", lambda w: True)


def test_restart_by_type(site, tmp):
    restart_only(site, "hello", lambda w: w["type"] == "hello")


def test_restart_by_number(site, tmp):
    wno = site.ls()[1]["wno"]
    restart_only(site, str(wno), lambda w: w["wno"] == wno)


def test_restart_by_id(site, tmp):
    wid = site.ls()[-1]["wid"]
    restart_only(site, wid, lambda w: w["wid"] == wid)


def test_unknown_target_is_usage_error_naming_types(site, tmp):
    before = site.ls()
    for target in ("nosuchtype", "999", "zz:zz"):
        res = run(["restart", target], site)
        check(res.rc == 64, res)
        line = one_line(res)
        check(target in line and all(t in line for t in site.want), line)
    check(site.ls() == before, "something was restarted")


def test_dry_run_sends_nothing_but_ls(site, tmp):
    before = site.ls()
    log0, runs0 = len(site.log()), len(site.history())
    res = run(["-n"], site)
    check(res.rc == 0, res)
    check(res.out.startswith("plan: 4 of 4 workers, strategy rolling"), res.out)
    for w in before:
        check("pid %d" % w["pid"] in res.out, res.out)
    check(site.ls() == before, "dry run changed workers")
    # kahua-spvr logs every worker it starts or stops.
    new_log = site.log()[log0:]
    check("[worker]" not in new_log and "running " not in new_log, "dry run touched workers:\n" + new_log)
    check(len(site.history()) == runs0, "dry run wrote history")


def test_lock_held_by_another_run(site, tmp):
    before = site.ls()
    fd = os.open(site.path("run", "kahua-restarter.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"4242\n")
    try:
        res = run([], site)
        check(res.rc == 75, res)
        check("4242" in one_line(res) and "kahua-restarter.lock" in res.err, res)
        check(site.ls() == before, "a locked-out run restarted something")
        unlock = threading.Timer(0.7, lambda: fcntl.flock(fd, fcntl.LOCK_UN))
        unlock.start()
        res = run(["--wait-lock", "10", "restart", "hello"], site)
        check(res.rc == 0, res)
    finally:
        if "unlock" in locals():
            unlock.join()
        os.close(fd)
    same_workers(before, site.wait_whole(5))
