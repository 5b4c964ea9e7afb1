"""Real Kahua: a stuck worker.  A worker stopped with SIGSTOP cannot act
on the supervisor's SIGTERM, so Kahua's restart waits for it forever,
holding its lock.  kahua-restarter must SIGKILL it after --kill-after,
only once it has proved the pid is that worker, and leave the type whole."""

import os
import signal

from harness import check, run, same_workers
from kahua import alive


def test_stopped_worker_is_killed_after_verification(site, tmp):
    before = site.ls()
    victim = [w for w in before if w["type"] == "hello"][0]
    os.kill(victim["pid"], signal.SIGSTOP)
    try:
        res = run(["--kill-after", "2", "--json", "restart", victim["wid"]], site)
    finally:
        if alive(victim["pid"]):
            os.kill(victim["pid"], signal.SIGCONT)
    check(res.rc == 0, res)
    check("sent SIGKILL" in res.err and victim["wid"] in res.err, res.err)
    r = res.json()["restarts"]
    check(len(r) == 1 and r[0]["killed"] is True and r[0]["result"] == "ok", r)
    check(not alive(victim["pid"]), "the stuck worker still runs")
    after = site.wait_whole(5)
    same_workers(before, after)
    check({w["wid"] for w in before} - {w["wid"] for w in after} == {victim["wid"]},
          "another worker was restarted")


def test_stopped_worker_surge(site, tmp):
    before = site.ls()
    victim = [w for w in before if w["type"] == "leaky"][0]
    os.kill(victim["pid"], signal.SIGSTOP)
    try:
        res = run(["--strategy", "surge", "--kill-after", "2", "restart", "leaky"], site)
    finally:
        if alive(victim["pid"]):
            os.kill(victim["pid"], signal.SIGCONT)
    check(res.rc == 0, res)
    check("sent SIGKILL" in res.err, res.err)
    check(not alive(victim["pid"]), "the stuck worker still runs")
    same_workers(before, site.wait_whole(5))
