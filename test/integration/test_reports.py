"""What a run leaves behind: the JSON report against the simulator's real
state, the history file and command, Prometheus metrics and syslog."""

import fcntl
import json
import os
import re
import socket
import subprocess

import histfmt
from harness import (BIN, TOP, check, check_gated, one_line, rss, run, start)


def test_json_report_matches_real_state(tmp):
    site, sim = start(tmp)
    for _ in range(6):
        sim.get("/leaky/")
    before = sim.ls()
    leaky_rss = rss([w for w in before if w["type"] == "leaky"][0]["pid"])
    res = run(["--json"], site)
    check(res.rc == 0 and res.err == "", res)
    rep = res.json()
    after = sim.ls()
    check(rep["site"] == os.path.realpath(site.root) and rep["command"] == "restart", rep)
    check(rep["strategy"] == "rolling" and rep["metric"] == "rss", rep)
    check([w["id"] for w in rep["workers_before"]] == [w["wid"] for w in before], rep)
    check([w["id"] for w in rep["workers_after"]] == [w["wid"] for w in after], rep)
    check([w["pid"] for w in rep["workers_after"]] == [w["pid"] for w in after], rep)
    check(len(rep["restarts"]) == 3, rep)
    for r, old in zip(rep["restarts"], before):
        check(r["old"]["id"] == old["wid"] and r["old"]["pid"] == old["pid"], r)
        check(r["result"] == "ok" and r["new"]["type"] == old["type"], r)
        check(r["restart_ms"] > 0 and r["probe_ms"] >= 0, r)
        check(r["new"]["id"] in {w["wid"] for w in after}, r)
    leak = [r for r in rep["restarts"] if r["old"]["type"] == "leaky"][0]
    # The leaky worker held ~30 MB more than its replacement.
    check(abs(leak["old"]["rss_bytes"] - leaky_rss) < 4 << 20, (leak, leaky_rss))
    check(leak["freed_bytes"] > 25 << 20, leak)
    check(rep["memory_freed_bytes"] >= leak["freed_bytes"], rep)
    # The site is checked after each replacement, for that worker's type.
    urls = [h["url"] for h in rep["http_checks"]]
    base = "http://127.0.0.1:%d/" % sim.port
    check(urls == [base + w["type"] + "/" for w in before], urls)
    check(all(h["ok"] and h["status"] == 200 and h["ms"] >= 0 for h in rep["http_checks"]), rep)
    check({t["type"]: t["running"] for t in rep["types"]} == {"hello": 2, "leaky": 1}, rep)
    check(rep["outcome"] == "ok" and rep["exit_status"] == 0 and rep["error"] is None, rep)
    check(rep["duration_ms"] > 0 and rep["started"] > 1.7e9, rep)


def test_json_report_on_failure(tmp):
    site, sim = start(tmp, faults=["http-500"])
    res = run(["--json", "--retries", "0"], site)
    check(res.rc == 1, res)
    rep = res.json()
    check(rep["outcome"] == "unhealthy" and rep["exit_status"] == 1, rep)
    check("500" in rep["error"] and not rep["http_checks"][0]["ok"], rep)
    check(rep["error"] in one_line(res), res)


def test_history_appends_one_line_per_run(tmp):
    site, sim = start(tmp)
    check(run([], site).rc == 0, "first run")
    check(run(["-n"], site).rc == 0, "dry run")
    check(run(["--no-history"], site).rc == 0, "no-history run")
    check(run(["check"], site).rc == 0, "check run")
    lines = site.history()
    check([l["command"] for l in lines] == ["restart", "check"], lines)
    check(len(lines[0]["restarts"]) == 3, lines[0])
    with open(site.path("logs", "kahua-restarter.jsonl")) as f:
        raw = f.read()
    check(raw.count("\n") == 2 and "\n" not in raw.rstrip("\n").split("\n")[0], "not one line per run")
    other = os.path.join(tmp, "h.jsonl")
    check(run(["--history", other], site).rc == 0, "history file option")
    check(len(open(other).read().splitlines()) == 1, "--history file")


def test_history_line_is_the_report_in_version_3(tmp):
    """A run's line is its --json report as histfmt writes it (the program's
    writer and the tests' reader agree), at most a third of its size, and
    gated runs' lines too."""
    site, sim = start(tmp)
    for args in ([], ["--when-available-below", "1K"]):
        res = run(["--json"] + args, site)
        check(res.rc == 0, res)
        rep = res.json()
        with open(site.path("logs", "kahua-restarter.jsonl"), "rb") as f:
            raw = f.read().splitlines()[-1]
        check(json.loads(raw) == histfmt.compact(rep), (raw, histfmt.compact(rep)))
        check(json.loads(raw)["v"] == 3, raw)
        v1 = len(json.dumps(rep, separators=(",", ":")))
        check(3 * len(raw) <= v1, "line of %d bytes for a report of %d" % (len(raw), v1))


def test_history_command_summarises(tmp):
    site, sim = start(tmp)
    for _ in range(2):
        check(run([], site).rc == 0, "restart")
    with open(site.path("logs", "kahua-restarter.jsonl"), "a") as f:
        f.write("garbage line\n{\"foo\": 1}\n{\"command\": \"restart\", \"started\"")
    res = run(["history"], site)
    check(res.rc == 0, res)
    rows = {l.split()[0]: l.split() for l in res.out.splitlines()[1:] if not l.startswith("#")}
    check(rows["hello"][1:4] == ["2", "4", "0"] and rows["leaky"][1:4] == ["2", "2", "0"], res.out)
    js = run(["history", "--json"], site).json()
    check(js["runs"] == 2 and js["skipped"] >= 2, js)
    recent = run(["history", "--json", "--since", "1h"], site).json()
    check(recent["runs"] == 2, recent)


def test_history_over_generated_year(tmp):
    path = os.path.join(tmp, "year.jsonl")
    gen = os.path.join(TOP, "bench", "gen_history.py")
    subprocess.run(["python3", gen, path, "--hours", "8760", "--types", "hello:2:20,leaky:1:48"],
                   check=True)
    res = run(["history", "--json", "--history", path], None, env={"OT_SITE": None})
    check(res.rc == 0, res)
    js = res.json()
    check(js["runs"] == 8760, js)
    growth = {t["type"]: t["growth_mb_per_hour"] for t in js["types"]}
    check(abs(growth["hello"] - 20) < 0.2 and abs(growth["leaky"] - 48) < 0.5, growth)


def test_history_stays_under_its_limit(tmp):
    """A run thins a history over --history-max-size: quietly, failures kept."""
    site, sim = start(tmp)
    path = site.path("logs", "kahua-restarter.jsonl")
    gen = os.path.join(TOP, "bench", "gen_history.py")
    subprocess.run(["python3", gen, path, "--hours", "800", "--failures", "3",
                    "--types", "hello:2:20,leaky:1:48"], check=True)
    check(os.path.getsize(path) > 2 << 20, os.path.getsize(path))
    res = run(["-v", "--history-max-size", "1M"], site)
    check(res.rc == 0, res)
    check("thinned" in res.err, res)
    check(os.path.getsize(path) <= 1 << 20, os.path.getsize(path))
    check(not os.path.exists(path + ".tmp"), "tmp file left")
    lines = site.history()
    check(sum(l["exit_status"] != 0 for l in lines) == 3, "failures lost")
    check(len(lines[-1]["restarts"]) == 3 and lines[-1]["started"] > 1.7e9, lines[-1])
    check(all(l.get("v") == 3 for l in site.history_lines()), "old lines not rewritten")
    # The default limit, from the environment: quiet, the file within it.
    res = run([], site, env={"KAHUA_RESTARTER_HISTORY_MAX_SIZE": "600K"})
    check(res.rc == 0 and res.err == "", res)
    check(os.path.getsize(path) <= 600 << 10, os.path.getsize(path))
    js = run(["history", "--json"], site).json()
    check(js["failed_runs"] == 3 and js["skipped"] == 0, js)


def test_history_torn_tail_skipped_then_ended(tmp):
    site, sim = start(tmp)
    check(run([], site).rc == 0, "restart")
    path = site.path("logs", "kahua-restarter.jsonl")
    with open(path, "a") as f:
        f.write('{"v":2,"command":"restart","started":17')
    res = run(["-v", "history"], site)
    check(res.rc == 0 and "last line incomplete" in res.err, res)
    check(run(["history"], site).err == "", "a torn line is no error")
    res = run([], site)
    check(res.rc == 0 and res.err == "", res)
    with open(path) as f:
        raw = f.read()
    check('"started":17\n{"v":3,' in raw and raw.endswith("\n"), raw[-300:])
    js = run(["history", "--json"], site).json()
    check(js["runs"] == 2 and js["skipped"] == 1, js)


def test_unwritable_history_warns_not_fails(tmp):
    site, sim = start(tmp)
    res = run(["--history", tmp], site)
    check(res.rc == 0, res)
    line = one_line(res)
    check("history " + tmp in line and "warning" in line, line)
    check(sim.counts() == {"hello": 2, "leaky": 1}, sim.counts())


def test_prometheus_textfile(tmp):
    site, sim = start(tmp)
    prom = os.path.join(tmp, "kahua.prom")
    res = run(["--prom", prom], site)
    check(res.rc == 0, res)
    text = open(prom).read()
    check(not os.path.exists(prom + ".tmp"), "tmp file left")
    site_label = 'site="%s"' % os.path.realpath(site.root)
    want = ['kahua_restarter_workers{%s,type="hello"} 2' % site_label,
            'kahua_restarter_workers{%s,type="leaky"} 1' % site_label,
            'kahua_restarter_last_exit_status{%s} 0' % site_label]
    for w in want:
        check(w in text.splitlines(), "missing %r in\n%s" % (w, text))
    names = {l.split("{")[0].split()[0] for l in text.splitlines() if l and not l.startswith("#")}
    for n in names:
        check("# TYPE %s " % n in text and "# HELP %s " % n in text, "no HELP/TYPE for %s" % n)
    check(any(n.startswith("kahua_restarter_http_check") for n in names), names)
    check(any(n == "kahua_restarter_last_run_duration_seconds" for n in names), names)


ATTEMPT = ("kahua_restarter_last_attempt_timestamp_seconds", "kahua_restarter_last_attempt_skipped")


def prom_split(text):
    """The lines of the attempt families, {name: value}, and all the others."""
    attempt, rest = {}, []
    for line in text.splitlines():
        name = line.split()[2] if line.startswith("# ") else line.split("{")[0].split()[0]
        if name not in ATTEMPT:
            rest.append(line)
        elif not line.startswith("#"):
            attempt[name] = float(line.split()[-1])
    return attempt, rest


def test_gated_run_keeps_worker_series_and_says_it_ran(tmp):
    """A run the memory gates hold back rewrites the file: the last real
    run's series as they were, and its own start and "held back"."""
    site, sim = start(tmp)
    prom = os.path.join(tmp, "kahua.prom")
    check(run(["--prom", prom], site).rc == 0, "real run failed")
    real = open(prom).read()
    attempt, rest = prom_split(real)
    started = site.history()[-1]["started"]
    check(attempt == {ATTEMPT[0]: started, ATTEMPT[1]: 0}, attempt)
    check(any(l.startswith("kahua_worker_continuations{") for l in rest), real)
    # Set back the attempt so the gated run's own start is told from it.
    with open(prom, "w") as f:
        f.write(re.sub(r"^(%s\{.*\}) .*$" % ATTEMPT[0], r"\1 1", real, flags=re.M))
    check(prom_split(open(prom).read())[0][ATTEMPT[0]] == 1, "attempt not set back")
    before = sim.ls()
    gated = check_gated(run(["--prom", prom, "--when-available-below", "1K"], site), site, sim, before)
    attempt, kept = prom_split(open(prom).read())
    check(kept == rest, "series changed by a gated run:\n%s" % open(prom).read())
    check(attempt == {ATTEMPT[0]: gated["started"], ATTEMPT[1]: 1}, attempt)
    check(not os.path.exists(prom + ".tmp"), "tmp file left")
    # A real run again: every series of its own, and not held back.
    check(run(["--prom", prom], site).rc == 0, "real run failed")
    attempt, _ = prom_split(open(prom).read())
    check(attempt[ATTEMPT[1]] == 0, attempt)


def test_gated_run_without_previous_metrics_writes_its_own(tmp):
    """No previous file, or one that cannot be read: the gated run writes
    only its own figures, silently (said at -v)."""
    site, sim = start(tmp)
    before = sim.ls()
    prom = os.path.join(tmp, "kahua.prom")
    gated = check_gated(run(["--prom", prom, "--when-available-below", "1K"], site), site, sim, before)
    attempt, rest = prom_split(open(prom).read())
    check(attempt == {ATTEMPT[0]: gated["started"], ATTEMPT[1]: 1}, attempt)
    check(all(l.startswith("#") for l in rest), rest)
    # Larger than any real file: left out, not copied, and not an error.
    with open(prom, "w") as f:
        f.truncate(17 * 1024 * 1024)
    gated = check_gated(run(["--prom", prom, "--when-available-below", "1K"], site), site, sim, before)
    attempt, rest = prom_split(open(prom).read())
    check(attempt[ATTEMPT[1]] == 1 and all(l.startswith("#") for l in rest), rest)
    with open(prom, "w") as f:
        f.truncate(17 * 1024 * 1024)
    res = run(["--prom", prom, "--when-available-below", "1K", "-v"], site)
    check(res.rc == 0 and prom in res.err and "larger than 16 MiB" in res.err, res)


def test_lock_busy_run_leaves_metrics_alone(tmp):
    """A run that finds the lock held exits 75 and leaves the file to the
    run that holds it: no last_exit_status 75 for a failure alert."""
    site, sim = start(tmp)
    prom = os.path.join(tmp, "kahua.prom")
    check(run(["--prom", prom], site).rc == 0, "real run failed")
    real = open(prom).read()
    fd = os.open(site.path("run", "kahua-restarter.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        res = run(["--prom", prom], site)
    finally:
        os.close(fd)
    check(res.rc == 75 and "lock" in one_line(res), res)
    check(open(prom).read() == real, "a lock-busy run rewrote the metrics")
    check(site.history()[-1]["exit_status"] == 75, site.history()[-1])


def test_unwritable_prom_is_reported_not_fatal(tmp):
    site, sim = start(tmp)
    res = run(["--prom", "/nonexistent/dir/k.prom"], site)
    check(res.rc == 0, res)
    check("/nonexistent/dir/k.prom" in one_line(res), res)


class SyslogCatcher:
    """A datagram socket the program finds at /dev/log in a private mount
    namespace (see test_syslog_lines)."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "log.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.msgs = []

    def drain(self):
        while True:
            try:
                self.msgs.append(self.sock.recv(65536).decode(errors="replace"))
            except socket.timeout:
                return self.msgs


def test_syslog_lines(tmp):
    if os.geteuid() != 0:
        return  # needs a private mount namespace to stand in for /dev/log
    site, sim = start(tmp, faults=["http-500"])
    catcher = SyslogCatcher(tmp)
    args = [BIN, "--syslog", "--facility", "local3", "--retries", "0"]
    # /dev is shared by every run on the machine (a link made there would
    # catch, or be clobbered by, another test run's syslog): the program
    # gets a /dev of its own, a tmpfs with the few nodes it may open.
    old_dev = os.path.join(tmp, "dev")
    os.mkdir(old_dev)
    script = ('d="$1"; shift; mount --bind /dev "$d" && mount -t tmpfs tmpfs /dev && '
              'for n in null zero random urandom; do touch /dev/$n && mount --bind "$d/$n" /dev/$n || exit 70; done && '
              'ln -s "$0" /dev/log && exec "$@"')
    args = [old_dev] + args
    env = dict(os.environ, OT_SITE=site.root)
    p = subprocess.run(["unshare", "-m", "sh", "-c", script, catcher.path] + args, env=env,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 1, p)
    msgs = catcher.drain()
    check(len(msgs) == 2, "expected one failure line and one run line: %r" % msgs)
    # local3 = 19; err = 3, notice = 5: <PRI> = 19*8 + severity
    check(msgs[0].startswith("<155>") and "kahua-restarter[" in msgs[0] and "500" in msgs[0], msgs)
    check(msgs[1].startswith("<157>") and "3 of 3 workers restarted" in msgs[1], msgs)
