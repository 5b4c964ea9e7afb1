"""The history line's format, version 2 (history_fmt.h), in Python: the
tests read history lines through expand(), bench/gen_history.py writes
them with compact().  Keep it in step with history_fmt.c."""

IDENTITY = ("id", "number", "pid", "type", "start_time")
DEFAULTS = {"command": "restart", "strategy": "rolling", "metric": "rss", "probe": "eval",
            "eval": True, "pss_fallback": False, "dry_run": False}
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


def compact(report):
    """A JSON report (dict) as a version 2 line's object."""
    run = tidy(report)
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
        if k in DEFAULTS and DEFAULTS[k] == v and type(DEFAULTS[k]) is type(v):
            continue
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            v = _table(v)
        out[k] = v
    if ids:
        out["w"] = _table(ids)
        out["o"] = _table(obs)
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
    if line["v"] != 2:
        raise ValueError("history line of version %r" % line["v"])
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
    for k, v in DEFAULTS.items():
        run.setdefault(k, v)
    for k in LISTS:
        run.setdefault(k, [])
    return run
