#!/usr/bin/env python3
"""Replay the recorded Kahua control-socket session against kahua-sim.

usage: compare_recorded.py SIM_BINARY TMPDIR

Starts the simulator on a fresh site bundle under TMPDIR with the recorded
worker types (hello x2, leaky x1 leaking 5 MB per request), sends every
recorded "sent" of test/vectors/control-socket.json in the recorded order,
and compares each reply with the recorded "received" after normalising
what differs from run to run: worker ids and worker numbers become tokens
by order of first appearance (so identities must still line up: restart
replies name the workers an earlier ls listed), pids, start times, session
ids and object addresses become placeholders, and the site path becomes
the recorded /home/kahua/site.  How the connection ended is compared too
(clean close, reset by peer, no reply at all).

Then the control-socket exchanges of test/vectors/failure-modes.json,
recorded from a Kahua that met real failures, on a second simulator with
the recording's three types (hello x2, leaky x1, wiki x1): before each
case the replay does what the recording did between exchanges (SIGKILL
the leaky worker; truncate app/hello/hello.kahua; wait while requests
were made; restore the file), and the restart race is played on a third
simulator started with --fault restart-race=1.  The eval exchanges of
that file go to workers, not to the supervisor, and are not replayed
here.

Prints "ok CASE" or "FAIL CASE: expected ... got ..." per case and exits 1
if any case failed.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "control-socket.json"
FAILURES = Path(__file__).resolve().parent.parent / "vectors" / "failure-modes.json"
RECORDED_SITE = "/home/kahua/site"
GAVE_UP_WAIT = 2.0          # the recording waited 3 s for an incomplete request
REPLY_TIMEOUT = 20.0

WID_RE = re.compile(r'(?<=["/])([0-9a-z]+:[0-9a-z]+)(?=["\\]|$)')
WNO_RE = re.compile(r':worker-count (\d+)')
CMD_WNO_RE = re.compile(r'\((kill|restart) (\d+)\)')


class Tokens:
    """Worker ids and numbers of one side, named by first appearance."""

    def __init__(self):
        self.wid = {}
        self.wno = {}

    def wid_token(self, wid):
        return self.wid.setdefault(wid, "W%d" % len(self.wid))

    def wno_token(self, wno):
        return self.wno.setdefault(wno, "N%d" % len(self.wno))

    def normalise(self, text, site=None):
        if site:
            text = text.replace(site, RECORDED_SITE)
        text = WID_RE.sub(lambda m: self.wid_token(m.group(1)), text)
        text = WNO_RE.sub(lambda m: ":worker-count " + self.wno_token(m.group(1)), text)
        text = re.sub(r':worker-pid \d+', ':worker-pid PID', text)
        text = re.sub(r':start-time \d+', ':start-time TIME', text)
        text = re.sub(r'\("x-kahua-sgsid" "[0-9a-z]+"\)', '("x-kahua-sgsid" "SGSID")', text)
        text = re.sub(r'0x[0-9a-f]+', '0xADDR', text)
        return text

    def wid_of(self, token):
        return next((w for w, t in self.wid.items() if t == token), None)

    def wno_of(self, token):
        return next((n for n, t in self.wno.items() if t == token), None)


def make_site(tmp, wiki=False):
    site = Path(tempfile.mkdtemp(prefix="kahua-site-", dir=tmp))
    (site / "etc").mkdir()
    (site / "etc" / "kahua.conf").write_text("(make <kahua-config>)\n")
    (site / "app-servers").write_text(
        ";; -*-scheme-*-\n"
        "(;;(<type> :arguments (<arg> ...) :run-by-default <num> ...)\n"
        " (hello :arguments () :run-by-default 2)\n"
        " (leaky :arguments (\"--leak-mb\" \"5\") :run-by-default 1)\n"
        + (" (wiki :arguments () :run-by-default 1)\n" if wiki else "") +
        " )\n")
    return site


def start_sim(binary, site, faults=()):
    args = [binary, "-S", str(site), "--worker-delay", "20"]
    for f in faults:
        args += ["--fault", f]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode(errors="replace")
        if line.startswith("kahua-sim: ready"):
            return proc
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("FAIL start: simulator not ready: %s"
                     % proc.stderr.read().decode(errors="replace"))


def exchange(path, data, half_close, gave_up):
    """Send data; return (bytes received, how the connection ended)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(data)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    s.settimeout(GAVE_UP_WAIT if gave_up else REPLY_TIMEOUT)
    got, end = b"", "clean"
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        end = "no-reply"
    except ConnectionResetError:
        end = "reset"
    finally:
        s.close()
    return got, end


def recorded_end(case):
    if case.get("client_gave_up_waiting"):
        return "no-reply"
    if case.get("socket_error") and "Reset" in case["socket_error"]:
        return "reset"
    return "clean" if case.get("server_closed_cleanly", True) else "unclean"


def sim_ls(sock):
    got, _ = exchange(sock, b'(("x-kahua-worker" "spvr"))\n(ls)\n', False, False)
    return re.findall(r':worker-id "([^"]+)" :worker-count (\d+)', got.decode())


class Replay:
    def __init__(self, site):
        self.site = str(site)
        self.sock_dir = os.path.join(self.site, "socket")
        self.rec = Tokens()
        self.sim = Tokens()

    def sim_wid(self, rec_wid):
        """The simulator's counterpart of a recorded worker id."""
        if rec_wid not in self.rec.wid:
            # First seen in a request (e.g. the id a restart gave a
            # worker): it is the one simulator worker not yet seen.
            token = self.rec.wid_token(rec_wid)
            fresh = sorted((int(n), w) for w, n in sim_ls(os.path.join(self.sock_dir, "kahua"))
                           if w not in self.sim.wid)
            if len(fresh) != 1:
                return None
            self.sim.wid[fresh[0][1]] = token
        return self.sim.wid_of(self.rec.wid[rec_wid])

    def translate(self, text):
        for rec_wid in set(WID_RE.findall(text)):
            wid = self.sim_wid(rec_wid)
            if wid is None:
                return None
            text = text.replace(rec_wid, wid)

        def wno(m):
            token = self.rec.wno.get(m.group(2))
            sim = self.sim.wno_of(token) if token else None
            return "(%s %s)" % (m.group(1), sim if sim is not None else m.group(2))
        return CMD_WNO_RE.sub(wno, text)

    def run_case(self, case):
        name = case["case"]
        sent = self.translate(case["sent"])
        sock = self.translate(case["socket"].replace("SITE", self.site))
        if sent is None or sock is None:
            return "FAIL %s: no simulator worker matches the recorded id" % name
        self.rec.normalise(case["sent"])
        self.sim.normalise(sent, self.site)
        got, end = exchange(sock, sent.encode("latin-1"),
                            case.get("client_half_closed_after_send", False),
                            case.get("client_gave_up_waiting", False))
        want = self.rec.normalise(case["received"])
        have = self.sim.normalise(got.decode("latin-1"), self.site)
        want_end = recorded_end(case)
        if want != have:
            return "FAIL %s: expected %r got %r" % (name, want, have)
        if want_end != end:
            return "FAIL %s: expected the connection to end %s, got %s" % (name, want_end, end)
        return "ok %s" % name


def stop_sim(proc, site):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return "FAIL teardown: simulator still running 10 s after SIGTERM"
    left = [p for p in ("socket/kahua", "run/kahua-spvr.pid") if (site / p).exists()]
    if rc != 0 or left:
        return "FAIL teardown: exit status %d, left behind: %s" % (rc, left)
    return None


def spvr(site, body):
    got, _ = exchange(os.path.join(str(site), "socket", "kahua"),
                      b'(("x-kahua-worker" "spvr"))\n' + body.encode() + b"\n", False, False)
    return got.decode()


def sim_entries(site):
    """(wid, wno, type, pid or None) of every entry the simulator lists."""
    return [(m[0], int(m[1]), m[2], None if m[3] == "#f" else int(m[3]))
            for m in re.findall(r':worker-id "([^"]*)" :worker-count (\d+) :worker-type (\S+) '
                                r':worker-pid (\d+|#f)', spvr(site, "(ls)"))]


def wait_until(pred, what):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise SystemExit("FAIL setup: %s" % what)


HELLO_KAHUA = ('(define-entry (hello)\n  (html/\n   (head/ (title/ "hello"))\n'
               '   (body/ (p/ "hello"))))\n\n(initialize-main-proc hello)\n')


def failure_acts(site):
    """What the recording did before some cases, done to the simulator."""
    app = site / "app" / "hello" / "hello.kahua"

    def kill_leaky():
        pid = next(p for _, _, t, p in sim_entries(site) if t == "leaky")
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: any(t == "leaky" and p is None for _, _, t, p in sim_entries(site)),
                   "the killed worker listed with :worker-pid #f")

    def break_app():
        app.parent.mkdir(parents=True, exist_ok=True)
        app.write_text(HELLO_KAHUA.replace('   (body/ (p/ "hello"))))\n', ""))

    def requests_meanwhile():
        # Six requests were made here: the broken worker had exited by then.
        wait_until(lambda: all(p is None for w, _, _, p in sim_entries(site)
                               if w == "ERROR loading module"), "the broken worker to exit")

    def fix_app():
        app.write_text(HELLO_KAHUA)

    return {"(ls) after a worker was killed": kill_leaky,
            "(restart \"WID\") when the app no longer loads": break_app,
            "(ls) with the broken entry": requests_meanwhile,
            "(reload) after the app is fixed": fix_app}


def replay_failures(binary, tmp, cases):
    """The failure-mode exchanges in order, each after the recording's act."""
    site = make_site(tmp, wiki=True)
    proc = start_sim(binary, site)
    lines = []
    try:
        # The recorded hello workers had been restarted: they sort last.
        spvr(site, "(restart hello)")
        replay = Replay(site)
        acts = failure_acts(site)
        for case in cases:
            for prefix, act in acts.items():
                if case["case"].startswith(prefix):
                    act()
            lines.append(replay.run_case(case))
            print(lines[-1], flush=True)
    finally:
        problem = stop_sim(proc, site)
    return lines + ([problem] if problem else [])


def replay_race(binary, tmp, case):
    """The restart that lost the race, with the ls before and after it."""
    site = make_site(tmp, wiki=True)
    proc = start_sim(binary, site, ["restart-race=1"])
    lines = []
    try:
        # As recorded: wiki, leaky, then the two hello workers, by number.
        for body in ("(kill 2)", "(run leaky)", "(kill 0)", "(kill 1)", "(run hello)", "(run hello)"):
            spvr(site, body)
        replay = Replay(site)
        for part, sent in (("ls before", "(ls)"), ("restart", None), ("ls after", "(ls)")):
            c = dict(case)
            if sent is not None:
                c.update(sent='(("x-kahua-worker" "spvr"))\n(ls)\n',
                         received=case["ls_before" if part == "ls before" else "ls_after"])
            c["case"] = "%s: %s" % (case["case"], part)
            lines.append(replay.run_case(c))
            print(lines[-1], flush=True)
    finally:
        problem = stop_sim(proc, site)
    return lines + ([problem] if problem else [])


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: compare_recorded.py SIM_BINARY TMPDIR")
    cases = json.loads(VECTORS.read_text())
    site = make_site(sys.argv[2])
    proc = start_sim(sys.argv[1], site)
    failures = 0
    try:
        replay = Replay(site)
        for case in cases:
            line = replay.run_case(case)
            print(line, flush=True)
            failures += line.startswith("FAIL")
    finally:
        problem = stop_sim(proc, site)
    if problem:
        print(problem)
        failures += 1
    spvr_cases = [c for c in json.loads(FAILURES.read_text()) if c["socket"] == "SITE/socket/kahua"]
    race = [c for c in spvr_cases if "ls_before" in c]
    lines = replay_failures(sys.argv[1], sys.argv[2], [c for c in spvr_cases if c not in race])
    for c in race:
        lines += replay_race(sys.argv[1], sys.argv[2], c)
    failures += sum(1 for l in lines if l.startswith("FAIL"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
