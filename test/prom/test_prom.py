#!/usr/bin/env python3
"""The Prometheus side, with Prometheus's own tools (Debian's prometheus
and prometheus-node-exporter packages):

- promtool check rules and promtool test rules on contrib/prometheus;
- every metric the rules use is one the program writes;
- promtool check metrics on the program's real --prom output, from a run
  on the simulator;
- the real node_exporter, started here on a free 127.0.0.1 port with its
  textfile collector on a temp dir holding that file, scraped over HTTP:
  every sample of the file is served with its HELP and TYPE.

Exits 77 with one line when promtool or node_exporter is missing."""
import os
import re
import subprocess
import sys
import urllib.request

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "test"))
import standalone  # noqa: E402
import harness  # noqa: E402
from harness import check  # noqa: E402

RULES_DIR = os.path.join(TOP, "contrib", "prometheus")
RULES = os.path.join(RULES_DIR, "kahua-restarter.rules.yml")
NODE_EXPORTER = "prometheus-node-exporter"
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Samples as {(name, frozenset of labels): value}, and the HELP and
    TYPE lines as {name: text}."""
    samples, help_, type_ = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, rest = line[7:].partition(" ")
            help_[name] = rest
        elif line.startswith("# TYPE "):
            name, _, rest = line[7:].partition(" ")
            type_[name] = rest
        elif line and not line.startswith("#"):
            m = SAMPLE_RE.match(line)
            check(m, "not a sample line: %r" % line)
            labels = frozenset(LABEL_RE.findall(m.group(2) or ""))
            samples[(m.group(1), labels)] = float(m.group(3))
    return samples, help_, type_


def promtool(*args, cwd=None, stdin=None):
    return subprocess.run(["promtool"] + list(args), cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120)


def program_metrics(tmp, gated=False):
    """A restart on the simulator writing --prom into tmp/textfile; then,
    if gated, a run the memory gates hold back rewriting it."""
    site, sim = harness.start(tmp)
    try:
        d = os.path.join(tmp, "textfile")
        os.mkdir(d)
        path = os.path.join(d, "kahua-restarter.prom")
        res = harness.run(["--prom", path], site)
        check(res.rc == 0, res)
        if gated:
            res = harness.run(["--prom", path, "--when-available-below", "1K"], site)
            check(res.rc == 0 and res.out == res.err == "", res)
        with open(path) as f:
            return path, f.read()
    finally:
        sim.stop()


def test_rules_check_and_unit_tests(tmp):
    p = promtool("check", "rules", RULES)
    check(p.returncode == 0 and "SUCCESS" in p.stdout, p.stdout + p.stderr)
    tests = sorted(f for f in os.listdir(os.path.join(RULES_DIR, "tests")) if f.endswith(".yml"))
    check(tests, "no rule tests")
    p = promtool("test", "rules", *["tests/" + t for t in tests], cwd=RULES_DIR)
    check(p.returncode == 0 and "SUCCESS" in p.stdout, p.stdout + p.stderr)


def test_every_alert_has_a_firing_and_a_quiet_case(tmp):
    alerts = set(re.findall(r"^\s+- alert: (\w+)$", open(RULES).read(), re.M))
    firing, quiet = set(), set()
    for t in os.listdir(os.path.join(RULES_DIR, "tests")):
        text = open(os.path.join(RULES_DIR, "tests", t)).read()
        for name, body in re.findall(r"alertname: (\w+)\n\s+exp_alerts:(.*?)(?=\n\s+- eval_time|\Z)",
                                     text, re.S):
            (quiet if body.strip() == "[]" else firing).add(name)
    check(alerts and alerts == firing == quiet,
          "alerts %s, firing cases %s, quiet cases %s" % (sorted(alerts), sorted(firing), sorted(quiet)))


def rule_exprs(text):
    """The expr: of every rule, one line or a block scalar."""
    out, block = [], None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if block is not None:
            if line.strip() and indent > block:
                out.append(line)
                continue
            block = None
        m = re.match(r"(\s*)expr: ?(.*)$", line)
        if m and m.group(2).strip() in ("|", ">", "|-", ">-"):
            block = len(m.group(1))
        elif m:
            out.append(m.group(2))
    return out


def test_rules_use_only_metrics_the_program_writes(tmp):
    _, text = program_metrics(tmp)
    _, _, types = parse(text)
    rules = open(RULES).read()
    exprs = rule_exprs(rules)
    check(len(re.findall(r"^\s+expr:", rules, re.M)) == len(re.findall(r"^\s+- alert:", rules, re.M)),
          "a rule without expr:")
    used = set(re.findall(r"\b(kahua_[a-z_]+)", "\n".join(exprs)))
    check(used, "no metric found in the rules")
    check(used <= set(types), "rules use metrics the program does not write: %s" % sorted(used - set(types)))


def test_program_output_passes_promtool_check_metrics(tmp):
    _, text = program_metrics(tmp)
    p = promtool("check", "metrics", stdin=text)
    check(p.returncode == 0 and p.stdout.strip() == "" and p.stderr.strip() == "",
          "promtool check metrics: %s %s" % (p.stdout, p.stderr))


def test_gated_run_output_passes_promtool_check_metrics(tmp):
    """The kept series and the held-back run's own are one valid file."""
    _, text = program_metrics(tmp, gated=True)
    samples, _, _ = parse(text)
    skipped = [v for (name, _), v in samples.items() if name == "kahua_restarter_last_attempt_skipped"]
    check(skipped == [1.0], "last_attempt_skipped %r in\n%s" % (skipped, text))
    check(any(name == "kahua_worker_continuations" for name, _ in samples), text)
    p = promtool("check", "metrics", stdin=text)
    check(p.returncode == 0 and p.stdout.strip() == "" and p.stderr.strip() == "",
          "promtool check metrics: %s %s" % (p.stdout, p.stderr))


def test_node_exporter_serves_every_metric(tmp):
    path, text = program_metrics(tmp)
    want, want_help, want_type = parse(text)
    check(len(want_type) >= 10 and len(want) >= 20, "too few metrics written: %r" % text)
    port = harness.free_port()
    log = open(os.path.join(tmp, "node-exporter.log"), "w")
    ne = subprocess.Popen([NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % port,
                           "--collector.disable-defaults", "--collector.textfile",
                           "--collector.textfile.directory=" + os.path.dirname(path)],
                          stdout=log, stderr=subprocess.STDOUT)
    try:
        def scrape():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
                    return r.read().decode()
            except OSError:
                check(ne.poll() is None, "node_exporter exited with status %s" % ne.poll())
                return None
        body = harness.wait_for(scrape, 20, "node_exporter on port %d" % port)
    finally:
        ne.terminate()
        ne.wait(10)
        log.close()
    got, got_help, got_type = parse(body)
    check(got.get(("node_textfile_scrape_error", frozenset())) == 0.0,
          "node_exporter could not read the file: %s" % open(log.name).read()[-2000:])
    for name in want_type:
        check(got_type.get(name) == want_type[name], "%s: TYPE %r, want %r" % (name, got_type.get(name), want_type[name]))
        check(got_help.get(name) == want_help[name], "%s: HELP %r, want %r" % (name, got_help.get(name), want_help[name]))
    for key, value in want.items():
        check(got.get(key) == value, "%s%s: served %r, written %r" % (key[0], sorted(key[1]), got.get(key), value))


if __name__ == "__main__":
    sys.exit(standalone.main("prometheus rules and metrics", globals(), ("promtool", NODE_EXPORTER), "prometheus prometheus-node-exporter"))
