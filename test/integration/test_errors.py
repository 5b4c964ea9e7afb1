"""Bad input and an unreachable supervisor: one line and the documented
exit status for each."""

import os
import socket
import subprocess

from harness import (TOP, Site, check, one_line, run, start)


def test_no_supervisor_socket_is_69(tmp):
    site = Site(tmp)
    res = run(["status"], site)
    check(res.rc == 69, res)
    line = one_line(res)
    check(site.path("socket", "kahua") in line, line)


def test_stale_socket_is_69(tmp):
    site = Site(tmp)
    os.makedirs(site.path("socket"))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(site.path("socket", "kahua"))
    s.close()   # the file stays, nobody listens
    res = run(["restart"], site)
    check(res.rc == 69, res)
    line = one_line(res)
    check(site.path("socket", "kahua") in line and "stale" in line, line)


def test_no_site_is_usage_error(tmp):
    res = run(["status"], None, env={"OT_SITE": None})
    check(res.rc == 64, res)
    check("OT_SITE" in one_line(res), res)


def test_site_flag_overrides_env(tmp):
    site, sim = start(tmp)
    res = run(["-S", site.root, "status"], None, env={"OT_SITE": "/nonexistent"})
    check(res.rc == 0, res)


def test_malformed_kahua_conf_is_78(tmp):
    site, sim = start(tmp)
    for text, word in (("(make <kahua-config> :sockbase", "ends inside"),
                       ("(make <kahua-config> :sockbase 42)", "string"),
                       ("(frobnicate)", "make <kahua-config>"),
                       ("(make <kahua-config>) extra", "after")):
        site.write_conf(text)
        res = run(["status"], site)
        check(res.rc == 78, res)
        line = one_line(res)
        check("kahua.conf" in line and word in line, "%r lacks %r" % (line, word))


def test_missing_bundle_is_78(tmp):
    res = run(["status"], None, env={"OT_SITE": os.path.join(tmp, "nope")})
    check(res.rc == 78, res)
    check("nope" in one_line(res), res)


def test_bad_flags_are_usage_errors(tmp):
    for args in (["--nosuch"], ["--strategy", "sideways"], ["--timeout", "soon"],
                 ["status", "extra"], ["frobnicate"], ["--expect-status", "99"]):
        res = run(args, None, env={"OT_SITE": tmp})
        check(res.rc == 64, "%r: %r" % (args, res))
        one_line(res)


def test_help_lists_every_exit_status(tmp):
    res = run(["--help"], None)
    check(res.rc == 0, res)
    for code in ("0", "1", "64", "69", "75", "78"):
        check(any(l.split()[:1] == [code] for l in res.out.splitlines()), "exit %s missing" % code)


def test_make_without_the_libraries_names_the_packages(tmp):
    # pkg-config that finds nothing stands in for a machine without
    # libcurl4-openssl-dev and libcjson-dev; as root the build would
    # install them, so the build runs as nobody, as a user's would.
    stub = os.path.join(tmp, "pkg-config")
    with open(stub, "w") as f:
        f.write("#!/bin/sh\nexit 1\n")
    out = os.path.join(tmp, "build")
    os.mkdir(out)
    os.chmod(tmp, 0o755)
    os.chmod(stub, 0o755)
    cmd = ["make", "-s", "-C", TOP, "O=" + out, "PKG_CONFIG=" + stub]
    if os.geteuid() == 0:
        os.chown(out, 65534, 65534)
        cmd = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    check(p.returncode != 0, p)
    ours = [l for l in p.stderr.splitlines() if l.startswith("kahua-restarter: ")]
    check(len(ours) == 1 and "apt-get install libcurl4-openssl-dev libcjson-dev" in ours[0], p.stderr)
    check("fatal error" not in p.stderr and p.stdout.strip() == "", p)
    check(os.listdir(out) == [], "compiled anyway: %r" % os.listdir(out))
