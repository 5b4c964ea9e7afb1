"""The history line's format, versions 2 and 3 (history_fmt.h,
history_keys.h), in Python: the tests read history lines through expand(),
bench/gen_history.py writes them with compact().  Keep it in step with
history_fmt.c and history_keys.c."""

IDENTITY = ("id", "number", "pid", "type", "start_time")
DEFAULTS = {"command": "restart", "strategy": "rolling", "metric": "rss", "probe": "eval",
            "eval": True, "pss_fallback": False, "dry_run": False}
# Version 3 leaves these out too.
DEFAULTS3 = dict(DEFAULTS, outcome="ok", exit_status=0)
WORKER_LISTS = ("workers_before", "workers_after")
# The report's lists, which a line leaves out when empty.
LISTS = ("workers_before", "healed", "restarts", "workers_after", "types", "http_checks")


def tidy(v):
    """What a version 2 line keeps of a report: no nulls, no empty lists."""
    if isinstance(v, dict):
        return {k: tidy(x) for k, x in v.items() if x is not None and x != []}
    if isinstance(v, list):
        return [tidy(x) for x in v]
    if isinstance(v, float) and v == v and v != int(v):
        return float("%.6g" % v)
    return v


def _table(objs):
    cols = []
    for o in objs:
        for k in o:
            if k not in cols:
                cols.append(k)
    const = {}
    if len(objs) > 1:
        for c in cols:
            if c in objs[0] and all(c in o and o[c] == objs[0][c] for o in objs):
                const[c] = objs[0][c]
    cols = [c for c in cols if c not in const]
    rows = []
    for o in objs:
        last = max([i + 1 for i, c in enumerate(cols) if c in o] or [0])
        rows.append([o.get(c) for c in cols[:last]])
    t = {"c": cols, "r": rows}
    if const:
        t["k"] = const
    return t


def compact(report, version=3):
    """A JSON report (dict) as a version 3 (or 2) line's object."""
    run = tidy(report)
    defaults = DEFAULTS3 if version == 3 else DEFAULTS
    if version == 3 and run.get("memory_freed_bytes") == _freed(run.get("restarts", [])):
        del run["memory_freed_bytes"]
    ids, obs = [], []

    def ref(w):
        ident = {k: v for k, v in w.items() if k in IDENTITY}
        if ident not in ids:
            ids.append(ident)
        ob = {"w": ids.index(ident)}
        ob.update({k: v for k, v in w.items() if k not in IDENTITY})
        if ob not in obs:
            obs.append(ob)
        return obs.index(ob)

    if "workers_before" in run:
        run["workers_before"] = [ref(w) for w in run["workers_before"]]
    for s in run.get("restarts", []):
        for end in ("old", "new"):
            if isinstance(s.get(end), dict):
                s[end] = ref(s[end])
    if "workers_after" in run:
        run["workers_after"] = [ref(w) for w in run["workers_after"]]
    out = {"v": 2}
    for k, v in run.items():
        if k in defaults and defaults[k] == v and type(defaults[k]) is type(v):
            continue
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            v = _table(v)
        out[k] = v
    if ids:
        out["w"] = _table(ids)
        out["o"] = _table(obs)
    if version == 3:
        out = _shrink(out)
    return out


def _freed(steps):
    return sum(s["freed_bytes"] for s in steps
               if isinstance(s.get("freed_bytes"), (int, float)) and s["freed_bytes"] > 0)


# Version 3's schema: history_keys.c's HKEYS (report key, line key, kB key).
HKEYS = [
    ("site", "si", None), ("command", "cm", None), ("started", "t", None),
    ("duration_ms", "d", None), ("strategy", "sg", None), ("metric", "me", None),
    ("pss_fallback", "pf", None), ("dry_run", "dr", None), ("probe", "pb", None),
    ("eval", "ev", None), ("host", "h", None), ("workers_before", "b", None),
    ("sweep", "sw", None), ("healed", "he", None), ("restarts", "x", None),
    ("memory_freed_bytes", "mf", "mF"), ("workers_after", "a", None),
    ("types", "y", None), ("http_checks", "hc", None), ("http_skipped", "hs", None),
    ("forecast", "fc", None), ("outcome", "oc", None), ("skip_reason", "sr", None),
    ("exit_status", "es", None), ("error", "e", None),
    ("id", "i", None), ("number", "n", None), ("pid", "p", None), ("type", "ty", None),
    ("state", "st", None), ("why", "wh", None), ("start_time", "ts", "T"),
    ("age_s", "ag", None), ("rss_bytes", "rs", "R"), ("pss_bytes", "ps", "P"),
    ("continuations", "co", None), ("state_sessions", "ss", None),
    ("heap_bytes", "hb", "H"), ("heap_used_bytes", "hu", "U"),
    ("eval_error", "ee", None), ("removed", "rv", None),
    ("old", "od", None), ("new", "nw", None), ("reason", "rn", None),
    ("result", "rt", None), ("killed", "kl", None), ("restart_ms", "rm", None),
    ("probe_ms", "pm", None), ("drain_ms", "dm", None), ("drained", "dd", None),
    ("freed_bytes", "fb", "F"), ("recovered", "rc", None),
    ("url", "u", None), ("ok", "ok", None), ("status", "sc", None), ("ms", "ms", None),
    ("tries", "tr", None), ("running", "ru", None), ("run_by_default", "rd", None),
    ("topped_up", "tu", None),
    ("mem_available_bytes", "ma", "MA"), ("swap_used_bytes", "su", "SU"),
    ("mem_total_bytes", "mt", "MT"), ("psi_some_avg10", "s1", None),
    ("psi_some_avg60", "s2", None), ("psi_some_avg300", "s3", None),
    ("psi_full_avg10", "f1", None), ("psi_full_avg60", "f2", None),
    ("psi_full_avg300", "f3", None),
]
HOST_FIELDS = ["mem_available_bytes", "swap_used_bytes", "mem_total_bytes",
               "psi_some_avg10", "psi_some_avg60", "psi_some_avg300",
               "psi_full_avg10", "psi_full_avg60", "psi_full_avg300"]
HOST_KB = 3
SINCE = ("start_time",)     # alternate unit: seconds since the run started; the others kB
_BY_NAME = {n: (k, kb) for n, k, kb in HKEYS}
_BY_KEY = {}
for _n, _k, _kb in HKEYS:
    _BY_KEY[_k] = (_n, False)
    if _kb:
        _BY_KEY[_kb] = (_n, True)


def _whole_kb(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and abs(x) < 2 ** 53 \
        and x % 1024 == 0


def _kb(x):
    return int(x) // 1024 if x == int(x) else x / 1024


def _num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _fits(name, x, t0):
    if name in SINCE:
        return _num(x) and x == int(x) and abs(x) < 2 ** 53 and t0 is not None
    return _whole_kb(x)


def _to_alt(name, x, t0):
    return x - t0 if name in SINCE else _kb(x)


def _from_alt(name, x, t0):
    if not _num(x):
        return x
    return x + t0 if name in SINCE else x * 1024


def _short(k, v, t0):
    if k not in _BY_NAME:
        return k, v
    key, alt = _BY_NAME[k]
    if alt and _fits(k, v, t0):
        return alt, _to_alt(k, v, t0)
    return key, v


def _shrink_table(t, t0):
    cols, rows = [], [list(r) for r in t["r"]]
    for j, c in enumerate(t["c"]):
        key, alt = _BY_NAME.get(c, (c, None))
        cells = [r[j] for r in rows if j < len(r) and r[j] is not None]
        if alt and all(_fits(c, x, t0) for x in cells):
            key = alt
            for r in rows:
                if j < len(r) and r[j] is not None:
                    r[j] = _to_alt(c, r[j], t0)
        cols.append(key)
    out = {"c": cols, "r": rows}
    if "k" in t:
        out["k"] = dict(_short(k, v, t0) for k, v in t["k"].items())
    return out


def _host_list(h):
    if not all(k in HOST_FIELDS and isinstance(v, (int, float)) and not isinstance(v, bool)
               and (HOST_FIELDS.index(k) >= HOST_KB or _whole_kb(v)) for k, v in h.items()):
        return None
    n = max(HOST_FIELDS.index(k) + 1 for k in h) if h else 0
    return [None if f not in h else _kb(h[f]) if i < HOST_KB else h[f]
            for i, f in enumerate(HOST_FIELDS[:n])]


def _start(line, key):
    t = line.get(key)
    return t if _num(t) and t == int(t) else None


def _shrink(line):
    out = {"v": 3}
    t0 = _start(line, "started")
    for k, v in line.items():
        if k == "v":
            continue
        if k == "host" and isinstance(v, dict):
            lst = _host_list(v)
            v = lst if lst is not None else dict(_short(a, b, t0) for a, b in v.items())
        if _is_table(v):
            v = _shrink_table(v, t0)
        if k in ("w", "o"):
            out[k] = v
        else:
            k2, v2 = _short(k, v, t0)
            out[k2] = v2
    return out


def _is_table(v):
    return isinstance(v, dict) and isinstance(v.get("c"), list) and isinstance(v.get("r"), list)


def _long(k, v, t0):
    if k not in _BY_KEY:
        return k, v
    name, alt = _BY_KEY[k]
    if alt:
        v = _from_alt(name, v, t0)
    return name, v


def _grow(line):
    """A version 3 line's object in version 2's keys and units."""
    out = {"v": 2}
    t0 = _start(line, "t")
    for k, v in line.items():
        if k == "v":
            continue
        if k == "h" and isinstance(v, list):
            v = {HOST_FIELDS[i]: x * 1024 if i < HOST_KB else x
                 for i, x in enumerate(v) if x is not None}
        elif k == "h" and isinstance(v, dict):
            v = dict(_long(a, b, t0) for a, b in v.items())
        if _is_table(v):
            cols, rows = [], [list(r) for r in v["r"]]
            for j, c in enumerate(v["c"]):
                name, alt = _BY_KEY.get(c, (c, False))
                if alt:
                    for r in rows:
                        if j < len(r):
                            r[j] = _from_alt(name, r[j], t0)
                cols.append(name)
            t = {"c": cols, "r": rows}
            if "k" in v:
                t["k"] = dict(_long(a, b, t0) for a, b in v["k"].items())
            v = t
        if k not in ("w", "o"):
            k, v = _long(k, v, t0)
        out[k] = v
    return out


def _untable(t):
    out = []
    for r in t["r"]:
        o = {c: v for c, v in zip(t["c"], r) if v is not None}
        o.update(t.get("k", {}))
        out.append(o)
    return out


def expand(line):
    """A history line's object (either version) in the report's shape: each
    observation a dict of its own, as in version 1, the report's lists
    present, empty or not; nulls stay left out (see tidy)."""
    if "v" not in line:
        return line
    if line["v"] not in (2, 3):
        raise ValueError("history line of version %r" % line["v"])
    version = line["v"]
    if version == 3:
        line = _grow(line)
    obs = []
    if "w" in line:
        ids = _untable(line["w"])
        for o in _untable(line["o"]):
            w = dict(ids[o.pop("w")])
            w.update(o)
            obs.append(w)
    run = {}
    for k, v in line.items():
        if k in ("v", "w", "o"):
            continue
        if k in WORKER_LISTS:
            v = [dict(obs[i]) for i in v]
        elif isinstance(v, dict) and "c" in v and "r" in v:
            v = _untable(v)
            if k == "restarts":
                for s in v:
                    for end in ("old", "new"):
                        if end in s:
                            s[end] = dict(obs[s[end]])
        run[k] = v
    for k, v in (DEFAULTS3 if version == 3 else DEFAULTS).items():
        run.setdefault(k, v)
    for k in LISTS:
        run.setdefault(k, [])
    if version == 3:
        run.setdefault("memory_freed_bytes", _freed(run["restarts"]))
    return run
