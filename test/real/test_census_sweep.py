"""Real Kahua: census and sweep on the kit's wiki type, which registers 100
continuations per view of /wiki/ from one lambda (wiki.kahua:16).

Ages: a continuation's age is Kahua's own `timestamp` slot (creation or
last use).  To have entries 5 minutes and 2 hours old without waiting,
these tests BACKDATE chosen entries through the eval exchange (moving
their timestamp back); what is exercised is then the program's reading
of Kahua's timestamps and Kahua's own session-cont-sweep on them, not the
passing of time.  test_wikiiki.py waits for real instead."""

import re

from harness import check, one_line, raw_exchange, run

# Moves back by SECS the timestamp of every non-permanent continuation used
# in the last WINDOW s (60: the entries of the views just made); the value
# is how many.
BACKDATE = ("(with-module kahua.session (let ((now (sys-time)) (n 0)) "
            "(hash-table-for-each (class-slot-ref <session-cont> 'key->session) "
            "(lambda (k e) (when (and (not (slot-ref e 'permanent?)) "
            "(> (slot-ref e 'timestamp) (- now %d))) "
            "(slot-set! e 'timestamp (- (slot-ref e 'timestamp) %d)) (set! n (+ n 1))))) n))")


def backdate(site, wid, secs, window=60):
    return int(worker_eval(site, wid, BACKDATE % (window, secs)))


def worker_eval(site, wid, expr):
    """The value of expr evaluated in worker wid, as text."""
    reply = raw_exchange(site.path("socket", wid),
                         b'(("x-kahua-eval" "#t") ("x-kahua-sgsid" "test"))\n' + expr.encode(),
                         timeout=10).decode(errors="replace")
    check(reply.startswith('(("x-kahua-status" "OK"))'), "eval failed: %r" % reply[:500])
    return re.findall(r'"((?:[^"\\]|\\.)*)"', reply.split("\n", 1)[1])[-1]


def views(site, n):
    """n views of /wiki/; the continuation paths of the first one."""
    first = None
    for _ in range(n):
        st, body = site.get("/wiki/")
        check(st == 200, "GET /wiki/: %s" % st)
        if first is None:
            first = re.findall(r"href=['\"](/wiki/[^'\"]+)['\"]", body.decode(errors="replace"))
    check(first and len(first) == 100, "expected 100 continuation links, got %r" % first)
    return first


def wiki_worker(site):
    ws = [w for w in site.ls() if w["type"] == "wiki"]
    check(len(ws) == 1, ws)
    return ws[0]


def census_of(site, wid):
    res = run(["census", "--json"], site)
    check(res.rc == 0 and res.err == "", res)
    ws = [w for w in res.json()["workers"] if w["id"] == wid]
    check(len(ws) == 1 and ws[0]["outcome"] == "ok", res.out[-2000:])
    return ws[0]


def test_census_names_the_maker_and_the_ages(site, tmp):
    w = wiki_worker(site)
    views(site, 3)                                          # 300 entries, made 2 h "ago"
    check(backdate(site, w["wid"], 7200) == 300, "backdating 300")
    views(site, 2)                                          # 200 entries, 5 min "ago"
    check(backdate(site, w["wid"], 300) == 200, "backdating 200")
    views(site, 5)                                          # 500 fresh entries
    c = census_of(site, w["wid"])
    conts = c["continuations"]
    check(conts["under_1m"] == 500 and conts["1m_10m"] == 200 and conts["10m_timeout"] == 0
          and conts["overdue"] == 300 and conts["permanent"] >= 1, conts)
    check(conts["total"] == 1000 + conts["permanent"], conts)
    top = c["makers"][0]
    check(top["count"] == 1000 and top["share"] >= 90 and not top["permanent"], c["makers"])
    check("wiki.kahua:16" in top["label"] and "line-page" in top["label"], top)
    check(c["heap_used_bytes"] > 0 and c["heap_bytes"] >= c["heap_used_bytes"], c)
    # The table says the same in one block per worker.
    res = run(["census", "wiki"], site)
    check(res.rc == 0 and res.err == "", res)
    check(re.search(r"<1m 500, 1-10m 200, 10m-timeout 0, overdue 300, permanent \d", res.out), res)
    check(re.search(r"^\s+1000\s+\S+%\s+.*wiki\.kahua:16", res.out, re.M), res)


def test_census_past_16384_counts_makers_on_a_stride(site, tmp):
    """200 real views: 20,000 more continuations of the page's lambda.  The
    ages stay exact; the makers are counted on one entry in 2 and say so."""
    w = wiki_worker(site)
    for _ in range(200):
        st, _body = site.get("/wiki/")
        check(st == 200, "GET /wiki/: %s" % st)
    held = int(worker_eval(site, w["wid"], "(with-module kahua.session (hash-table-num-entries "
                                           "(class-slot-ref <session-cont> 'key->session)))"))
    check(held > 20000, held)
    c = census_of(site, w["wid"])
    conts = c["continuations"]
    check(conts["total"] == held, (conts, held))
    check(c["maker_stride"] == 1 + held // 16385, c)
    top = c["makers"][0]
    check("wiki.kahua:16" in top["label"] and top["share"] >= 90, c["makers"])
    lam = held - conts["permanent"]
    check(abs(top["count"] - lam) <= lam // 20, (top, lam))
    res = run(["census", "wiki"], site)
    check(res.rc == 0 and res.err == "", res)
    check("makers counted on 1 continuation in %d" % c["maker_stride"] in res.out, res)
    check(re.search(r"^\s+~\s*\d+\s+\S+%\s+.*wiki\.kahua:16", res.out, re.M), res)


def test_sweep_discards_what_is_older(site, tmp):
    w = wiki_worker(site)
    views(site, 2)
    # Whatever the worker holds from earlier tests: 2 hours old.
    old = backdate(site, w["wid"], 7200, window=10 ** 9)
    check(old >= 200, old)
    views(site, 2)
    check(backdate(site, w["wid"], 600) == 200, "backdating 200")
    stale = views(site, 1)
    check(backdate(site, w["wid"], 180) == 100, "backdating 100")
    fresh = views(site, 1)
    pids = {x["wid"]: x["pid"] for x in site.ls()}
    res = run(["sweep", "wiki", "--sweep-conts", "2m", "--json"], site)
    check(res.rc == 0 and res.err == "", res)
    rep = [x for x in res.json()["workers"] if x["id"] == w["wid"]][0]
    # Everything older than 2 minutes, the fresh view's 100 kept.
    check(rep["outcome"] == "ok" and rep["swept_continuations"] == old + 300, (old, rep))
    after = census_of(site, w["wid"])["continuations"]
    check(after["1m_10m"] == 0 and after["10m_timeout"] == 0 and after["overdue"] == 0, after)
    check(after["total"] == rep["continuations_after"], (after, rep))
    check(after["under_1m"] == 100 and after["under_1m"] + after["permanent"] == after["total"],
          after)
    check(rep["heap_used_after"] <= rep["heap_used_before"], rep)
    check({x["wid"]: x["pid"] for x in site.ls()} == pids, "a worker changed")
    # A swept continuation answers 404, as an expired one does; a kept one 200.
    check(site.get(stale[0])[0] == 404, "swept link %s did not answer 404" % stale[0])
    check(site.get(fresh[0])[0] == 200, "kept link %s did not answer 200" % fresh[0])


def test_sweep_bad_input_is_one_line_and_touches_nothing(site, tmp):
    w = wiki_worker(site)
    views(site, 1)
    # All of it 20 minutes old: a sweep that ran would take it.
    check(backdate(site, w["wid"], 1200, window=10 ** 9) >= 100, "backdating")
    pids = {x["wid"]: x["pid"] for x in site.ls()}
    count = census_of(site, w["wid"])["continuations"]["total"]
    for args, says in ((["--sweep-conts", "59"], "60"),
                       (["--sweep-conts", "abc"], "abc"),
                       (["--sweep-conts", "-5m"], "-5m"),
                       (["--sweep-conts", "60m"], "timeout"),
                       (["--sweep-conts", "2h"], "timeout"),
                       (["--sweep-conts", "5m", "--sweep-sessions", "10"], "60")):
        res = run(["sweep"] + args, site)
        check(res.rc == 64 and res.out == "", "%s: %r" % (args, res))
        check(says in one_line(res), "%s: %r" % (args, res.err))
        res = run(["restart"] + args, site)
        check(res.rc == 64 and says in one_line(res), "restart %s: %r" % (args, res))
    check({x["wid"]: x["pid"] for x in site.ls()} == pids, "a worker changed")
    check(census_of(site, w["wid"])["continuations"]["total"] == count, "something was swept")
