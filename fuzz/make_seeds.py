#!/usr/bin/env python3
"""Regenerate the seed corpora in fuzz/corpus/<target>/ from the project's
own data: the recorded control-socket and eval exchanges, the demo site bundle, a
few JSON configs and history lines from bench/gen_history.py.

    python3 fuzz/make_seeds.py      (from the top of the tree)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(TOP, "fuzz", "corpus")

KAHUA_CONFS = [
    '(make <kahua-config>)\n',
    ';; every setting\n(make <kahua-config>\n :sockbase "unix:/srv/kahua/site/socket"\n'
    ' :working-directory "/srv/kahua/site"\n :run-directory "run"\n'
    ' :log-directory "/var/log/kahua"\n :auto-restart #t)\n',
    '(make <kahua-config> :sockbase "sock" :auto-restart #f) ; trailing comment\n',
    '(make <kahua-config> :sockbase "unix:" :run-directory "" :timeout-mins 60'
    ' :ping-timeout-sec 120 #;(ignored) :static-document-url "/static")\n',
]

APP_SERVERS = [
    ';; -*-scheme-*-\n(;;(<type> :arguments (<arg> ...) :run-by-default <num> ...)\n'
    ' (hello :arguments () :run-by-default 2)\n (leaky :arguments () :run-by-default 1)\n )\n',
    '((wiki :arguments ("--max-sessions" "100") :run-by-default 3 :profile "/tmp/p")'
    ' (admin :arguments ()) (batch :run-by-default 0))\n',
    '()\n',
]

CONFIGS = [
    {},
    {"strategy": "surge", "timeout": "5m", "ctl-timeout": 10, "kill-after": "30s",
     "url": ["http://127.0.0.1:8080/hello/", "http://127.0.0.1:8080/leaky/"],
     "expect-status": [200, 204], "expect-body": "Hello", "retries": 3},
    {"min-rss": "512M", "max-age": "6h", "memory": "pss", "max-restarts": 2,
     "no-top-up": True, "dry-run": False, "verbose": True, "json": True},
    {"history": "/var/log/kahua/kahua-restarter.jsonl", "prom": "/var/lib/node/kahua.prom",
     "syslog": True, "facility": "local3", "splay": "90", "wait-lock": "1m",
     "expect-status": "200,302", "follow-redirects": True, "url": "http://localhost/",
     "http-timeout": 2.5, "retry-delay": "250ms", "worker-timeout": "1d", "since": "7d"},
]


def clean(target):
    d = os.path.join(CORPUS, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def write(d, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def socket_seeds():
    with open(os.path.join(TOP, "test", "vectors", "control-socket.json")) as f:
        vectors = json.load(f)
    sexp, reply = clean("sexp"), clean("reply")
    for i, v in enumerate(vectors):
        name = "%02d-%s" % (i, slug(v["case"]))
        if v.get("received"):
            write(sexp, "received-" + name, v["received"])
            write(reply, "received-" + name, v["received"])
        if v.get("sent"):
            write(sexp, "sent-" + name, v["sent"])


def eval_seeds():
    """Every recorded eval reply of a real Kahua, and a few shapes around them."""
    d = clean("eval")
    replies = []
    for name in ("failure-modes.json", "eval-combined.json", "control-socket.json"):
        with open(os.path.join(TOP, "test", "vectors", name)) as f:
            replies += [(v["case"], v["received"]) for v in json.load(f)
                        if "eval" in v["case"] and v.get("received")]
    for i, (case, received) in enumerate(replies):
        write(d, "received-%02d-%s" % (i, slug(case)), received)
    write(d, "several-values", '(("x-kahua-status" "OK"))\n("" "" "(3 4)" "junk")\n')
    write(d, "bad-heap", '(("x-kahua-status" "OK"))\n("" "" "(5 6 ((:total-heap-size big)))")\n')
    write(d, "error-control-chars", '(("x-kahua-status" "ERROR"))\n"*** \\x1b;[2J\\nStack"\n')


def census_seeds():
    """Every recorded census and sweep reply of a real Kahua, and a few shapes around them."""
    d = clean("census")
    with open(os.path.join(TOP, "test", "vectors", "census-sweep.json")) as f:
        for i, v in enumerate(json.load(f)):
            write(d, "received-%02d-%s" % (i, slug(v["case"])), v["received"])
    ok = '(("x-kahua-status" "OK"))\n("" "" "%s")\n'
    write(d, "no-session-ages", ok % "(census 1 2 3 4 (1 0 0 0 0 1) (7) (10 1) 1 ((1 #t \\\"e\\\")))")
    write(d, "label-control-chars", ok % "(census 1 2 3 4 (1 0 0 0 0 1) (7) (10 1) 1 ((1 #t \\\"\\x1b;[2J\\\")))")
    write(d, "sweep-free-over-heap", ok % "(sweep 1 3 #f 1 2 (10 11) (10 1))")


def conf_seeds():
    d = clean("conf")
    site = os.path.join(TOP, "test", "demo-site")
    for rel in ("etc/kahua.conf", "app-servers"):
        with open(os.path.join(site, rel)) as f:
            write(d, "demo-" + slug(rel), f.read())
    for i, text in enumerate(KAHUA_CONFS):
        write(d, "kahua-conf-%02d" % i, text)
    for i, text in enumerate(APP_SERVERS):
        write(d, "app-servers-%02d" % i, text)


def config_seeds():
    d = clean("config")
    for i, conf in enumerate(CONFIGS):
        write(d, "config-%02d.json" % i, json.dumps(conf, indent=1) + "\n")


def gen_history(tmp, name, *args):
    out = os.path.join(tmp, name)
    subprocess.run([sys.executable, os.path.join(TOP, "bench", "gen_history.py"), out]
                   + list(args), check=True)
    with open(out) as f:
        return f.read().splitlines(keepends=True)


def history_seeds():
    d = clean("history")
    with tempfile.TemporaryDirectory() as tmp:
        plain = gen_history(tmp, "plain", "--hours", "2")
        failing = gen_history(tmp, "failing", "--hours", "2", "--failures", "1", "--seed", "2")
        one = gen_history(tmp, "one", "--hours", "1", "--types", "wiki:1:100")
        fields = gen_history(tmp, "fields", "--hours", "3", "--skips", "1", "--host", "512",
                             "--types", "hello:1:20:100,wiki:1:5")
    write(d, "two-runs.jsonl", "".join(plain))
    write(d, "failed-run.jsonl", failing[-1])
    write(d, "one-type.jsonl", one[0])
    pss = json.loads(plain[0])
    pss["metric"] = "pss"
    write(d, "pss.jsonl", json.dumps(pss, separators=(",", ":")) + "\n")
    dry = dict(json.loads(one[0]), dry_run=True)
    write(d, "dry-and-torn.jsonl", json.dumps(dry) + "\n" + one[0][:200])
    write(d, "conts-host-skipped.jsonl", "".join(fields))
    odd = dict(json.loads(one[0]), site="/srv/a&b<c>\u0001\ufffe", error="x\u0000<y>")
    odd["workers_before"][0]["type"] = "w<i>&'\"ki\u00e9"
    write(d, "markup-in-strings.jsonl", json.dumps(odd, separators=(",", ":")) + "\n")
    write(d, "foreign.jsonl", '{"command":"status","started":1764187200}\n[1,2]\nnot json\n')
    compact_seeds(d)


def compact_seeds(d):
    """Version 2 lines (history_fmt.h): alone, gated, beside old lines; then version 3."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = gen_history(tmp, "compact", "--hours", "3", "--failures", "1", "--host", "512",
                           "--types", "hello:2:20:100,wiki:1:5", "--format", "2")
        gated = gen_history(tmp, "gated", "--hours", "1", "--every", "15", "--host", "600",
                            "--gate", "100", "--types", "hello:1:20", "--format", "2")
        old = gen_history(tmp, "old", "--hours", "1", "--types", "wiki:1:100")
    write(d, "compact-runs.jsonl", "".join(runs))
    write(d, "compact-gated.jsonl", "".join(gated))
    write(d, "mixed-versions.jsonl", old[0] + runs[0])
    healed = dict(json.loads(runs[0]), healed={"c": ["number", "why"], "r": [[3, "gone"], [4]],
                                               "k": {"type": "wiki", "state": "dead"}})
    write(d, "compact-healed.jsonl", json.dumps(healed, separators=(",", ":")) + "\n")
    v3_seeds(d, old[0], runs[0])


def v3_seeds(d, v1, v2):
    """Version 3 lines (history_keys.h): short keys, kB, the host by position."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = gen_history(tmp, "v3", "--hours", "3", "--failures", "1", "--host", "512",
                           "--types", "hello:2:20:100,wiki:1:5", "--format", "3")
        gated = gen_history(tmp, "v3gated", "--hours", "1", "--every", "15", "--host", "600",
                            "--gate", "100", "--types", "hello:1:20", "--format", "3")
    write(d, "v3-runs.jsonl", "".join(runs))
    write(d, "v3-gated.jsonl", "".join(gated))
    write(d, "three-versions.jsonl", v1 + v2 + runs[0])
    # A host in bytes (not whole kB) and PSI, a worker column in bytes, healed entries.
    line = json.loads(runs[0])
    line["h"] = {"ma": 1000001, "su": 0, "mt": 2000003, "s1": 0.25, "f3": 1.5}
    line["o"]["c"][line["o"]["c"].index("R")] = "rs"
    line["he"] = {"c": ["n", "wh"], "r": [[3, "gone"], [4]], "k": {"ty": "wiki", "st": "dead"}}
    write(d, "v3-bytes-healed.jsonl", json.dumps(line, separators=(",", ":")) + "\n")


def main():
    socket_seeds()
    eval_seeds()
    census_seeds()
    conf_seeds()
    config_seeds()
    history_seeds()
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = max(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        print("fuzz/corpus/%s: %d files, largest %d bytes" % (t, len(files), size))


if __name__ == "__main__":
    main()
