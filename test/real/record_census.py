#!/usr/bin/env python3
"""Record the census and sweep exchanges on a running kahua-lab site into
test/vectors/census-sweep.json (the simulator replays them:
test/integration/test_census.py).

usage: test/real/record_census.py SITE_DIR PORT

The site must be the kit's (start.sh SITE_DIR PORT); this views /wiki/
three times, waits until those continuations are over a minute old, views
it once more, then records: the census of the wiki worker and of a hello
worker, a sweep of continuations unused for 60 s, the census after it, a
sweep of state sessions too, an ERROR reply, and the census of the wiki
worker once an eval has minted 20,000 more continuations (past 16,384 the
census counts makers on one entry in STRIDE).  The expressions are
read from kahua_census.c, byte for byte what the program sends.  Paths in
replies are rewritten as in the other recordings (SITE, /usr/local).
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "test", "integration"))
import harness  # noqa: E402  (raw_exchange)
BIN = os.path.join(TOP, "kahua-restarter")
HDR = '(("x-kahua-eval" "#t") ("x-kahua-sgsid" "kahua-restarter"))'


def c_string(name, end_marker, source="kahua_census.c"):
    """A string constant of a C file (kahua_census.c), as the compiler joins it."""
    src = open(os.path.join(TOP, source)).read()
    start = src.index(name)
    end = src.index(";", src.index(end_marker, start))
    text = ""
    for line in src[start:end].splitlines()[1:]:
        line = line.strip()
        if line.startswith('"'):
            text += bytes(line[1:-1], "utf-8").decode("unicode_escape")
    return text


def exchange(sock, sent):
    t = time.monotonic()
    out = harness.raw_exchange(sock, sent.encode(), timeout=30).decode()
    return out, time.monotonic() - t


def main(site, port):
    site = os.path.realpath(site)
    st = json.loads(subprocess.run([BIN, "-S", site, "status", "--json"], check=True,
                                   capture_output=True, text=True).stdout)
    wid = {w["type"]: w["id"] for w in st["workers_before"]}
    view = lambda: urllib.request.urlopen("http://127.0.0.1:%d/wiki/" % port).read()
    for _ in range(3):
        view()
    time.sleep(65)
    view()
    census = c_string("const char kahua_census_request[] =", "makers))))")
    sweep_fmt = c_string("static const char sweep_format[] =", "h0 (heap))))")
    sweep = sweep_fmt.replace("%lld", "60", 1).replace("%s", "#f")
    sweep_both = sweep_fmt.replace("%lld", "60", 1).replace("%s", "(session-state-sweep 60)")
    error = HDR + "\n(with-module kahua.session (session-cont-sweep))"
    cases = [
        ("census: the wiki worker, 3 views over a minute old and 1 fresh", "wiki", census,
         "each view mints 100 continuations of one a/cont lambda; the define-entry is permanent"),
        ("census: a hello worker", "hello", census, "only its define-entry"),
        ("sweep: continuations unused for 60 s, state sessions not swept", "wiki", sweep,
         "the 300 continuations of the older views go; (gc) after"),
        ("census: the wiki worker after the sweep", "wiki", census, "the fresh view's 100 remain"),
        ("sweep: continuations and state sessions unused for 60 s", "wiki", sweep_both, ""),
        ("eval ERROR: an expression that raises (session-cont-sweep without its age)", "wiki", error,
         "the shape of every ERROR answer"),
    ]
    mint = HDR + "\n(with-module kahua.session (dotimes (i 20000) (session-cont-register (lambda () i))) #t)"
    cases.append(("census: the wiki worker with 20,000 more continuations, minted by an eval", "wiki",
                  census, "makers counted on 1 entry in 2, each counting 2", mint))
    out = []
    for name, typ, sent, note, *before in cases:
        sock = os.path.join(site, "socket", wid[typ])
        for b in before:
            exchange(sock, b)
        got, secs = exchange(sock, sent)
        got = got.replace(site, "SITE")
        got = re.sub(r"/opt/kahua\b", "/usr/local", got)
        out.append({"case": name, "note": note, "socket": "SITE/socket/WID", "sent": sent,
                    "received": got, "socket_error": None, "seconds": round(secs, 4)})
    write_vectors("census-sweep.json", out)


def write_vectors(name, cases):
    path = os.path.join(TOP, "test", "vectors", name)
    with open(path, "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]))
