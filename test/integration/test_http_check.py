"""The site over HTTP and the check command: derived URLs, expectations,
a site without kahua-httpd, and a probe of every worker."""

from harness import (check, one_line, run, start)


def test_http_check_derived_from_kahua_httpd(tmp):
    site, sim = start(tmp)
    res = run(["-v"], site)
    check(res.rc == 0, res)
    for t in ("hello", "leaky"):
        check("GET http://127.0.0.1:%d/%s/: ok" % (sim.port, t) in res.err, res.err)


def test_http_check_skipped_without_httpd(tmp):
    site, sim = start(tmp, http=False)
    res = run([], site)
    check(res.rc == 0, res)
    line = one_line(res)
    check("HTTP check skipped" in line and "kahua-httpd" in line, line)


def test_http_expectations(tmp):
    site, sim = start(tmp)
    ok = run(["check", "--url", sim.url("/hello/"), "--expect-body", "hello"], site)
    check(ok.rc == 0, ok)
    body = run(["check", "--url", sim.url("/hello/"), "--expect-body", "NOT-THERE",
                "--retries", "0"], site)
    check(body.rc == 1 and "NOT-THERE" in one_line(body), body)
    status = run(["check", "--url", sim.url("/nosuch/"), "--retries", "0"], site)
    check(status.rc == 1 and "404" in one_line(status), status)
    accepted = run(["check", "--url", sim.url("/nosuch/"), "--expect-status", "404"], site)
    check(accepted.rc == 0, accepted)


def test_check_probes_every_worker(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    res = run(["-v", "check"], site)
    check(res.rc == 0, res)
    for w in before:
        check("worker %s (%s, pid %d) answers" % (w["wid"], w["type"], w["pid"]) in res.err, res.err)
    check(sim.ls() == before, "check changed the workers")


def test_check_json(tmp):
    site, sim = start(tmp)
    rep = run(["check", "--json"], site).json()
    check(rep["command"] == "check" and rep["restarts"] == [] and len(rep["http_checks"]) == 2, rep)
