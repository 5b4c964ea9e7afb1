#!/usr/bin/env python3
"""Run the kahua-restarter benchmarks and write bench/RESULTS.md.

    python3 bench/run.py [--quick] [--out FILE] [--only NAME[,NAME...]]

NAME: status, restart, availability, history, drain, bounded (the history
under its size limit), real and census (on a real Kahua when one is at
hand: KAHUA_PREFIX, else /opt/kahua, /usr/local, /usr).
KR_OLD_BIN names an earlier build measured beside this one ("old ..."
rows).  The full run (what `make
bench` does) writes bench/RESULTS.md; --quick makes fewer runs, skips the
8-worker sites and writes no file unless --out is given.  Figures only: no
thresholds, the exit status is 0 unless a benchmark could not run at all.
KR_BIN and KR_SIM name the program and the simulator (default: the
in-tree builds)."""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402
import bench_avail  # noqa: E402
import bench_bounded  # noqa: E402
import bench_census  # noqa: E402
import bench_drain  # noqa: E402
import bench_history  # noqa: E402
import bench_real  # noqa: E402
import bench_restart  # noqa: E402
import bench_status  # noqa: E402

# Section 7's title as bench_cure.py writes it (its start).
CURE_TITLE = "9. curing without restarts"

BENCHES = [("status", bench_status), ("restart", bench_restart),
           ("availability", bench_avail), ("history", bench_history),
           ("drain", bench_drain), ("real", bench_real), ("bounded", bench_bounded),
           ("census", bench_census)]


def context(found):
    """Lines that put the figures next to real Kahua's recorded ones."""
    real = c.REAL_KAHUA
    lines = []
    r = found.get("restart", {})
    if "raw (restart *)" in r:
        lines.append("- `(restart *)` of 3 workers: real Kahua %.2f s; simulator %.3f s; "
                     "kahua-restarter rolling %s s (%s s with --drain-timeout 0), surge %s s, "
                     "all %s s (medians, probes and HTTP checks included)."
                     % (real["restart_all_3"], r["raw (restart *)"],
                        c.s3(r.get("rolling")), c.s3(r.get("rolling --drain-timeout 0")),
                        c.s3(r.get("surge")), c.s3(r.get("all"))))
    s = found.get("status", {}).get("status3")
    if s:
        lines.append("- Listing the workers: `kahua-admin -S SITE ls` on real Kahua %.2f s "
                     "and %d MB max RSS (gosh start-up included); `kahua-restarter status` "
                     "(3 workers) %s ms and %s MiB max RSS (median wall)."
                     % (real["admin_ls"], real["admin_ls_rss_mb"], c.ms(s[0]),
                        c.mib_from_kb(s[1])))
    lines.append("- The simulator (test/kahua-sim) is a stand-in for Kahua: same control "
                 "protocol and locking (one global lock, restart synchronous), real "
                 "worker processes whose start-up is set to Kahua's measured 0.55 s; "
                 "but its workers are small C processes (1-2 MB, not 47 MB of gosh) that "
                 "spend a fixed 10 ms per page (a sleep, not CPU), so CPU and memory "
                 "contention are lower than on a real site, while idle pages cost more "
                 "than Kahua's (~1 ms on a worker's own socket, ~5 ms over HTTP). Everything here (simulator, load generator, program) "
                 "shares the machine below.")
    return "\n".join(lines)


def merge(path, sections):
    """The file at path with each of these sections replacing the one of
    the same title (or appended), the rest kept as it was; a benchmark
    that was skipped keeps the section the file had."""
    with open(path) as f:
        old = f.read()
    parts = old.split("\n## ")
    for sec in sections:
        if getattr(sec, "skipped", False):
            continue
        new = sec.markdown().rstrip("\n")[3:]      # without the leading "## "
        title = new.split("\n", 1)[0]
        for i, p in enumerate(parts[1:], 1):
            if p.split("\n", 1)[0] == title:
                parts[i] = new + "\n"
                break
        else:
            parts.append(new + "\n")
    return "\n## ".join(parts)


def keep_cure(path, text):
    """text with the curing section (bench_cure.py, `make bench-cure`, half
    an hour: not part of this run) carried over from the file at path."""
    with open(path) as f:
        old = f.read()
    for part in old.split("\n## ")[1:]:
        if part.startswith(CURE_TITLE):
            return text.rstrip("\n") + "\n\n## " + part.rstrip("\n") + "\n"
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short run, no file written by default")
    ap.add_argument("--out", help="write the results here (default bench/RESULTS.md; "
                    "none with --quick)")
    ap.add_argument("--only", help="comma-separated: " + ", ".join(n for n, _ in BENCHES))
    ap.add_argument("--merge", action="store_true",
                    help="replace only the sections run in the existing --out file "
                         "(default bench/RESULTS.md), keeping the others")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    if only and not only <= {n for n, _ in BENCHES}:
        ap.error("unknown benchmark in --only: %s" % args.only)
    out = args.out or (None if args.quick and not args.merge else os.path.join(c.BENCH, "RESULTS.md"))

    for p, copy in ((c.SRC_BIN, c.BIN), (c.SRC_SIM, c.SIM)):
        if not os.access(copy, os.X_OK):
            sys.exit("bench: %s is not built (make all)" % p)
    t0 = time.monotonic()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    load0 = c.loadavg()
    sections, found = [], {}
    for name, mod in BENCHES:
        if only and name not in only:
            continue
        c.log("== %s" % name)
        t = time.monotonic()
        sec = mod.run(quick=args.quick)
        c.log("%s took %.0f s" % (name, time.monotonic() - t))
        sections.append(sec)
        found[name] = sec.facts
        print(sec.markdown(), flush=True)
    took = time.monotonic() - t0

    via = os.environ.get("KR_BENCH_VIA")
    cmd = "python3 bench/" + " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:])
    head = ["# kahua-restarter benchmarks", "",
            "Generated by `%s`%s, started %s, took %.0f s%s. Figures only: nothing "
            "here passes or fails." % (cmd, " (run by `%s`)" % via if via else "", started,
                                       took, "; QUICK run (fewer repetitions)" if args.quick else ""),
            "", "| machine | |", "| --- | --- |"]
    head += ["| %s | %s |" % kv for kv in c.machine()]
    head += ["| load average (1, 5, 15 min) | %s at start, %s at end |" % (load0, c.loadavg())]
    head += ["", "## Context: real Kahua", "", context(found), ""]
    text = "\n".join(head) + "\n" + "\n".join(s.markdown() for s in sections)
    if out and args.merge:
        text = merge(out, sections)
    elif out and os.path.exists(out):
        text = keep_cure(out, text)
    if out:
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, out)
        c.log("wrote %s" % out)
    c.log("done in %.0f s" % took)


if __name__ == "__main__":
    main()
