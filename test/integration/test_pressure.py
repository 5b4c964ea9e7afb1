"""The memory-pressure gate (PSI) and the host's pressure in every report."""

import os
import re
import subprocess
import sys
import time

from harness import TOP, check, check_gated, meminfo, run, start

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
    last = check_gated(run(["--when-memory-pressure-above", "5"], site), site, sim, before)
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


# ---- the forecast ----

def gen_history(site, types, hours=24):
    subprocess.check_call([sys.executable, os.path.join(TOP, "bench", "gen_history.py"),
                           site.path("logs", "kahua-restarter.jsonl"), "--hours", str(hours),
                           "--types", types])


def leak_for(hours):
    """A leaky rate (MB/h, one worker) that brings this host to the floor in about hours."""
    m = meminfo()
    room = m["MemAvailable"] - m["MemTotal"] // 10
    check(room > 256 << 20, "too little memory on this host for the forecast tests: %s" % m)
    return room / hours / (1 << 20)


def test_warn_within_names_the_fastest_type(tmp):
    site, sim = start(tmp)
    # hello does not grow; leaky grows enough to reach the floor in about 10 h.
    gen_history(site, "hello:2:0,leaky:1:%.1f" % leak_for(10))
    res = run(["check", "--warn-within", "20h"], site)
    check(res.rc == 1 and res.out == "" and res.err.count("\n") == 1, res)
    check(re.match(r"^kahua-restarter: forecast: MemAvailable \S+ reaches the floor \S+ in \d+h\d\dm "
                   r"\(within 20h00m\) at \+[0-9.]+M/h; fastest-growing type leaky \(1 worker, "
                   r"\+[0-9.]+M/h\)$", res.err.strip()), res)
    # A window shorter than the forecast: quiet, status 0.
    res = run(["check", "--warn-within", "5h"], site)
    check(res.rc == 0 and res.out == "" and res.err == "", res)
    # Without --warn-within, check never fails on the forecast.
    res = run(["check"], site)
    check(res.rc == 0 and res.out == "" and res.err == "", res)
    # JSON and Prometheus carry it; the check's history line too.
    prom = os.path.join(tmp, "m.prom")
    rep = run(["check", "--json", "--prom", prom], site).json()
    fc = rep["forecast"]
    check(fc["state"] == "growing" and fc["fastest_type"] == "leaky" and fc["floor_default"], fc)
    check(5 * 3600 < fc["seconds"] < 20 * 3600, fc)
    types = {t["type"]: t for t in fc["types"]}
    check(types["hello"]["workers"] == 2 and types["hello"]["growth_bytes_per_hour"] < 1 << 20, types)
    check(types["hello"]["seconds"] is None and types["leaky"]["seconds"] == fc["seconds"], types)
    text = open(prom).read()
    m = re.search(r'^kahua_restarter_forecast_seconds\{site="[^"]*"\} ([0-9.e+]+)$', text, re.M)
    check(m and abs(float(m.group(1)) - fc["seconds"]) < 0.2 * fc["seconds"], text)
    check(re.search(r'^kahua_restarter_type_forecast_seconds\{site="[^"]*",type="hello"\} \+Inf$',
                    text, re.M), text)
    check(site.history()[-1]["forecast"]["fastest_type"] == "leaky", site.history()[-1])
    # A floor above MemAvailable: below it now, whatever the window.
    res = run(["check", "--warn-within", "1s", "--forecast-floor", "1000T"], site)
    check(res.rc == 1 and "is below the floor 1000T now; fastest-growing type leaky" in res.err, res)


def test_forecast_shown_by_status_and_check_verbose(tmp):
    site, sim = start(tmp)
    gen_history(site, "hello:2:0,leaky:1:%.1f" % leak_for(10))
    res = run(["status", "-v"], site)
    check(res.rc == 0, res)
    lines = res.out.splitlines()
    i = [k for k, l in enumerate(lines) if l.startswith("# forecast:")]
    check(len(i) == 1 and lines[0].split()[:3] == ["WNO", "PID", "TYPE"], res)
    check(re.match(r"^# forecast: MemAvailable \S+, floor \S+ \(10% of MemTotal\): host reaches the "
                   r"floor in \d+h\d\dm at \+[0-9.]+M/h$", lines[i[0]]), res)
    check(re.match(r"^#   hello +2 workers  not growing$", lines[i[0] + 1]), res)
    check(re.match(r"^#   leaky +1 worker   reaches the floor in \d+h\d\dm at \+[0-9.]+M/h$",
                   lines[i[0] + 2]), res)
    # Plain status stays as it was: no forecast.
    res = run(["status"], site)
    check(res.rc == 0 and "forecast" not in res.out, res)
    res = run(["check", "-v"], site)
    check(res.rc == 0 and "# forecast: MemAvailable" in res.out, res)
    # --since narrows the rates to recent runs: none in the last minute.
    res = run(["status", "-v", "--since", "1m"], site)
    check("host no growth figure in the history" in res.out, res)


def test_forecast_not_growing(tmp):
    site, sim = start(tmp)
    gen_history(site, "hello:2:0,leaky:1:0")
    res = run(["check", "--warn-within", "3650d"], site)
    check(res.rc == 0 and res.out == "" and res.err == "", res)
    res = run(["check", "-v", "--warn-within", "3650d"], site)
    check(res.rc == 0 and re.search(r"host not growing\n", res.out), res)
    rep = run(["check", "--json"], site).json()
    check(rep["forecast"]["state"] == "not growing" and rep["forecast"]["seconds"] is None, rep)
    # No history at all: nothing to forecast from, and nothing to warn of.
    os.unlink(site.path("logs", "kahua-restarter.jsonl"))
    rep = run(["check", "--json", "--no-history", "--warn-within", "3650d"], site)
    check(rep.rc == 0 and rep.json()["forecast"]["state"] == "no history", rep)


# ---- real memory pressure ----

HOG = r"""
import sys, time
# Allocate and drop more anonymous memory than memory.high allows, again and
# again: each charge above memory.high is throttled, and the kernel counts
# the throttling as a memory stall of this group.
end = time.time() + float(sys.argv[1])
while time.time() < end:
    b = bytearray(48 << 20)
    for i in range(0, len(b), 4096):
        b[i] = 1
    del b
"""


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.split()[:1] == ["cgroup2"]:
                return pre.split()[4].encode().decode("unicode_escape")
    return None


def memory_cgroup_or_why():
    """A writable cgroup2 mount whose children get the memory controller, or why not."""
    if os.geteuid() != 0:
        return None, "not root"
    mount = cgroup2_mount()
    if mount is None:
        return None, "no cgroup2 file system mounted"
    try:
        sub = open(os.path.join(mount, "cgroup.subtree_control")).read().split()
    except OSError as e:
        return None, "%s/cgroup.subtree_control: %s" % (mount, e.strerror)
    if "memory" not in sub:
        return None, ("the cgroup2 mount %s gives its children no memory controller (subtree_control: %r); "
                      "on a hybrid host memory is a v1 controller" % (mount, " ".join(sub)))
    if not os.access(mount, os.W_OK):
        return None, "%s is not writable" % mount
    return mount, None


def psi_some(path, key="avg10"):
    with open(path) as f:
        return float(dict(w.split("=") for w in f.readline().split()[1:])[key])


def test_gate_opens_under_real_pressure(tmp):
    mount, why = memory_cgroup_or_why()
    if mount is None:
        print("skipped: cannot make memory pressure safely here: %s" % why)
        return
    group = "kahua-restarter-test-%d" % os.getpid()
    path = os.path.join(mount, group)
    os.mkdir(path)
    hog = None
    try:
        with open(os.path.join(path, "memory.high"), "w") as f:
            f.write("%d" % (16 << 20))
        with open(os.path.join(path, "memory.max"), "w") as f:
            f.write("%d" % (256 << 20))
        # The hog is started outside, then moved in before it allocates.
        hog = subprocess.Popen([sys.executable, "-c", "import sys,time; sys.stdin.readline();" + HOG, "60"],
                               stdin=subprocess.PIPE, text=True)
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write("%d" % hog.pid)
        hog.stdin.write("go\n")
        hog.stdin.flush()
        pressure = os.path.join(path, "memory.pressure")
        deadline = time.time() + 30
        while psi_some(pressure) < 1 and time.time() < deadline:
            time.sleep(0.5)
        got = psi_some(pressure)
        check(got >= 1, "no memory pressure in %s after 30 s of throttling: %s" % (path, got))
        site, sim = start(tmp)
        before = sim.ls()
        # The group's pressure opens the gate; the idle host's would not have.
        res = run(["-v", "--when-memory-pressure-above", "0.5/10s", "--pressure-cgroup", group], site)
        check(res.rc == 0 and re.search(r"memory gate met: memory pressure of %s some avg10 "
                                        r"\d+\.\d\d%% is above 0\.5%%" % group, res.err), res)
        last = site.history()[-1]
        check(last["outcome"] == "ok" and len(last["restarts"]) == len(before), last)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
        # The group can go once its last process has left.
        deadline = time.time() + 10
        while True:
            try:
                os.rmdir(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
