"""kahua.conf's :sockbase in every form, and bundles
whose socket paths do not fit in sun_path."""

import os

from harness import Sim, Site, check, one_line, run, same_workers


def restart_ok(site, sim):
    before = sim.ls()
    res = run([], site)
    check(res.rc == 0, res)
    after = sim.ls()
    same_workers(before, after)
    check(not {w["pid"] for w in before} & {w["pid"] for w in after}, "not restarted")


def test_sockbase_relative(tmp):
    site = Site(tmp, conf='(make <kahua-config> :sockbase "sock2")\n')
    sim = Sim(site, sockdir=os.path.join(site.root, "sock2"))
    check(os.path.exists(site.path("sock2", "kahua")), "simulator ignored :sockbase")
    restart_ok(site, sim)


def test_sockbase_unix_absolute(tmp):
    sockdir = os.path.join(tmp, "elsewhere")
    site = Site(tmp, conf='(make <kahua-config> :sockbase "unix:%s")\n' % sockdir)
    sim = Sim(site, sockdir=sockdir)
    restart_ok(site, sim)


def test_sockbase_unix_relative(tmp):
    site = Site(tmp, conf='(make <kahua-config> :sockbase "unix:s")\n')
    sim = Sim(site, sockdir=site.path("s"))
    restart_ok(site, sim)


def test_socket_path_longer_than_sun_path(tmp):
    deep = os.path.join(tmp, *(["a-rather-long-directory-name"] * 5))
    os.makedirs(deep)
    site = Site(deep)
    check(len(site.path("socket", "kahua")) > 108, "path not long enough")
    sim = Sim(site)
    restart_ok(site, sim)
    res = run(["check"], site)
    check(res.rc == 0, res)


def test_wrong_sockbase_names_the_socket(tmp):
    site = Site(tmp)
    sim = Sim(site)
    site.write_conf('(make <kahua-config> :sockbase "unix:/nonexistent/dir")\n')
    res = run(["status"], site)
    check(res.rc == 69, res)
    check("/nonexistent/dir/kahua" in one_line(res), res)
    sim.stop()
