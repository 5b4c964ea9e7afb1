#!/usr/bin/env python3
"""Benchmark 7: the bounded history.  A year of 5-minute runs gated by
--when-available-below on a 5-worker site (105,120 lines from
bench/gen_history.py), in the old format and the compact ones (versions
2 and 3), the current one appended line by line through the program's
own history store under the default --history-max-size
(bench/hist_replay), then summarised and charted; and the line sizes of
real runs on the simulator and a real Kahua (bench_linesize.py)."""

import json
import os
import shutil
import subprocess
import sys

import bench_linesize
import common as c

sys.path.insert(0, os.path.join(c.TOP, "test", "integration"))
import histfmt  # noqa: E402

HOURS = 8760
EVERY = 5
TYPES = "hello:2:20:150,leaky:1:48:900,wiki:2:5:40"    # 3 types, 5 workers
GEN = ["--hours", str(HOURS), "--every", str(EVERY), "--types", TYPES, "--host", "4000",
       "--gate", "3000", "--failures", "12"]
LIMIT = 3 << 20                                       # --history-max-size's default
SLOTS = 512                                           # the chart's (chart_data.h)
REPLAY = os.environ.get("KR_HIST_REPLAY", os.path.join(c.BENCH, "hist_replay"))


def mib(n):
    return "%.1f" % (n / 1048576.0)


def kinds(path):
    """Lines and median bytes of restart lines and of gated lines."""
    sizes = {"restart": [], "gated": []}
    with open(path, "rb") as f:
        for raw in f:
            run = histfmt.expand(json.loads(raw))
            sizes["gated" if run.get("outcome") == "skipped" else "restart"].append(len(raw))
    return {k: (len(v), c.median(v)) for k, v in sizes.items()}


def peaks(path, first, last):
    """Per type and slot, the largest worker before and the smallest after a
    run (RSS), over first..last in SLOTS slots: the chart's saw-tooth."""
    out = {}
    width = (last - first) / SLOTS
    with open(path, "rb") as f:
        for raw in f:
            run = histfmt.expand(json.loads(raw))
            s = min(SLOTS - 1, int((run["started"] - first) / width))
            for key, pick in (("workers_before", max), ("workers_after", min)):
                for w in run.get(key, []):
                    k = (w["type"], key, s)
                    out[k] = pick(out.get(k, w["rss_bytes"]), w["rss_bytes"])
    return out


def compare(full, thin):
    """Slots of the full history the thinned one lacks, and how far the
    thinned figures fall from the full ones where both have one."""
    missing = [k for k in full if k not in thin]
    diffs = [abs(thin[k] - full[k]) / full[k] for k in full if k in thin]
    return len(full), len(missing), c.median(diffs), max(diffs, default=0.0)


def timed(args, runs):
    c.restarter(args)
    res = [c.restarter(args, timeout=300) for _ in range(runs)]
    good = [r for r in res if r.ok]
    walls = [r.wall for r in good]
    return (min(walls, default=float("nan")), c.median(walls), max(walls, default=float("nan")),
            c.median([r.cpu for r in good]), len(res) - len(good))


def replay(src, dst):
    out = subprocess.run([REPLAY, src, dst, str(LIMIT)], check=True, capture_output=True,
                         text=True).stdout.split()
    return dict(zip(out[::2], (float(x) for x in out[1::2])))


def png(svg):
    if shutil.which("rsvg-convert") is None:
        return None
    out = svg[:-4] + ".png"
    subprocess.run(["rsvg-convert", "-o", out, svg], check=True)
    return out


def run(quick=False):
    runs = 3 if quick else 11
    sec = c.Section("7. bounded history")
    d = c.harness.tempdir()
    try:
        old, v2, new, kept = (os.path.join(d, n) for n in ("v1.jsonl", "v2.jsonl", "v3.jsonl",
                                                            "kept.jsonl"))
        gen = [sys.executable, os.path.join(c.BENCH, "gen_history.py")]
        c.log("bounded: generating a year of 5-minute runs, three times")
        subprocess.run(gen + [old] + GEN, check=True)
        subprocess.run(gen + [v2] + GEN + ["--format", "2"], check=True)
        subprocess.run(gen + [new] + GEN + ["--format", "3"], check=True)
        k1, k2, k3 = kinds(old), kinds(v2), kinds(new)
        sec.text("A year of runs every %d minutes with `--when-available-below 3000M` on a "
                 "site of 3 types and 5 workers leaking 20, 48 and 5 MB/hour (`bench/"
                 "gen_history.py FILE %s`): %d runs, %d of them restarting (12 failed), "
                 "%d held back by the gate. Byte counts are whole kB, as /proc gives them. "
                 "The same runs in the old format (the report as it is, as cJSON prints "
                 "it) and in the compact ones:"
                 % (EVERY, " ".join(GEN), k1["restart"][0] + k1["gated"][0],
                    k1["restart"][0], k1["gated"][0]))
        t = c.Table(["format", "file MiB", "restart line, median bytes", "of version 1",
                     "gated line, median bytes", "of version 1"])
        for name, path, k in (("old (version 1)", old, k1), ("compact (version 2)", v2, k2),
                              ("short keys (version 3)", new, k3)):
            t.add(name, mib(os.path.getsize(path)), "%.0f" % k["restart"][1],
                  "%.2f" % (k["restart"][1] / k1["restart"][1]), "%.0f" % k["gated"][1],
                  "%.2f" % (k["gated"][1] / k1["gated"][1]))
        sec.table(t)
        lt, note = bench_linesize.measure(3 if quick else 5)
        sec.text("Real runs, %d of each kind (median bytes): the JSON report of each "
                 "(`--json`, printed compactly: what a version 1 line held), the version 2 "
                 "line test/integration/histfmt.py makes of it, and the line the run "
                 "appended; the last column counts the lines that read back as their "
                 "report. The simulator's site has 3 types and 5 workers, the real "
                 "Kahua's (test/real/site) 3 types and 4; before each run a page of every "
                 "type is fetched (the leaky type grows, the wiki registers continuations); "
                 "a gated run is held back by `--when-available-below 1K`.%s"
                 % (3 if quick else 5, (" " + note + ".") if note else ""))
        sec.table(lt)
        c.log("bounded: appending %d lines through the store" % (k2["restart"][0] + k2["gated"][0]))
        r = replay(new, kept)
        sec.text("Appended one line at a time through the program's history store "
                 "(`bench/hist_replay`, the code a run uses) with the default "
                 "`--history-max-size 3M`: the file never passed %s MiB (limit %s MiB) and "
                 "ends at %s MiB and %d lines; it was thinned %d times; the %d appends took "
                 "%.1f s in all, the slowest (a thinning) %.0f ms."
                 % (mib(r["biggest"]), mib(LIMIT), mib(r["size"]),
                    sum(1 for _ in open(kept, "rb")), r["thinnings"], r["lines"],
                    r["seconds"], r["slowest"] * 1000))
        # The first run after an upgrade thins an old-format year in one go.
        upgrade = os.path.join(d, "upgrade.jsonl")
        shutil.copy(old, upgrade)
        one = os.path.join(d, "one.jsonl")
        with open(new, "rb") as f, open(one, "wb") as o:
            o.write(f.readline())
        u = replay(one, upgrade)
        sec.text("The first run after an upgrade, on the old-format year (%s MiB): one "
                 "append thins and rewrites it to %s MiB in %.2f s."
                 % (mib(os.path.getsize(old)), mib(u["size"]), u["seconds"]))
        # history at the file's largest: the newest lines up to the limit.
        full = os.path.join(d, "full.jsonl")
        with open(new, "rb") as f:
            lines = f.readlines()
        size, tail = 0, []
        for raw in reversed(lines):
            if size + len(raw) > LIMIT:
                break
            size += len(raw)
            tail.append(raw)
        with open(full, "wb") as o:
            o.writelines(reversed(tail))
        t = c.Table(["`history` on", "MiB", "lines", "wall min ms", "wall median ms",
                     "wall max ms", "CPU median ms", "failed"])
        for name, path, n in (("the kept year", kept, runs), ("3 MiB of the newest lines", full, runs),
                              ("the unbounded version 3 year", new, 3),
                              ("the old-format year", old, 3)):
            lo, med, mx, cpu, bad = timed(["history", "--history", path], n)
            t.add(name, mib(os.path.getsize(path)), sum(1 for _ in open(path, "rb")),
                  c.ms(lo, 0), c.ms(med, 0), c.ms(mx, 0), c.ms(cpu, 0), bad)
        sec.text("`kahua-restarter history --history FILE`, %d runs each (3 for the "
                 "unbounded files) after one warm-up (page cache warm); load average "
                 "at the start %s (on a loaded machine the wall times measure the "
                 "queue for a CPU; the CPU column is the work):" % (runs, c.loadavg()))
        sec.table(t)
        first = min(histfmt.expand(json.loads(lines[0]))["started"],
                    histfmt.expand(json.loads(lines[-1]))["started"])
        last = histfmt.expand(json.loads(lines[-1]))["started"]
        n, missing, med, mx = compare(peaks(new, first, last), peaks(kept, first, last))
        sec.text("The year chart's shape: per type, the largest worker before and the "
                 "smallest after the runs of each of its %d slots (the saw-tooth `history "
                 "--svg` draws), from the unbounded and the kept file: of %d figures the "
                 "kept file lacks %d; where both have one, they differ by %.1f%% (median), "
                 "%.1f%% at most." % (SLOTS, n, missing, med * 100, mx * 100))
        charts = []
        for name, path in (("full", new), ("kept", kept)):
            svg = os.path.join(d, name + ".svg")
            c.restarter(["history", "--history", path, "--svg", svg], timeout=300)
            charts.append(png(svg))
        if all(charts) and os.environ.get("KR_BENCH_KEEP_CHARTS"):
            for p in charts:
                shutil.copy(p, os.environ["KR_BENCH_KEEP_CHARTS"])
    finally:
        c.harness.rmtree(d)
    return sec


if __name__ == "__main__":
    print(run("--quick" in sys.argv).markdown())
