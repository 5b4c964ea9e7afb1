#!/usr/bin/env python3
"""Record the grace exchange (kahua_grace.h) on a running kahua-lab site
into test/vectors/grace.json (the simulator recognises the expression
from it: test/sim/recorded.py).

usage: test/real/record_grace.py SITE_DIR

The site must be the kit's (start.sh SITE_DIR PORT) with two hello
workers.  On the first hello worker this records: the grace expression
for 300 ms and its answer, the same sent again (a second grace replaces
the first, it does not stack), then (kill WNO) on the control socket
with an eval sent to the worker 100 ms into it: the worker answers it,
and the supervisor answers the kill only once the worker has exited,
after the grace.  Then (reload) puts the site back.  The expression is
read from kahua_grace.c, byte for byte what the program sends.  Paths
in replies are rewritten as in the other recordings (SITE, /usr/local).
"""

import json
import os
import re
import subprocess
import sys
import threading
import time

from record_census import BIN, HDR, c_string, exchange, write_vectors

GRACE_MS = 300


def rewrite(text, site):
    return re.sub(r"/opt/kahua\b", "/usr/local", text.replace(site, "SITE"))


def main(site):
    site = os.path.realpath(site)
    st = json.loads(subprocess.run([BIN, "-S", site, "status", "--json"], check=True,
                                   capture_output=True, text=True).stdout)
    hello = [w for w in st["workers_before"] if w["type"] == "hello"][0]
    wsock = os.path.join(site, "socket", hello["id"])
    csock = os.path.join(site, "socket", "kahua")
    fmt = c_string("static const char grace_format[] =", "'grace 1 %lld", "kahua_grace.c")
    grace = fmt.replace("%lld", str(GRACE_MS))
    out = []

    def record(name, sock, sent, note, got, secs):
        out.append({"case": name, "note": note, "socket": rewrite(sock, site).replace(hello["id"], "WID"),
                    "sent": sent, "received": rewrite(got, site), "socket_error": None,
                    "seconds": round(secs, 4)})

    for name, note in (("grace: armed for 300 ms on a hello worker", "(grace 1 MS): armed"),
                       ("grace: the same sent again", "replaces the first; SIGINT's handler is the one put back")):
        got, secs = exchange(wsock, grace)
        record(name, wsock, grace, note, got, secs)
    during = {}

    def ask():
        time.sleep(0.1)
        during["got"], during["secs"] = exchange(wsock, HDR + "\n(+ 1 2)")
    t = threading.Thread(target=ask)
    t.start()
    kill = '(("x-kahua-worker" "spvr"))\n(kill %d)\n' % hello["number"]
    got, secs = exchange(csock, kill)
    t.join()
    record("kill: the worker with a grace of 300 ms", csock, kill,
           "answered once the worker has exited, after its grace: seconds >= 0.3", got, secs)
    record("eval: the worker 100 ms into its grace", wsock, HDR + "\n(+ 1 2)",
           "still served after SIGTERM", during["got"], during["secs"])
    exchange(csock, '(("x-kahua-worker" "spvr"))\n(reload)\n')
    write_vectors("grace.json", out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
