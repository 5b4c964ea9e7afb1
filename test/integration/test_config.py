"""The JSON config file: its keys, precedence under the environment and
the command line, -c, and a bad file."""

import json
import os

from harness import (check, one_line, run, start)


def write_config(site, obj):
    with open(site.path("etc", "kahua-restarter.json"), "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))


def test_config_file_and_precedence(tmp):
    site, sim = start(tmp)
    write_config(site, {"strategy": "surge", "kill-after": 12, "retries": 5, "timeout": 99})
    res = run(["--print-config", "--retries", "7"], site,
              env={"KAHUA_RESTARTER_KILL_AFTER": "13", "KAHUA_RESTARTER_TIMEOUT": "98"})
    check(res.rc == 0, res)
    conf = {l.split()[0]: l for l in res.out.splitlines()}
    check(conf["strategy"].split()[1] == "surge" and "(config file)" in conf["strategy"], conf["strategy"])
    check(conf["kill-after"].split()[1] == "13" and "(environment)" in conf["kill-after"], conf)
    check(conf["retries"].split()[1] == "7" and "(command line)" in conf["retries"], conf)
    check(conf["timeout"].split()[1] == "98", conf)
    check(conf["http-timeout"].split()[1] == "5" and "(default)" in conf["http-timeout"], conf)
    check(conf["site"].split()[1] == site.root and "(environment)" in conf["site"], conf)
    # The file's strategy is really used.
    rep = run(["--json"], site).json()
    check(rep["strategy"] == "surge" and rep["exit_status"] == 0, rep)


def test_explicit_config_file(tmp):
    site, sim = start(tmp)
    cfg = os.path.join(tmp, "other.json")
    with open(cfg, "w") as f:
        json.dump({"site": site.root, "strategy": "all"}, f)
    res = run(["-c", cfg, "--json"], None, env={"OT_SITE": None})
    check(res.rc == 0, res)
    check(res.json()["strategy"] == "all", res)


def test_bad_config_is_78(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    cases = [('{"nosuch": 1}', 'unknown key "nosuch"'),
             ('{"retries": "many"}', "retries"),
             ('{"no-history": "yes"}', "true or false"),
             ('{"strategy": "rolling",\n  "timeout": 30,\n  oops}', ":3:"),
             ("", "invalid JSON")]
    for text, words in cases:
        write_config(site, text)
        res = run([], site)
        check(res.rc == 78, res)
        line = one_line(res)
        check("kahua-restarter.json" in line and words in line, "%r lacks %r" % (line, words))
    check(sim.ls() == before, "a bad config still restarted workers")
