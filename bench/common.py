"""Shared helpers for the benchmarks: the integration harness, measured
child processes, statistics, Markdown tables, machine description.
Standard library only."""

import math
import os
import platform
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(TOP, "test", "integration"))

import harness  # noqa: E402  (Site, Sim, raw_exchange; KR_BIN / KR_SIM honoured)

import atexit  # noqa: E402
import hashlib  # noqa: E402
import shutil  # noqa: E402

# The tree may be rebuilt while the benchmarks run: measure private copies
# of the program and the simulator taken once at start-up.
SRC_BIN = harness.BIN
SRC_SIM = harness.SIM
_snap = tempfile.mkdtemp(prefix="kr-bench-bin-")
atexit.register(shutil.rmtree, _snap, True)
BIN = os.path.join(_snap, "kahua-restarter")
SIM = os.path.join(_snap, "kahua-sim")
for _src, _dst in ((SRC_BIN, BIN), (SRC_SIM, SIM)):
    if os.access(_src, os.X_OK):
        shutil.copy2(_src, _dst)
harness.BIN = BIN
harness.SIM = SIM

# KR_OLD_BIN: an earlier build of the program (e.g. one with the fixed
# --settle pause) measured beside this one as "old ..." methods.
SRC_OLD_BIN = os.environ.get("KR_OLD_BIN")
OLD_BIN = None
if SRC_OLD_BIN and os.access(SRC_OLD_BIN, os.X_OK):
    OLD_BIN = os.path.join(_snap, "kahua-restarter.old")
    shutil.copy2(SRC_OLD_BIN, OLD_BIN)


def sha256_12(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()[:12]

# Kahua's measured worker start-up (kahua-protocol.md, "Worker socket").
KAHUA_WORKER_DELAY_MS = 550
# A worker's time per page under load on 2 cores: what reproduces the
# queues Kahua builds at 50 requests/s (the simulator's default, 2 ms, is a
# hello page's CPU on an idle Kahua worker).
LOADED_REQUEST_MS = 10

# Recorded on real Kahua 1.1_pre19 (kahua-protocol.md, "Timing and locking").
REAL_KAHUA = {
    "restart_all_3": 1.66,      # (restart *) three workers, s
    "admin_ls": 0.47,           # kahua-admin -S SITE ls, s (gosh start-up included)
    "admin_ls_rss_mb": 47,      # its max RSS, MB
}


class Measured:
    """One finished child: exit status, wall and CPU seconds, max RSS."""

    def __init__(self, status, wall, ru, out, err):
        self.status = status
        self.wall = wall
        self.cpu = ru.ru_utime + ru.ru_stime if ru else float("nan")
        self.maxrss_kb = ru.ru_maxrss if ru else 0  # Linux: kilobytes
        self.out = out
        self.err = err

    @property
    def ok(self):
        return self.status == 0


def clean_env():
    """The caller's environment without settings that would change the run."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("KAHUA_RESTARTER_") and k != "OT_SITE"}


# A child's ru_maxrss counts the RSS of the process that forked it (Linux
# keeps the pre-exec high-water mark), so a child spawned from Python shows
# Python's ~20 MB whatever it uses itself.  The child is therefore forked
# by this tiny C helper (about 1 MB), which also times it.  It writes
# "WALL_NS UTIME_US STIME_US MAXRSS_KB WAITSTATUS" on descriptor 3.
SPAWN_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int st;
	pid_t pid;
	FILE *out = fdopen(3, "w");
	if (argc < 2 || !out)
		return 125;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		fclose(out);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	if (pid < 0)
		return 125;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			return 125;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(out, "%lld %lld %lld %ld %d\n",
		(long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec),
		(long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
		(long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
		ru.ru_maxrss, st);
	return fclose(out) == 0 ? 0 : 125;
}
"""

_spawn_helper = None


def spawn_helper():
    """Path of the compiled helper (built once per run in a temp dir)."""
    global _spawn_helper
    if _spawn_helper is None:
        d = _snap      # removed at exit with the program copies
        src = os.path.join(d, "spawn.c")
        with open(src, "w") as f:
            f.write(SPAWN_C)
        exe = os.path.join(d, "spawn")
        cc = os.environ.get("CC", "cc").split()
        subprocess.run(cc + ["-O2", "-o", exe, src], check=True)
        _spawn_helper = exe
    return _spawn_helper


class _RU:
    def __init__(self, utime, stime, maxrss):
        self.ru_utime, self.ru_stime, self.ru_maxrss = utime, stime, maxrss


def measure(argv, timeout=120.0, env=None):
    """Run argv under the spawn helper and return a Measured.

    Wall time runs from the helper's fork to its wait4 of the child.  The
    helper's exit is awaited on a pidfd; after `timeout` the helper is
    killed (the child dies with it), never a pid that may have been reused."""
    env = clean_env() if env is None else env
    helper = spawn_helper()
    rfd, wfd = os.pipe()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                   (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
                   (os.POSIX_SPAWN_DUP2, wfd, 3)]
        try:
            pid = os.posix_spawn(helper, [helper] + list(argv), env, file_actions=actions)
        finally:
            os.close(wfd)
        pfd = os.pidfd_open(pid)
        try:
            ready, _, _ = select.select([pfd], [], [], timeout)
            if not ready:
                signal.pidfd_send_signal(pfd, signal.SIGKILL)
            _, hstatus, _ = os.wait4(pid, 0)
        finally:
            os.close(pfd)
        with os.fdopen(rfd, "rb") as f:
            line = f.read().decode().split()
        out.seek(0)
        err.seek(0)
        o, e = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if not ready:
        return Measured("timeout after %gs" % timeout, timeout, None, o, e)
    if len(line) != 5 or hstatus != 0:
        return Measured("spawn helper failed (wait status %d)" % hstatus, float("nan"), None, o, e)
    wall_ns, ut, st, maxrss, wstatus = (int(x) for x in line)
    if os.WIFEXITED(wstatus):
        status = os.WEXITSTATUS(wstatus)
    else:
        status = "signal %d" % os.WTERMSIG(wstatus)
    return Measured(status, wall_ns / 1e9, _RU(ut / 1e6, st / 1e6, maxrss), o, e)


def restarter(args, timeout=120.0):
    return measure([BIN] + list(args), timeout=timeout)


def raw_call(sim, body, timeout=120.0):
    """Send one control command as kahua-admin does; return (reply, seconds)."""
    t0 = time.perf_counter()
    reply = sim.raw(b'(("x-kahua-worker" "spvr"))\n' + body.encode() + b"\n", timeout=timeout)
    return reply.decode(errors="replace"), time.perf_counter() - t0


def raw_ok(reply):
    return reply.startswith('(("x-kahua-status" "OK"))\n')


# ---------------------------------------------------------------- statistics

def median(xs):
    return statistics.median(xs) if xs else float("nan")


def pct(xs, p):
    """Nearest-rank percentile (p in 0..100) of xs; nan when empty."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = max(1, math.ceil(p / 100.0 * len(s)))
    return s[k - 1]


def ms(secs, digits=1):
    if secs is None or (isinstance(secs, float) and math.isnan(secs)):
        return "-"
    return "%.*f" % (digits, secs * 1000.0)


def s3(secs):
    if secs is None or (isinstance(secs, float) and math.isnan(secs)):
        return "-"
    return "%.3f" % secs


def mib_from_kb(kb):
    return "%.1f" % (kb / 1024.0)


# ---------------------------------------------------------------- output

class Table:
    def __init__(self, headers, align=None):
        self.headers = list(headers)
        self.align = align or ["l"] + ["r"] * (len(headers) - 1)
        self.rows = []

    def add(self, *cells):
        self.rows.append([str(c) for c in cells])

    def markdown(self):
        cols = list(zip(*([self.headers] + self.rows)))
        width = [max(len(c) for c in col) for col in cols]

        def line(cells):
            out = []
            for c, w, a in zip(cells, width, self.align):
                out.append(c.rjust(w) if a == "r" else c.ljust(w))
            return "| " + " | ".join(out) + " |"

        sep = ["-" * (w - 1) + ":" if a == "r" else "-" * w for w, a in zip(width, self.align)]
        return "\n".join([line(self.headers), "| " + " | ".join(sep) + " |"]
                         + [line(r) for r in self.rows])


class Section:
    """A benchmark's result: a title, explanatory paragraphs, tables, notes."""

    def __init__(self, title):
        self.title = title
        self.parts = []
        self.facts = {}   # figures the driver quotes in its summary

    def text(self, s):
        self.parts.append(s.strip())

    def table(self, t):
        self.parts.append(t.markdown())

    def markdown(self):
        return "## %s\n\n%s\n" % (self.title, "\n\n".join(self.parts))


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- machine

def _first(path, prefix):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def machine():
    mem_kb = _first("/proc/meminfo", "MemTotal")
    try:
        mem = "%.1f GiB" % (int(mem_kb.split()[0]) / 1024.0 / 1024.0)
    except (ValueError, IndexError):
        mem = mem_kb
    try:
        rev = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        rev = "unknown"
    try:
        version = subprocess.run([BIN, "--version"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        version = "unknown"
    return [
        ("CPUs (nproc)", str(os.cpu_count())),
        ("CPU model", _first("/proc/cpuinfo", "model name")),
        ("memory", mem),
        ("kernel", "%s %s %s" % (platform.system(), platform.release(), platform.machine())),
        ("python", platform.python_version()),
        ("finished", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
        ("program", "%s (%s), sha256 %s..., source tree %s"
         % (os.path.relpath(SRC_BIN, TOP), version, sha256_12(BIN), rev)),
        ("simulator", "%s, sha256 %s..." % (os.path.relpath(SRC_SIM, TOP), sha256_12(SIM))),
    ] + ([("old program (\"old ...\" rows)", "%s, sha256 %s..." % (SRC_OLD_BIN, sha256_12(OLD_BIN)))]
         if OLD_BIN else [])


def strategy_args(method):
    """"rolling --drain-timeout 0" -> ["--strategy", "rolling", "--drain-timeout", "0"];
    a leading "old" (the KR_OLD_BIN build) is left out."""
    words = method.split()
    if words[0] == "old":
        words = words[1:]
    return ["--strategy", words[0]] + words[1:]


def method_restarter(method, args, timeout=120.0):
    """Run the program a method names: the KR_OLD_BIN build for "old ..."."""
    b = OLD_BIN if method.split()[0] == "old" else BIN
    return measure([b] + strategy_args(method) + list(args), timeout=timeout)


def with_old(methods, old):
    """methods, plus the old ones when KR_OLD_BIN was given."""
    return methods + (old if OLD_BIN else [])
