"""libcurl is loaded only by runs that make an HTTP check: with the
library hidden, status and a restart without HTTP check work, and a run
that needs HTTP says which library is missing in one line."""

import os
import subprocess

from harness import BIN, WRAP, Sim, Site, check, same_workers

LIBDIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
           "/lib", "/usr/lib"]


SONAMES = ["libcurl.so.4", "libcurl-gnutls.so.4"]   # every name curl_dl.c tries


def libcurl_files():
    found = set()
    for d in LIBDIRS:
        for name in SONAMES:
            p = os.path.join(d, name)
            if os.path.exists(p):
                found.add(os.path.realpath(p))
    return sorted(found)


def run_hidden(args, site):
    """Run the program in a private mount namespace where libcurl's file
    is /dev/null, so dlopen fails as on a host without the library."""
    libs = libcurl_files()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAHUA_RESTARTER_")}
    env["OT_SITE"] = site.root
    script = ('n=$1; shift; while [ "$n" -gt 0 ]; do mount --bind /dev/null "$1" || exit 97; '
              'shift; n=$((n - 1)); done; exec "$@"')
    cmd = ["unshare", "-m", "sh", "-c", script, "sh", str(len(libs))] + libs + WRAP + [BIN] + args
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def can_hide():
    if os.geteuid() != 0 or not libcurl_files():
        return False
    p = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return p.returncode == 0


def test_without_libcurl_only_http_checks_fail(tmp):
    if not can_hide():
        print("skipped: needs root and unshare to hide libcurl")
        return
    site = Site(tmp)
    sim = Sim(site)
    before = sim.ls()
    res = run_hidden(["status"], site)
    check(res.returncode == 0, res)
    check(len(res.stdout.splitlines()) == 1 + len(before), res)
    res = run_hidden(["--no-http-check", "restart"], site)
    check(res.returncode == 0, res)
    mid = sim.ls()
    same_workers(before, mid)
    res = run_hidden(["check"], site)
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    check(res.returncode == 71, res)
    check(len(lines) == 1 and lines[0].startswith("kahua-restarter: HTTP check: libcurl: cannot load libcurl.so.4"),
          res)
    res = run_hidden(["restart"], site)
    check(res.returncode == 71, res)
    check("libcurl.so.4" in res.stderr, res)
    same_workers(before, sim.ls())
