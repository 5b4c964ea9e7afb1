"""Real Kahua: a worker's grace after SIGTERM (--term-grace,
kahua_grace.h).  A hello worker given the grace expression answers
requests sent after its SIGTERM until the grace ends, then exits as
Kahua's own handler has it (its socket removed, "[hello] SIGTERM" logged);
the supervisor's (kill WNO) answers only after that and its ls drops the
worker; SIGINT still stops it at once; the program arms the workers it
restarts; a worker whose eval answers ERROR is restarted as before."""

import os
import signal

from harness import (alive, check, eval_on, grace_request, raw_exchange, run, same_workers, timed_call,
                     wait_for)

PAGE = (b'(("x-kahua-worker" "hello") ("x-kahua-path-info" ("hello")) '
        b'("x-kahua-metavariables" (("REQUEST_METHOD" "GET") ("PATH_INFO" "/hello"))))()')


def a_hello(site):
    w = [w for w in site.ls() if w["type"] == "hello"][0]
    return w, site.path("socket", w["wid"])


def armed(sock, ms):
    got = eval_on(sock, grace_request(ms))
    check(got == '(("x-kahua-status" "OK"))\n("" "" "(grace 1 %d)")\n' % ms, got)


def put_back(site, wno):
    """The entry of a worker that exited on its own stays listed (pid #f):
    remove it and top the type up, as the program heals."""
    site.call("(kill %d)" % wno)
    site.call("(reload)")
    site.wait_whole(30)


def test_serves_after_sigterm_until_the_grace_ends(site, tmp):
    w, sock = a_hello(site)
    armed(sock, 1500)
    os.kill(w["pid"], signal.SIGTERM)
    # Sent after SIGTERM: an eval and a page, answered by the same process.
    check(eval_on(sock, "(sys-getpid)") == '(("x-kahua-status" "OK"))\n("" "" "%d")\n' % w["pid"],
          "eval not served in the grace")
    page = raw_exchange(sock, PAGE).decode(errors="replace")
    check('"x-kahua-worker" "hello"' in page and "hello" in page.split("\n", 1)[1], page[:300])
    check(alive(w["pid"]) and os.path.exists(sock), "the worker left before its grace ended")
    wait_for(lambda: not alive(w["pid"]), 30, "the worker to exit after its grace")
    check(not os.path.exists(sock), "the worker left its socket")
    check("[hello] SIGTERM" in site.log(), site.tails())
    put_back(site, w["wno"])


def test_kill_answers_after_the_grace_and_ls_drops_the_worker(site, tmp):
    w, sock = a_hello(site)
    armed(sock, 1000)
    t, got = timed_call(site, "(kill %d)" % w["wno"])
    # The supervisor logs "terminate" just before it sends SIGTERM.
    wait_for(lambda: "terminate: hello(%d - %s)" % (w["wno"], w["wid"]) in site.log(), 30,
             "the supervisor to terminate the worker")
    during = eval_on(sock, "(+ 1 2)")
    t.join(30)
    check(during == '(("x-kahua-status" "OK"))\n("" "" "3")\n', during)
    check(got["reply"].startswith('(("x-kahua-status" "OK"))'), got)
    check(got["secs"] >= 1.0, "kill answered before the grace ended: %r" % got)
    check(w["wid"] not in got["reply"] and w["wid"] not in [x["wid"] for x in site.ls()], got)
    check(not alive(w["pid"]), "the worker is still running")
    site.call("(reload)")
    site.wait_whole(30)


def test_sigint_still_stops_at_once(site, tmp):
    w, sock = a_hello(site)
    armed(sock, 10000)
    os.kill(w["pid"], signal.SIGINT)
    wait_for(lambda: not alive(w["pid"]), 5, "SIGINT to stop the worker (a 10 s grace is SIGTERM's only)")
    check("[hello] SIGINT" in site.log(), site.tails())
    put_back(site, w["wno"])


def test_restart_arms_the_workers_it_terminates(site, tmp):
    before = site.ls()
    res = run(["-v", "--json", "--term-grace", "1s", "restart", "hello"], site)
    check(res.rc == 0 and res.out.startswith("{"), res)
    steps = res.json()["restarts"]
    check(len(steps) == 2, steps)
    for s in steps:
        check("worker %s (hello, pid %d) serves 1000 ms more after its SIGTERM"
              % (s["old"]["id"], s["old"]["pid"]) in res.err, res.err)
        check(s["result"] == "ok" and s["restart_ms"] >= 1000, s)
    same_workers(before, site.wait_whole(15))


def test_worker_answering_error_is_restarted_as_before(site, tmp):
    hellos = [w for w in site.ls() if w["type"] == "hello"]
    for w in hellos:
        sock = site.path("socket", w["wid"])
        # The worker's eval module gets its own get-signal-handler that
        # raises, so the grace expression answers ERROR there, as on a
        # Kahua without what it needs.
        got = eval_on(sock, '(define (get-signal-handler . _) (error "no grace here"))')
        check(got.startswith('(("x-kahua-status" "OK"))'), got)
        check('"ERROR"' in eval_on(sock, grace_request(300)), "the grace was still armed")
    res = run(["--json", "restart", hellos[0]["wid"]], site)
    check(res.rc == 0 and res.err == "", res)      # nothing for a person to do
    check(res.json()["restarts"][0]["result"] == "ok", res.out)
    res = run(["-v", "restart", hellos[1]["wid"]], site)
    check(res.rc == 0, res)
    check("worker %s (hello, pid %d) takes no grace (eval answered ERROR: *** ERROR: no grace here)"
          % (hellos[1]["wid"], hellos[1]["pid"]) in res.err, res.err)
    after = [x["wid"] for x in site.wait_whole(15)]
    check(not {w["wid"] for w in hellos} & set(after), "not restarted: %r" % after)
