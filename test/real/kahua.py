"""A real Kahua site for the tests: find an installation, create a private
site bundle from test/real/site in a temp dir, start its supervisor on a
free port, stop it and prove nothing of it is left.  Standard library
only; the control-socket, HTTP and process helpers of the simulator
suite (test/integration/harness.py) are reused.

A site is only ever found through what this module started: the
supervisor's pid (its child), the members of its session and their
descendants, each checked against its command line (" -S SITE " or
PREFIX/bin/gosh) and its start time before it is signalled.  Nothing is
looked up by name, and no other site is touched."""

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
TEMPLATE = os.path.join(HERE, "site")

import sys  # noqa: E402
sys.path.insert(0, os.path.join(TOP, "test", "integration"))
import harness  # noqa: E402,F401  (raw_exchange, free_port, run, check, ...)
from harness import TestFailure, check, free_port, raw_exchange  # noqa: E402

# Where an installation is looked for when KAHUA_PREFIX is not set.
DEFAULT_PREFIXES = ["/opt/kahua", "/usr/local", "/usr"]
START_TIMEOUT = float(os.environ.get("KAHUA_START_TIMEOUT", "90"))
STOP_TIMEOUT = float(os.environ.get("KAHUA_STOP_TIMEOUT", "20"))


def is_kahua(prefix):
    return all(os.access(os.path.join(prefix, "bin", b), os.X_OK)
               for b in ("kahua-spvr", "gosh", "kahua-package"))


def find_prefix():
    """(prefix, None) for the installation to use, or (None, why not).

    KAHUA_PREFIX names one explicitly: if it holds no Kahua that is an
    error (raised), not a reason to skip."""
    given = os.environ.get("KAHUA_PREFIX")
    if given:
        prefix = os.path.realpath(given)
        if not is_kahua(prefix):
            raise SystemExit("real-kahua: KAHUA_PREFIX=%s: no bin/kahua-spvr, bin/gosh and "
                             "bin/kahua-package there" % given)
        return prefix, None
    for p in DEFAULT_PREFIXES:
        if is_kahua(p):
            return os.path.realpath(p), None
    return None, "no Kahua found in %s" % ", ".join(DEFAULT_PREFIXES)


# ------------------------------------------------------------------ processes

def proc_stat(pid):
    """(state, ppid, sid, starttime) of a process, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return None
    f = st[st.rfind(")") + 2:].split()
    return f[0], int(f[1]), int(f[3]), int(f[19])


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def all_stats():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            s = proc_stat(int(d))
            if s:
                out[int(d)] = s
    return out


def alive(pid):
    s = proc_stat(pid)
    return s is not None and s[0] not in "ZX"


# ------------------------------------------------------------------ ls parsing

LS_ENTRY = re.compile(r'\(:worker-id "((?:[^"\\]|\\.)*)" :worker-count (\d+) :worker-type (\S+) '
                      r':worker-pid (\d+|#f) :start-time (\d+)\)')


def parse_ls(reply):
    """Workers of an ls reply as dicts; pid None for Kahua's #f (dead entry)."""
    check(reply.startswith('(("x-kahua-status" "OK"))\n'), "ls failed: %r" % reply[:300])
    body = reply.split("\n", 1)[1]
    return [{"wid": m.group(1), "wno": int(m.group(2)), "type": m.group(3),
             "pid": None if m.group(4) == "#f" else int(m.group(4)), "start": int(m.group(5))}
            for m in LS_ENTRY.finditer(body)]


def read_run_by_default(path):
    """{type: :run-by-default} of an app-servers file (the template's simple form)."""
    want = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*\((\S+)\s.*:run-by-default\s+(\d+)", line.split(";;")[0])
            if m:
                want[m.group(1)] = int(m.group(2))
    return want


class RealSite(harness.BundleFiles):
    """A private Kahua site bundle under `tmp`, run by a kahua-spvr of `prefix`."""

    # Pages that must answer 200 before the site counts as started.
    ready_paths = ("/hello/", "/leaky/ping")

    def __init__(self, prefix, tmp, name="site", template=TEMPLATE):
        self.prefix = prefix
        self.root = os.path.realpath(os.path.join(tmp, name))
        self.proc = None
        self.port = None
        self.console = None
        self.env = dict(os.environ, PATH=os.path.join(prefix, "bin") + ":" + os.environ.get("PATH", ""))
        self._create(template)
        self.want = read_run_by_default(self.path("app-servers"))

    # -- bundle

    def _create(self, template):
        t0 = time.monotonic()
        self.package_create()
        shutil.copy(os.path.join(template, "app-servers"), self.path("app-servers"))
        shutil.copytree(os.path.join(template, "app"), self.path("app"), dirs_exist_ok=True)
        os.makedirs(self.path("logs"), exist_ok=True)
        os.makedirs(self.path("run"), exist_ok=True)
        self.create_secs = time.monotonic() - t0

    def package_create(self):
        p = subprocess.run([os.path.join(self.prefix, "bin", "kahua-package"), "create", self.root],
                           env=self.env, capture_output=True, text=True, timeout=60)
        check(p.returncode == 0 and os.path.exists(self.path("etc", "kahua.conf")),
              "kahua-package create %s failed: %s%s" % (self.root, p.stdout, p.stderr))

    def log(self, name="kahua-spvr.log"):
        try:
            with open(self.path("logs", name), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- start

    def start(self, timeout=START_TIMEOUT):
        """Start kahua-spvr in a session of its own and wait until every
        worker of app-servers is listed and /hello/, /leaky/ping answer 200."""
        check(self.proc is None, "site already started")
        for attempt in range(3):
            self.port = free_port()
            t0 = time.monotonic()
            self.console = open(self.path("logs", "spvr-console.log"), "a")
            self.proc = subprocess.Popen(
                [os.path.join(self.prefix, "bin", "kahua-spvr"), "-S", self.root,
                 "-H", "127.0.0.1:%d" % self.port],
                cwd=self.root, env=self.env, stdin=subprocess.DEVNULL, stdout=self.console,
                stderr=subprocess.STDOUT, start_new_session=True)
            why = self._wait_ready(timeout)
            if why is None:
                self.start_secs = time.monotonic() - t0
                return self
            # Another process may have taken the free port meanwhile.
            self.stop()
            if "port" not in why:
                break
        raise TestFailure("Kahua site %s did not start: %s\n%s" % (self.root, why, self.tails()))

    def _wait_ready(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            logs = "".join(self.log(n) for n in ("spvr-console.log", "kahua-spvr.log",
                                                   "kahua-httpd.log"))
            if "Address already in use" in logs or "address already in use" in logs:
                return "port %d in use" % self.port
            if self.proc.poll() is not None:
                return "kahua-spvr exited with status %d" % self.proc.returncode
            if os.path.exists(self.path("socket", "kahua")) and \
               all(self.http_status(p) == 200 for p in self.ready_paths):
                try:
                    if self.whole():
                        return None
                except (OSError, TestFailure):
                    pass
            time.sleep(0.2)
        return "not ready after %gs" % timeout

    def tails(self):
        out = []
        for name in ("kahua-spvr.log", "spvr-console.log", "kahua-httpd.log"):
            lines = self.log(name).splitlines()[-15:]
            if lines:
                out.append("---- last lines of %s\n%s" % (self.path("logs", name), "\n".join(lines)))
        return "\n".join(out)

    # -- control socket and HTTP

    def call(self, body, timeout=30):
        reply = raw_exchange(self.path("socket", "kahua"),
                             b'(("x-kahua-worker" "spvr"))\n' + body.encode() + b"\n", timeout=timeout)
        return reply.decode(errors="replace")

    def ls(self):
        return parse_ls(self.call("(ls)"))

    def counts(self):
        c = {}
        for w in self.ls():
            c[w["type"]] = c.get(w["type"], 0) + 1
        return c

    def whole(self, ws=None):
        """Every type has its :run-by-default workers, each a live process."""
        ws = self.ls() if ws is None else ws
        c = {}
        for w in ws:
            if w["pid"] is None or not alive(w["pid"]) or w["wid"].startswith("ERROR"):
                return False
            c[w["type"]] = c.get(w["type"], 0) + 1
        return c == self.want

    def wait_whole(self, timeout=15):
        end = time.monotonic() + timeout
        ws = []
        while time.monotonic() < end:
            ws = self.ls()
            if self.whole(ws):
                return ws
            time.sleep(0.2)
        raise TestFailure("site not whole after %gs: %r (want %r)" % (timeout, ws, self.want))

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def get(self, path, timeout=10):
        try:
            with urllib.request.urlopen(self.url(path), timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def http_status(self, path):
        try:
            return self.get(path, timeout=5)[0]
        except OSError:
            return None

    # -- processes

    def processes(self):
        """{pid: starttime} of the site's live processes: the supervisor,
        the members of its session and their descendants, each checked
        against its command line."""
        if self.proc is None:
            return {}
        stats = all_stats()
        spvr = self.proc.pid
        roots = [p for p, s in stats.items() if p == spvr or s[2] == spvr]
        found, todo = {}, list(roots)
        while todo:
            p = todo.pop()
            if p in found or p not in stats or stats[p][0] in "ZX" or not self._ours(p):
                continue
            found[p] = stats[p][3]
            todo += [q for q, s in stats.items() if s[1] == p]
        return found

    def _ours(self, pid):
        c = cmdline(pid)
        if not c:
            return False
        return (" -S %s " % self.root) in c + " " or c.startswith(os.path.join(self.prefix, "bin", "gosh") + " ")

    def _same(self, pid, starttime):
        s = proc_stat(pid)
        return s is not None and s[0] not in "ZX" and s[3] == starttime and self._ours(pid)

    def stop(self):
        """Shut the supervisor down with its own command, wait, then end
        verified leftovers (SIGTERM and SIGCONT, then SIGKILL).  Returns the pids
        that had to be forced; raises if any survives."""
        if self.proc is None:
            return []
        procs = self.processes()
        if self.proc.poll() is None and os.path.exists(self.path("socket", "kahua")):
            try:
                self.call("(shutdown)", timeout=10)   # replies #<undef>, then exits
            except OSError:
                pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        forced = []
        end = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < end and any(self._same(p, t) for p, t in procs.items()):
            procs.update(self.processes())
            time.sleep(0.1)
        # A stopped worker (SIGSTOP tests) holds SIGTERM pending until SIGCONT.
        for sigs in ((signal.SIGTERM, signal.SIGCONT), (signal.SIGKILL,)):
            left = [p for p, t in procs.items() if self._same(p, t)]
            if not left:
                break
            forced = forced or left
            for p in left:
                for sig in sigs:
                    try:
                        os.kill(p, sig)
                    except ProcessLookupError:
                        pass
            end = time.monotonic() + 5
            while time.monotonic() < end and any(self._same(p, procs[p]) for p in left):
                time.sleep(0.1)
        if self.proc.poll() is None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.console.close()
        left = [p for p, t in procs.items() if self._same(p, t)]
        self.proc = None
        if left:
            raise TestFailure("could not stop the Kahua site %s: pids %r remain" % (self.root, left))
        return forced


def recoveries(rep):
    """What the program put right on the way (Kahua's waitpid race, which
    it meets now and then even on an idle site): each step that says so,
    in its own words.  Such a run is quiet; only the record tells."""
    said = [r["recovered"] for r in rep["restarts"] if r.get("recovered") is not None]
    for r in said:
        check(r.startswith("waitpid race: "), "a recovery not named: %r" % r)
    return said

