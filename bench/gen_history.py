#!/usr/bin/env python3
"""Write a kahua-restarter history file with known memory growth.

    gen_history.py OUT --hours N [--start EPOCH] [--types hello:2:20,leaky:1:48,wiki:1:5:1000]
                   [--failures K] [--seed S]

One line per hour, in the shape report_to_json() writes: command
"restart", metric "rss", every worker restarted each hour.  A worker of a
type with rate R MB/hour has rss_bytes = 47 MB + R MB * age_s / 3600 (plus
up to 64 KiB of seeded noise), so a summary should find growth R and a
mean memory at restart of about 47 + R MB.  An optional fourth figure C
per type is continuations per hour: continuations = 1 + C * age_s / 3600,
so a summary should find C continuations per hour.  Each line records the
host's memory: MemAvailable falls as the workers grow, no swap is used.

--failures K fails K restarts, spread evenly over the hours, always of the
last type listed; a failed restart ends that run's rollout (exit status 1).
The output is the same for the same arguments.
"""
import argparse
import json
import random

MB = 1024 * 1024
BASE = 47 * MB
NOISE = 64 * 1024
START = 1764187200  # 2025-11-26 20:00 UTC
SITE = "/srv/kahua/site"


def parse_types(text):
    types = []
    for item in text.split(","):
        name, workers, rate, *conts = item.split(":")
        types.append((name, int(workers), float(rate), float(conts[0]) if conts else 0.0))
    return types


class World:
    def __init__(self, types, start, rng):
        self.rng = rng
        self.rate = {name: rate for name, _, rate, _ in types}
        self.conts = {name: conts for name, _, _, conts in types}
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
        conts = 1 + round(self.conts[w["type"]] * age / 3600)
        return dict(w, age_s=age, rss_bytes=rss, pss_bytes=int(rss * 0.6), continuations=conts,
                    state_sessions=1 + conts // 100, heap_bytes=rss // 2, eval_error=None)

    def host(self, now):
        """MemAvailable of a 4 GB host, less what the workers grew."""
        grown = sum(self.rate[w["type"]] * MB * (now - w["start_time"]) / 3600 for w in self.workers)
        return {"mem_available_bytes": int(3 * 1024 * MB - grown), "swap_used_bytes": 0}


def run_line(world, started, fail_hour):
    """One restart run at `started`; fail_hour: fail the last type's first restart."""
    now = started
    host = world.host(now)
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
    types = [{"type": t, "running": sum(w["type"] == t for w in world.workers),
              "run_by_default": sum(w["type"] == t for w in world.workers),
              "topped_up": False} for t in names]
    checks = [] if error else [
        {"url": "http://127.0.0.1:8080/%s/" % t, "ok": True, "status": 200, "ms": 8.0,
         "tries": 1, "error": None} for t in names]
    return {
        "site": SITE, "command": "restart", "started": started,
        "duration_ms": (now - started) * 1000.0, "strategy": "rolling", "metric": "rss",
        "pss_fallback": False, "dry_run": False, "probe": "eval", "eval": True, "host": host,
        "workers_before": before,
        "restarts": restarts,
        "memory_freed_bytes": sum(s["freed_bytes"] or 0 for s in restarts),
        "workers_after": after, "types": types, "http_checks": checks,
        "http_skipped": None, "outcome": "unhealthy" if error else "ok",
        "skip_reason": None, "exit_status": 1 if error else 0, "error": error,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--hours", type=int, required=True)
    ap.add_argument("--start", type=int, default=START)
    ap.add_argument("--types", type=parse_types, default=parse_types("hello:2:20,leaky:1:48"))
    ap.add_argument("--failures", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not 0 <= args.failures <= args.hours:
        ap.error("--failures must be between 0 and --hours")

    rng = random.Random(args.seed)
    world = World(args.types, args.start, rng)
    fail_hours = {(k + 1) * args.hours // (args.failures + 1) for k in range(args.failures)}
    with open(args.out, "w") as out:
        for h in range(args.hours):
            started = args.start + h * 3600 + rng.randint(0, 299)  # cron splay
            line = run_line(world, started, h in fail_hours)
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
