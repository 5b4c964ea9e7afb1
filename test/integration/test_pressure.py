"""The memory-pressure gate (PSI) and the host's pressure in every report."""

import os
import re

from harness import check, run, start

HOST_PSI = "/proc/pressure/memory"


def host_psi():
    """The host's PSI memory "some" averages, or None without PSI."""
    try:
        with open(HOST_PSI) as f:
            for line in f:
                if line.startswith("some "):
                    return {k: float(v) for k, v in (w.split("=") for w in line.split()[1:4])}
    except OSError:
        return None
    return None


def test_idle_host_pressure_gate_skips(tmp):
    psi = host_psi()
    if psi is None or psi["avg60"] >= 5:
        print("skipped: no PSI on this host, or it is under memory pressure (%s)" % psi)
        return
    site, sim = start(tmp)
    before = sim.ls()
    res = run(["--when-memory-pressure-above", "5"], site)
    check(res.rc == 0 and res.out == "" and res.err == "", res)
    check(sim.ls() == before, "a gated run restarted workers")
    last = site.history()[-1]
    check(last["outcome"] == "skipped" and last["exit_status"] == 0, last)
    # The figure read is in the line: the reason and the host block.
    m = re.match(r"^memory pressure some avg60 (\d+\.\d\d)% is not above 5%$", last["skip_reason"])
    check(m, last)
    check(abs(float(m.group(1)) - last["host"]["psi_some_avg60"]) < 5, last)
    for k in ("psi_some_avg10", "psi_some_avg60", "psi_some_avg300"):
        check(0 <= last["host"][k] < 100, (k, last["host"]))
    # -v says the figure; another window reads another average.
    res = run(["--when-memory-pressure-above", "5/10s", "-v"], site)
    check(res.rc == 0 and re.search(r"nothing restarted: memory pressure some avg10 \d+\.\d\d% "
                                    r"is not above 5%", res.err), res)
    check(sim.ls() == before, "a gated run restarted workers")
    # Any gate met is enough: with MemAvailable below a petabyte the run goes ahead.
    rep = run(["--when-memory-pressure-above", "5/300s", "--when-available-below", "1T", "--json"],
              site).json()
    check(rep["outcome"] == "ok" and len(rep["restarts"]) == len(before), rep)
    js = run(["history", "--json"], site).json()
    check(js["gated_runs"] == 2, js)


def test_pressure_gate_bad_values(tmp):
    site, sim = start(tmp)
    for bad in ("101", "5/30s", "x", "5/", "-1", "5/60s/1"):
        res = run(["--when-memory-pressure-above", bad], site)
        check(res.rc == 64 and res.err.count("\n") == 1, res)
        check("when-memory-pressure-above \"%s\": expected a percent and window" % bad in res.err, res)
    res = run(["--when-memory-pressure-above", "5", "--pressure-cgroup", "../etc", "-n"], site)
    check(res.rc == 64 and "without \"..\"" in res.err and res.err.count("\n") == 1, res)


def test_missing_cgroup_is_an_error_only_with_the_gate(tmp):
    site, sim = start(tmp)
    before = sim.ls()
    hist = len(site.history())
    group = "kahua-restarter-test/no-such-group-%d" % os.getpid()
    res = run(["--when-memory-pressure-above", "5", "--pressure-cgroup", group], site)
    check(res.rc == 78, res)
    check(res.out == "" and res.err.count("\n") == 1, res)
    check(re.match(r"^kahua-restarter: /\S+/%s/memory.pressure: No such file or directory "
                   r"\(.*\); needed by --when-memory-pressure-above$" % re.escape(group),
                   res.err.strip()), res)
    # Nothing was restarted, and the failed run left its line saying why.
    check(sim.ls() == before, "restarted despite the error")
    last = site.history()[-1]
    check(len(site.history()) == hist + 1 and last["exit_status"] == 78, last)
    check(last["restarts"] == [] and "memory.pressure" in last["error"], last)
    # Without the gate the group is never read.
    res = run(["--pressure-cgroup", group, "--json"], site)
    check(res.rc == 0 and res.json()["outcome"] == "ok", res)


def test_host_pressure_in_reports(tmp):
    psi = host_psi()
    site, sim = start(tmp)
    prom = os.path.join(tmp, "metrics.prom")
    rep = run(["check", "--json", "--prom", prom], site).json()
    host = rep["host"]
    if psi is None:
        check(host["psi_some_avg60"] is None, host)
        return
    for k in ("some", "full"):
        for w in ("10", "60", "300"):
            check(0 <= host["psi_%s_avg%s" % (k, w)] <= 100, host)
    check(host["mem_total_bytes"] >= host["mem_available_bytes"] > 0, host)
    text = open(prom).read()
    for k in ("some", "full"):
        for w in ("10", "60", "300"):
            check(re.search(r'^kahua_restarter_host_memory_pressure_ratio\{site="[^"]*",kind="%s",window="%ss"\} '
                            r'[0-9.e-]+$' % (k, w), text, re.M), text)
    check(site.history()[-1]["host"]["psi_some_avg10"] is not None, site.history()[-1])
