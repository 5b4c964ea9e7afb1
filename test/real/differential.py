"""The differential check: play the same scenarios on the simulator
(test/kahua-sim) and on real Kahua and compare the program's JSON reports
field by field once what must differ is normalised: worker ids, pids and
numbers become W1, P1, N1... in order of appearance, times, sizes and
state-session counts become "T", "S" and "C" (null stays null: known
versus unknown is compared),
the site path and the port become SITE and PORT.  What the run printed
on stderr is compared too, normalised the same way.  Whatever still differs
is a simulator bug or a missing recording."""

import re

TIME_KEYS = {"started", "duration_ms", "restart_ms", "probe_ms", "drain_ms", "ms", "start_time", "age_s",
             "seconds", "since_s"}
SIZE_KEYS = {"rss_bytes", "pss_bytes", "freed_bytes", "memory_freed_bytes", "heap_bytes",
             "mem_available_bytes", "swap_used_bytes", "mem_total_bytes", "floor_bytes",
             "growth_bytes_per_hour",
             # heap in use (status, census) and around a sweep: sizes as well
             "heap_used_bytes", "heap_used_before", "heap_used_after"}
# The host's memory pressure moves between the two plays: known or not is compared.
SIZE_KEYS |= {"psi_%s_avg%d" % (k, w) for k in ("some", "full") for w in (10, 60, 300)}
ID_KEYS = {"id": "W", "pid": "P", "number": "N"}
# State sessions count every page a worker ever served, the suite's own
# readiness checks on the Kahua side included: compared as known or not.
COUNT_KEYS = {"state_sessions"}
# Numbers inside a threshold reason ("rss 52.1M >= 30M", "age 3s >= 2s").
NUMBER = re.compile(r"\d+(\.\d+)?")
MEASURE = re.compile(r"\d+(\.\d+)?(?= ?(ms|s|m|h|d|K|M|G|B|KiB|MiB|GiB|MB|bytes)\b)")
WNO_RANGE = re.compile(r"(worker numbers?) (\d+(?:-\d+)?)")


class Normaliser:
    def __init__(self, site_root, port):
        self.site_root, self.port = site_root, port
        self.maps = {k: {} for k in ID_KEYS}

    def placeholder(self, kind, value):
        m = self.maps[kind]
        if value not in m:
            m[value] = "%s%d" % (ID_KEYS[kind], len(m) + 1)
        return m[value]

    def text(self, s):
        s = s.replace(self.site_root, "SITE")
        if self.port:
            s = s.replace("127.0.0.1:%d" % self.port, "127.0.0.1:PORT")
        # "worker numbers 21-25" in a usage error names the live range.
        s = WNO_RANGE.sub(lambda m: " ".join(
            [m.group(1)] + ["-".join(self.maps["number"].get(int(x), x) for x in m.group(2).split("-"))]), s)
        for kind in ("id", "pid"):
            # Longest first, so that pid 123 does not eat part of 1234.
            for v in sorted(self.maps[kind], key=lambda x: -len(str(x))):
                s = re.sub(r"(?<![\w:])%s(?![\w:])" % re.escape(str(v)), self.maps[kind][v], s)
        return s

    def value(self, key, v):
        if isinstance(v, dict):
            return {k: self.value(k, x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(key, x) for x in v]
        if v is None or isinstance(v, bool):
            return v
        if key in ID_KEYS:
            return self.placeholder(key, v)
        if key in TIME_KEYS:
            return "T"
        if key in SIZE_KEYS:
            return "S"
        if key in COUNT_KEYS:
            return "C"
        if key == "reason" and isinstance(v, str):
            return NUMBER.sub("#", v)
        if isinstance(v, str):
            return self.text(v)
        return v


def normalise(report, site_root, port, stderr=None):
    if report.get("strategy") == "all" and report.get("command") == "restart":
        # Kahua's (restart *) goes through its workers in hash-table order
        # (kahua-spvr.scm, restart-workers), so the replacements' numbers,
        # and with them the order of ls and of the types checked after it,
        # are not fixed: compare by type.
        report = dict(report, workers_after=sorted(report["workers_after"],
                                                   key=lambda w: (w["type"], w["number"])),
                      http_checks=sorted(report["http_checks"], key=lambda h: h["url"]))
    n = Normaliser(site_root, port)
    # Ids and pids first (document order), so strings can name them.
    n.value(None, {k: report[k] for k in ("workers_before", "restarts", "workers_after")
                   if k in report})
    out = n.value(None, report)
    if stderr is not None:
        # What the run said (the error line, warnings), with its measures
        # ("in 371 ms", "52.1M", "age 3s") blanked like the report's.
        out["stderr"] = [MEASURE.sub("#", n.text(l)) for l in stderr.splitlines() if l.strip()]
    return out


def differences(a, b, path=""):
    """Readable lines for every place where a (simulator) and b (Kahua) differ."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            p = "%s.%s" % (path, k) if path else k
            if k not in a:
                out.append("%s: missing on the simulator; Kahua %s" % (p, short(b[k])))
            elif k not in b:
                out.append("%s: simulator %s; missing on Kahua" % (p, short(a[k])))
            else:
                out += differences(a[k], b[k], p)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append("%s: simulator has %d entries, Kahua %d:\n    simulator %s\n    Kahua     %s"
                       % (path, len(a), len(b), short(a), short(b)))
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                out += differences(x, y, "%s[%d]" % (path, i))
    elif a != b:
        out.append("%s: simulator %s, Kahua %s" % (path, short(a), short(b)))
    return out


def short(v, limit=300):
    import json
    s = json.dumps(v, sort_keys=False)
    return s if len(s) <= limit else s[:limit] + "..."
