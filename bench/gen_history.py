#!/usr/bin/env python3
"""Write a kahua-restarter history file with known memory growth.

    gen_history.py OUT --hours N [--start EPOCH] [--types hello:2:20,leaky:1:48]
                   [--failures K] [--skips K] [--host MB] [--seed S]

One line per hour, in the shape report_to_json() writes: command
"restart", metric "rss", every worker restarted each hour.  A worker of a
type with rate R MB/hour has rss_bytes = 47 MB + R MB * age_s / 3600 (plus
up to 64 KiB of seeded noise), so a summary should find growth R and a
mean memory at restart of about 47 + R MB.

--failures K fails K restarts, spread evenly over the hours, always of the
last type listed; a failed restart ends that run's rollout (exit status 1).

A type may name a fourth figure, continuations per hour
(hello:2:20:300): its workers then carry "continuations" = that rate *
age_s / 3600; the others carry "continuations": null.  Without any such
figure the field is left out, as in lines written before it existed.
--skips K marks K runs, spread evenly, as held back by a memory gate
(outcome "skipped": workers observed, nothing restarted).  --host MB adds
"host" to every line: MemAvailable is MB less 400 MB less the workers' RSS
(floored at 64 MB), swap in use grows by what the workers would take below
that floor.

--every MIN runs every MIN minutes instead of every hour (--failures and
--skips then count runs).  --gate MB (with --host) plays
--when-available-below: a run restarts only when MemAvailable is below
MB, otherwise it is held back and its line is what the program writes
then (no workers, outcome "skipped", skip_reason).  --format 3 or 2 writes
the compact lines of history_fmt.h (test/integration/histfmt.py), 1 the
report as it is (as cJSON prints it: whole numbers without ".0").  Byte
counts are whole kB, as /proc gives them.

The output is the same for the same arguments.
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test",
                                "integration"))
import histfmt  # noqa: E402

MB = 1024 * 1024
BASE = 47 * MB
NOISE = 64 * 1024
START = 1764187200  # 2025-11-26 20:00 UTC
SITE = "/srv/kahua/site"


def parse_types(text):
    types = []
    for item in text.split(","):
        fields = item.split(":")
        name, workers, rate = fields[:3]
        conts = float(fields[3]) if len(fields) > 3 else None
        types.append((name, int(workers), float(rate), conts))
    return types


class World:
    def __init__(self, types, start, rng):
        self.rng = rng
        self.rate = {name: rate for name, _, rate, _ in types}
        self.conts = {name: conts for name, _, _, conts in types}
        self.with_conts = any(c is not None for c in self.conts.values())
        self.serial = 0
        self.workers = []
        for name, count, _, _ in types:
            for _ in range(count):
                self.workers.append(self.spawn(name, start - 3600))

    def spawn(self, wtype, when):
        self.serial += 1
        return {"id": "%s:w%05d" % (wtype, self.serial), "number": self.serial,
                "pid": 1000 + self.serial, "type": wtype, "start_time": when}

    def observe(self, w, now):
        age = now - w["start_time"]
        rss = BASE + round(self.rate[w["type"]] * MB * age / 3600)
        rss += self.rng.randint(-NOISE, NOISE)
        rss = rss // 1024 * 1024    # /proc's unit
        seen = dict(w, age_s=age, rss_bytes=rss, pss_bytes=int(rss * 0.6) // 1024 * 1024)
        if self.with_conts:
            rate = self.conts[w["type"]]
            seen["continuations"] = None if rate is None else int(rate * age / 3600)
        return seen

    def host(self, now, total_mb):
        used = sum(self.observe(w, now)["rss_bytes"] for w in self.workers)
        free = (total_mb * MB - 400 * MB - used) // 1024 * 1024
        return {"mem_available_bytes": max(free, 64 * MB),
                "swap_used_bytes": max(0, 64 * MB - free)}


def skipped_line(world, started, host_mb):
    """A run a memory gate held back: workers seen, nothing restarted."""
    seen = [world.observe(w, started) for w in world.workers]
    line = base_line(world, started, seen, [], seen, [], None)
    line["outcome"] = "skipped"
    line["duration_ms"] = 40.0
    if host_mb:
        line["host"] = world.host(started, host_mb)
    return line


def gated_line(world, started, host_mb, gate_mb):
    """A run --when-available-below held back: the program lists no worker then."""
    host = world.host(started, host_mb)
    line = base_line(world, started, [], [], [], [], None)
    line["types"] = []
    line["outcome"] = "skipped"
    line["duration_ms"] = 2.0
    line["host"] = host
    line["skip_reason"] = "MemAvailable %dM is not below %dM" % (
        host["mem_available_bytes"] // MB, gate_mb)
    return line


def base_line(world, started, before, restarts, after, checks, error):
    names = list(dict.fromkeys(w["type"] for w in world.workers))
    types = [{"type": t, "running": sum(w["type"] == t for w in world.workers),
              "run_by_default": sum(w["type"] == t for w in world.workers),
              "topped_up": False} for t in names]
    return {
        "site": SITE, "command": "restart", "started": started,
        "duration_ms": 0.0, "strategy": "rolling", "metric": "rss",
        "pss_fallback": False, "dry_run": False, "workers_before": before,
        "restarts": restarts,
        "memory_freed_bytes": sum(s["freed_bytes"] or 0 for s in restarts),
        "workers_after": after, "types": types, "http_checks": checks,
        "http_skipped": None, "outcome": "unhealthy" if error else "ok",
        "exit_status": 1 if error else 0, "error": error,
    }


def run_line(world, started, fail_hour, host_mb):
    """One restart run at `started`; fail_hour: fail the last type's first restart."""
    now = started
    host = world.host(now, host_mb) if host_mb else None
    before = [world.observe(w, now) for w in world.workers]
    restarts, error, failed_type = [], None, world.workers[-1]["type"]
    for i, w in enumerate(list(world.workers)):
        now += world.rng.randint(1, 3)
        old = world.observe(w, now)
        new = world.spawn(w["type"], now)
        world.workers[i] = new
        now += 1
        fresh = world.observe(new, now)
        fail = fail_hour and w["type"] == failed_type
        step = {"old": old, "new": fresh, "reason": "all",
                "result": "failed" if fail else "ok", "killed": False,
                "restart_ms": 900.0, "probe_ms": 12.0,
                "freed_bytes": None if fail else old["rss_bytes"] - fresh["rss_bytes"],
                "error": None}
        if fail:
            error = "worker %s (%s): probe failed: status 500" % (new["id"], new["type"])
            step["error"] = error
        restarts.append(step)
        if fail:
            break  # the rollout stops; the rest keep running
    after = [world.observe(w, now) for w in world.workers]
    names = list(dict.fromkeys(w["type"] for w in world.workers))
    checks = [] if error else [
        {"url": "http://127.0.0.1:8080/%s/" % t, "ok": True, "status": 200, "ms": 8.0,
         "tries": 1, "error": None} for t in names]
    line = base_line(world, started, before, restarts, after, checks, error)
    line["duration_ms"] = (now - started) * 1000.0
    if host:
        line["host"] = host
    return line


def whole(v):
    """v with its whole floats as integers, as cJSON prints them."""
    if isinstance(v, dict):
        return {k: whole(x) for k, x in v.items()}
    if isinstance(v, list):
        return [whole(x) for x in v]
    if isinstance(v, float) and v == v and v == int(v):
        return int(v)
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--hours", type=int, required=True)
    ap.add_argument("--every", type=int, default=60, metavar="MIN")
    ap.add_argument("--start", type=int, default=START)
    ap.add_argument("--types", type=parse_types, default=parse_types("hello:2:20,leaky:1:48"))
    ap.add_argument("--failures", type=int, default=0)
    ap.add_argument("--skips", type=int, default=0)
    ap.add_argument("--host", type=int, default=0, metavar="MB")
    ap.add_argument("--gate", type=int, default=0, metavar="MB")
    ap.add_argument("--format", type=int, default=1, choices=(1, 2, 3))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    runs = args.hours * 60 // args.every
    if not 0 <= args.failures + args.skips <= runs:
        ap.error("--failures and --skips must add up to between 0 and the number of runs")
    if args.gate and not args.host:
        ap.error("--gate needs --host")

    rng = random.Random(args.seed)
    world = World(args.types, args.start, rng)
    fail_runs = {(k + 1) * runs // (args.failures + 1) for k in range(args.failures)}
    skip_runs = {(2 * k + 1) * runs // (2 * args.skips) for k in range(args.skips)}
    skip_runs -= fail_runs
    splay = min(299, args.every * 60 - 1)
    with open(args.out, "w") as out:
        for h in range(runs):
            started = args.start + h * args.every * 60 + rng.randint(0, splay)  # cron splay
            if h in skip_runs:
                line = skipped_line(world, started, args.host)
            elif (args.gate and h not in fail_runs and
                  world.host(started, args.host)["mem_available_bytes"] >= args.gate * MB):
                line = gated_line(world, started, args.host, args.gate)
            else:
                line = run_line(world, started, h in fail_runs, args.host)
            line = whole(line)
            if args.format > 1:
                line = histfmt.compact(line, args.format)
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
