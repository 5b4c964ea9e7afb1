"""The differential check (differential.py): every scenario that both the
simulator and a real Kahua can play, run on both in step, the program's
JSON reports compared field by field after normalisation.  Any difference
fails with a readable diff naming the scenario and the field."""

import fcntl
import os
import signal

from differential import differences, normalise
from harness import Sim, Site, check, rss, run

# The simulator's version of test/real/site: same types and counts; its
# leaky worker keeps 5 MB per page request like leaky.kahua's GET /leaky/
# and has two entries (/ and ping), each a continuation from the start;
# wiki registers 100 continuations per page like wiki.kahua.
SIM_TYPES = [("hello", [], 2), ("leaky", ["--leak-mb", "5", "--entries", "2"], 1),
             ("wiki", ["--conts-per-view", "100"], 1)]


class Side:
    """One of the two sites, with what a scenario needs from it."""

    def __init__(self, name, root, port, ls, get, call):
        self.name, self.root, self.port, self.ls, self.get = name, root, port, ls, get
        self.call = call

    def leaky_threshold(self):
        """A size between the leaky worker's RSS and the largest other."""
        ws = self.ls()
        leaky = [rss(w["pid"]) for w in ws if w["type"] == "leaky"][0]
        others = max(rss(w["pid"]) for w in ws if w["type"] != "leaky")
        check(leaky > others + (8 << 20), "%s: leaky %d not above the others %d" % (self.name, leaky, others))
        return "%dK" % ((leaky + others) // 2 >> 10)


def grow_leaky(side):
    for _ in range(6):
        code, _ = side.get("/leaky/")
        check(code == 200, "%s: leaky answered %d" % (side.name, code))
    return []


def nth(i):
    return lambda side: [str(side.ls()[i]["wno"])]


def wid(i):
    return lambda side: [side.ls()[i]["wid"]]


def threshold(side):
    return ["--min-rss", side.leaky_threshold()]


def url(path, *more):
    return lambda side: ["--url", "http://127.0.0.1:%d%s" % (side.port, path)] + list(more)


def stop_one_hello(side):
    """SIGSTOP a hello worker: it cannot act on the supervisor's SIGTERM."""
    w = [w for w in side.ls() if w["type"] == "hello"][-1]
    os.kill(w["pid"], signal.SIGSTOP)
    return ["--kill-after", "2", "restart", w["wid"]]


def kill_one_hello(side):
    """Kahua's (kill WNO) removes a worker: the type is one short."""
    wno = [w for w in side.ls() if w["type"] == "hello"][0]["wno"]
    reply = side.call("(kill %d)" % wno)
    check(reply.startswith('(("x-kahua-status" "OK"))'), "%s: kill: %r" % (side.name, reply[:200]))
    return []


# (name, fixed arguments, arguments computed on each side)
SCENARIOS = [
    ("status", ["status"], None),
    ("status --memory pss", ["status", "--memory", "pss"], None),
    ("check", ["check"], None),
    ("check --expect-body", ["check", "--expect-body", "hello"], url("/hello/")),
    ("check a wrong body", ["check", "--expect-body", "no such text", "--retries", "0"],
     url("/hello/")),
    ("check an unknown type", ["check", "--retries", "0"], url("/nosuchtype/")),
    ("check a stale continuation", ["check", "--retries", "0"], url("/hello/nosuchcont")),
    ("dry run", ["-n"], None),
    ("default rolling restart", [], None),
    ("restart *", ["restart", "*"], None),
    ("restart by type", ["restart", "hello"], None),
    ("restart by number", ["restart"], nth(1)),
    ("restart by id", ["restart"], wid(-1)),
    ("surge", ["--strategy", "surge"], None),
    ("min-rss dry run", ["-n"], lambda s: grow_leaky(s) + threshold(s)),
    ("min-rss restart", [], threshold),
    ("no threshold matches", ["--min-rss", "10G", "--max-age", "1d"], None),
    ("max-restarts 1", ["--max-restarts", "1"], None),
    ("short type topped up", ["restart", "leaky"], kill_one_hello),
    ("stopped worker killed", [], stop_one_hello),
    # The HTTP checks so far viewed /wiki/: its worker holds 100 or more.
    ("max-conts", ["--max-conts", "50"], None),
    ("no-eval", ["--no-eval", "restart", "leaky"], None),
    ("memory gate", ["--when-available-below", "1K"], None),
    ("unknown target", ["restart", "nosuchtype"], None),
    ("unknown worker number", ["restart", "999"], None),
    # Last: Kahua's (restart *) takes its workers in hash-table order, so
    # the new workers' numbers come in no fixed order (differential.py
    # compares workers_after by type for this strategy).
    ("all", ["--strategy", "all"], None),
]


def play(side, args, env=None):
    res = run(args + ["--json"], side, env=env)
    try:
        rep = res.json()
    except ValueError:
        rep = {"no JSON report": res.out[-300:], "exit": res.rc, "stderr": res.err[-300:]}
    return normalise(rep, side.root, side.port, res.err) if "site" in rep else rep


def test_reports_agree_with_the_simulator(site, tmp):
    sim_site = Site(tmp, types=SIM_TYPES)
    sim = Sim(sim_site)
    try:
        sides = [Side("simulator", os.path.realpath(sim_site.root), sim.port, sim.ls, sim.get,
                      sim.call),
                 Side("kahua", site.root, site.port, site.ls, site.get, site.call)]
        found = []
        for name, fixed, computed in SCENARIOS:
            reps = [play(s, fixed + (computed(s) if computed else [])) for s in sides]
            diff = differences(*reps)
            print("     %-24s %s" % (name, "same" if not diff else "%d difference(s)" % len(diff)),
                  flush=True)
            found += ["%s: %s" % (name, d) for d in diff]
        # The lock: another run holds it on both sides.
        reps = []
        for s in sides:
            fd = os.open(os.path.join(s.root, "run", "kahua-restarter.lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                # The holder's pid, as a run writes it (the same on both sides).
                os.ftruncate(fd, 0)
                os.write(fd, b"4242\n")
                reps.append(play(s, []))
            finally:
                os.close(fd)
        diff = differences(*reps)
        print("     %-24s %s" % ("lock held", "same" if not diff else "%d difference(s)" % len(diff)))
        found += ["lock held: %s" % d for d in diff]
        check(not found, "the simulator and Kahua disagree:\n  " + "\n  ".join(found))
    finally:
        sim.stop()
