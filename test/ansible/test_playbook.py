#!/usr/bin/env python3
"""contrib/ansible/kahua-restart.yml with Debian's ansible-core against
three simulator sites on this machine, each an inventory host with
ansible_connection=local: the play restarts them one at a time in
inventory order, and stops at the first host whose run fails.

Exits 77 with one line when ansible-playbook is not installed."""
import os
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "test"))
import standalone  # noqa: E402
import harness  # noqa: E402
from harness import check  # noqa: E402

PLAYBOOK = os.path.join(TOP, "contrib", "ansible", "kahua-restart.yml")
HOSTS = ["h1", "h2", "h3"]


def start_ticks(pid):
    """When the process started, in clock ticks since boot (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    return int(st[st.rfind(")") + 2:].split()[19])


def play(tmp, sites):
    inv = os.path.join(tmp, "inventory")
    with open(inv, "w") as f:
        f.write("[kahua]\n")
        for h in HOSTS:
            f.write("%s ansible_connection=local ansible_python_interpreter=%s kahua_site=%s\n"
                    % (h, sys.executable, sites[h].root))
    env = dict(os.environ, ANSIBLE_LOCAL_TEMP=os.path.join(tmp, "ans-local"),
               ANSIBLE_REMOTE_TEMP=os.path.join(tmp, "ans-remote"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0")
    env.pop("OT_SITE", None)
    reports = os.path.join(tmp, "reports")
    p = subprocess.run(["ansible-playbook", "-i", inv, PLAYBOOK,
                        "-e", "kahua_restarter_bin=%s" % harness.BIN,
                        "-e", "kahua_report_dir=%s" % reports,
                        "-e", '{"kahua_restarter_options": ["--retries", "0"]}'],
                       env=env, capture_output=True, text=True, timeout=600)
    return p, reports


def report(reports, host):
    path = os.path.join(reports, host + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return harness.json.loads(f.read())


def fleet(tmp, faulty=None):
    sites, sims = {}, []
    for h in HOSTS:
        sites[h] = harness.Site(tmp, name=h)
        sims.append(harness.Sim(sites[h], faults=["http-500"] if h == faulty else ()))
    return sites, dict(zip(HOSTS, sims))


def test_all_healthy_restarts_every_host_in_order(tmp):
    sites, sims = fleet(tmp)
    try:
        before = {h: {w["pid"] for w in sims[h].ls()} for h in HOSTS}
        p, reports = play(tmp, sites)
        check(p.returncode == 0, "play failed: %s %s" % (p.stdout[-3000:], p.stderr[-2000:]))
        reps = [report(reports, h) for h in HOSTS]
        for h, r in zip(HOSTS, reps):
            check(r is not None and r["outcome"] == "ok" and r["exit_status"] == 0, (h, r))
            check(len(r["restarts"]) == 3, (h, r["restarts"]))
            check(len(sites[h].history()) == 1, (h, sites[h].history()))
            check(not before[h] & {w["pid"] for w in sims[h].ls()}, "%s kept an old worker" % h)
        # Host by host: every replacement of a host started after every
        # replacement of the host before it.
        ticks = [[start_ticks(s["new"]["pid"]) for s in r["restarts"]] for r in reps]
        for i in range(1, len(HOSTS)):
            check(max(ticks[i - 1]) <= min(ticks[i]),
                  "%s restarted before %s was done: %r" % (HOSTS[i], HOSTS[i - 1], ticks))
            check(reps[i - 1]["started"] <= reps[i]["started"], reps)
    finally:
        for s in sims.values():
            s.stop()


def test_unhealthy_host_stops_the_fleet(tmp):
    sites, sims = fleet(tmp, faulty="h2")
    try:
        h3_before = sorted(w["pid"] for w in sims["h3"].ls())
        p, reports = play(tmp, sites)
        check(p.returncode != 0, "play passed over a failed host: %s" % p.stdout[-3000:])
        check("kahua-restarter exited 1 on h2" in p.stdout, p.stdout[-3000:])
        r1, r2 = report(reports, "h1"), report(reports, "h2")
        check(r1 is not None and r1["outcome"] == "ok", r1)
        # The failed host's report is kept, with why it failed.
        check(r2 is not None and r2["outcome"] == "unhealthy" and r2["exit_status"] == 1, r2)
        check("500" in r2["error"], r2)
        check([l["exit_status"] for l in sites["h2"].history()] == [1], sites["h2"].history())
        # The third host was never touched.
        check(report(reports, "h3") is None, "h3 has a report")
        check(sites["h3"].history() == [], sites["h3"].history())
        check(sorted(w["pid"] for w in sims["h3"].ls()) == h3_before, "h3's workers changed")
    finally:
        for s in sims.values():
            s.stop()


if __name__ == "__main__":
    sys.exit(standalone.main("ansible playbook", globals(), ("ansible-playbook",), "ansible-core"))
