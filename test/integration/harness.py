"""Integration test harness: real simulator processes, real sockets, the
real kahua-restarter binary.  Standard library only."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import histfmt

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("KR_BIN", os.path.join(TOP, "kahua-restarter"))
SIM = os.environ.get("KR_SIM", os.path.join(TOP, "test", "kahua-sim"))
# Extra command in front of the binary, e.g. "valgrind --error-exitcode=99 ..."
WRAP = os.environ.get("KR_WRAP", "").split()
RUN_TIMEOUT = float(os.environ.get("KR_RUN_TIMEOUT", "120"))

WID_RE = re.compile(r"[0-9a-z]+:[0-9a-z]+")

DEFAULT_TYPES = [("hello", [], 2), ("leaky", ["--leak-mb", "5"], 1)]


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sx_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class BundleFiles:
    """Paths in a site bundle at self.root, and the history it keeps."""

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def history(self):
        """The history's lines in the report's shape, whatever their version."""
        return [histfmt.expand(l) for l in self.history_lines()]

    def history_lines(self):
        """The history's lines as written."""
        p = self.path("logs", "kahua-restarter.jsonl")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return [json.loads(l) for l in f if l.strip()]


class Site(BundleFiles):
    """A private Kahua site bundle under a temp dir."""

    def __init__(self, tmp, types=DEFAULT_TYPES, conf=None, name="site"):
        self.root = os.path.join(tmp, name)
        os.makedirs(os.path.join(self.root, "etc"), exist_ok=True)
        for d in ("run", "logs", "tmp"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        self.write_conf(conf if conf is not None else "(make <kahua-config>)\n")
        self.write_app_servers(types)

    def write_conf(self, text):
        with open(os.path.join(self.root, "etc", "kahua.conf"), "w") as f:
            f.write(text)

    def write_app_servers(self, types):
        lines = [";; -*-scheme-*-", "(;;(<type> :arguments (<arg> ...) :run-by-default <num> ...)"]
        for name, args, n in types:
            argl = " ".join(sx_string(a) for a in args)
            lines.append(" (%s :arguments (%s) :run-by-default %d)" % (name, argl, n))
        lines.append(" )")
        with open(os.path.join(self.root, "app-servers"), "w") as f:
            f.write("\n".join(lines) + "\n")
        self.types = types


class Sim:
    """A running kahua-sim on a site, with optional HTTP front."""

    def __init__(self, site, http=True, faults=(), worker_delay=20, sockdir=None, extra=(),
                 console=False):
        self.site = site
        self.port = free_port() if http else None
        self.sockdir = sockdir or site.path("socket")
        args = [SIM, "-S", site.root, "--worker-delay", str(worker_delay)]
        if http:
            args += ["-H", "127.0.0.1:%d" % self.port]
        for f in faults:
            args += ["--fault", f]
        args += list(extra)
        # console: the supervisor's output in logs/spvr-console.log, as the
        # test kit's start.sh keeps a real Kahua's.
        if console:
            os.makedirs(site.path("logs"), exist_ok=True)
            out = site.path("logs", "spvr-console.log")
        else:
            out = os.path.join(os.path.dirname(site.root), "sim-%d.out" % time.time_ns())
        self.log = open(out, "w+")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self._ready(20)
        check(line.startswith("kahua-sim: ready"), "simulator did not start: %r %s" % (line, self.stderr()))
        self.pid = self.proc.pid

    def _ready(self, timeout):
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
        return self.proc.stdout.readline()

    def stderr(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def raw(self, data, sock="kahua", halfclose=False, timeout=10):
        """Send bytes to a socket in the bundle and return all bytes back."""
        return raw_exchange(os.path.join(self.sockdir, sock), data, halfclose, timeout)

    def call(self, body, timeout=30):
        reply = self.raw(b'(("x-kahua-worker" "spvr"))\n' + body.encode() + b"\n", timeout=timeout)
        return reply.decode(errors="replace")

    def ls(self):
        """Every entry as a dict, parsed with a small independent reader:
        pid None for :worker-pid #f, wid "#<eof>" for a worker that printed
        nothing, "ERROR loading module" and the like kept as they are."""
        reply = self.call("(ls)")
        check(reply.startswith('(("x-kahua-status" "OK"))\n'), "ls failed: %r" % reply[:300])
        body = reply.split("\n", 1)[1]
        out = []
        for m in re.finditer(r'\(:worker-id ("([^"]*)"|#<eof>) :worker-count (\d+) :worker-type (\S+) '
                             r':worker-pid (\d+|#f) :start-time (\d+)\)', body):
            out.append({"wid": m.group(2) if m.group(2) is not None else "#<eof>",
                        "wno": int(m.group(3)), "type": m.group(4),
                        "pid": None if m.group(5) == "#f" else int(m.group(5)),
                        "start": int(m.group(6))})
        return out

    def failing(self):
        """Entries that cannot serve: no live pid, or an id that is no worker id."""
        return [w for w in self.ls()
                if w["pid"] is None or not alive(w["pid"]) or not WID_RE.fullmatch(w["wid"])]

    def counts(self):
        c = {}
        for w in self.ls():
            c[w["type"]] = c.get(w["type"], 0) + 1
        return c

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def get(self, path, timeout=10):
        try:
            with urllib.request.urlopen(self.url(path), timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def descendants(self):
        return descendants(self.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


def raw_exchange(path, data, halfclose=False, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    # Deep bundles: reach the socket through its directory's descriptor.
    dfd = None
    if len(path.encode()) >= 108:
        dfd = os.open(os.path.dirname(path), os.O_PATH)
        s.connect("/proc/self/fd/%d/%s" % (dfd, os.path.basename(path)))
    else:
        s.connect(path)
    if dfd is not None:
        os.close(dfd)
    s.sendall(data)
    if halfclose:
        s.shutdown(socket.SHUT_WR)
    chunks = []
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    except ConnectionResetError:
        pass
    finally:
        s.close()
    return b"".join(chunks)


def grace_request(ms):
    """The grace expression as recorded from a real Kahua worker
    (test/vectors/grace.json), without its header, for ms milliseconds."""
    with open(os.path.join(TOP, "test", "vectors", "grace.json")) as f:
        sent = [c["sent"] for c in json.load(f) if c["case"].startswith("grace: armed")][0]
    return re.sub(r"\b300\b", str(ms), sent.split("\n", 1)[1])


def eval_on(sock, body, timeout=10):
    """A worker's reply to body sent as an eval, as the program sends one."""
    hdr = '(("x-kahua-eval" "#t") ("x-kahua-sgsid" "kahua-restarter"))\n'
    return raw_exchange(sock, (hdr + body).encode(), timeout=timeout).decode()


def timed_call(spvr, body):
    """body on spvr's control socket (a Sim or a real site), from a thread
    of its own: (thread, got); got has "reply" and "secs" once it ends."""
    got = {}

    def call():
        t0 = time.monotonic()
        got["reply"] = spvr.call(body)
        got["secs"] = time.monotonic() - t0
    t = threading.Thread(target=call)
    t.start()
    return t, got


def children_of(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rfind(")") + 2:].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            kids.append(int(d))
    return kids


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        for k in children_of(todo.pop()):
            out.append(k)
            todo.append(k)
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        return st[st.rfind(")") + 2] not in "ZX"
    except OSError:
        return False


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


class Result:
    def __init__(self, rc, out, err, secs):
        self.rc, self.out, self.err, self.secs = rc, out, err, secs

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "rc=%d stdout=%r stderr=%r" % (self.rc, self.out[-2000:], self.err[-2000:])


def meminfo():
    """/proc/meminfo in bytes."""
    got = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            got[k] = int(v.split()[0]) * 1024
    return got


def check_gated(res, site, sim, before):
    """A run a memory gate held back: silent, nothing restarted, its history line "skipped"."""
    check(res.rc == 0 and res.out == "" and res.err == "", res)
    check(sim.ls() == before, "a gated run restarted workers")
    last = site.history()[-1]
    check(last["outcome"] == "skipped" and last["exit_status"] == 0, last)
    check(last["restarts"] == [] and last["workers_before"] == [], last)
    return last


def run(args, site=None, env=None, timeout=None, stdin=None):
    """Run kahua-restarter; OT_SITE is the site unless env overrides it."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("KAHUA_RESTARTER_") and k != "OT_SITE"}
    if site is not None:
        e["OT_SITE"] = site.root
    if env:
        for k, v in env.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
    t0 = time.monotonic()
    p = subprocess.run(WRAP + [BIN] + list(args), env=e, capture_output=True, text=True,
                       timeout=timeout or RUN_TIMEOUT, stdin=stdin or subprocess.DEVNULL)
    return Result(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)


def one_line(res):
    """The error output must be exactly one line naming the program."""
    lines = [l for l in res.err.splitlines() if l.strip()]
    check(len(lines) == 1, "expected one line on stderr, got %r" % res.err)
    check(lines[0].startswith("kahua-restarter: "), "line lacks the program name: %r" % lines[0])
    return lines[0]


def same_workers(before, after):
    """Counts per type are equal."""
    def count(ws):
        c = {}
        for w in ws:
            c[w["type"]] = c.get(w["type"], 0) + 1
        return c
    check(count(before) == count(after), "worker counts changed: %r -> %r" % (count(before), count(after)))


def wait_for(pred, timeout=10, what="condition"):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise TestFailure("timed out waiting for %s" % what)


def tempdir():
    return tempfile.mkdtemp(prefix="kr-test-")


def rmtree(d):
    shutil.rmtree(d, ignore_errors=True)


def start(tmp, types=None, **kw):
    """A private site bundle (DEFAULT_TYPES unless types) and its simulator."""
    site = Site(tmp, types=types or DEFAULT_TYPES)
    return site, Sim(site, **kw)


class CountWatcher(threading.Thread):
    """Polls ls during a run and keeps the smallest count seen per type."""

    def __init__(self, sim):
        super().__init__(daemon=True)
        self.sim, self.low, self.halt, self.samples = sim, {}, False, 0

    def run(self):
        while not self.halt:
            try:
                c = self.sim.counts()
            except Exception:
                continue
            self.samples += 1
            for t in set(self.low) | set(c):
                self.low[t] = min(self.low.get(t, 99), c.get(t, 0))
            time.sleep(0.01)

    def stop(self):
        self.halt = True
        self.join(5)
