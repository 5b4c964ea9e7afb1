#!/usr/bin/env python3
"""Run the real-Kahua suite: test_*.py here, functions test_*(site, tmp).

Each file is a group with one fresh private site (test/real/site copied
into a bundle under a temp dir, on a free port), started before its first
test and stopped after its last.  After each test the site must be whole
again (every type at :run-by-default, every worker a live process): a test
that leaves it otherwise fails, and the group goes on with a fresh site.
Prints one line per test and a closing "real-kahua: N passed, N failed".
Arguments filter tests by substring.

The installation is $KAHUA_PREFIX (bin/kahua-spvr, bin/gosh), else the
first of /opt/kahua, /usr/local, /usr that has one; with none, the suite
prints one line saying it was skipped and exits 0 (or $KR_SKIP_STATUS:
`make check` sets 77 to tell a skip from a pass)."""

import importlib.util
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kahua  # noqa: E402
from harness import rmtree, tempdir  # noqa: E402


def load_tests(filters):
    groups = []
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(HERE, name))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        tests = []
        fns = [(attr, getattr(mod, attr)) for attr in dir(mod)
               if attr.startswith("test_") and callable(getattr(mod, attr))]
        # In the order written: a group's tests may build on its site's state.
        for attr, fn in sorted(fns, key=lambda a: a[1].__code__.co_firstlineno):
            full = "%s.%s" % (name[:-3], attr)
            if not filters or any(f in full for f in filters):
                tests.append((full, fn))
        if tests:
            groups.append((name[:-3], tests))
    return groups


class Group:
    """The site of one group, replaced when a test leaves it broken."""

    def __init__(self, prefix, name):
        self.prefix, self.name = prefix, name
        self.tmp = tempdir()
        self.n = 0
        self.site = None
        self.kept = False

    def fresh(self):
        if self.site is not None:
            self.site.stop()
        self.n += 1
        self.site = kahua.RealSite(self.prefix, self.tmp, name="site%d" % self.n).start()
        return self.site

    def close(self):
        if self.site is not None:
            self.site.stop()
        if not self.kept:
            rmtree(self.tmp)


def after_test(site):
    """None if the site is whole again, else why not."""
    if site.proc.poll() is not None:
        return "kahua-spvr exited (status %s)" % site.proc.returncode
    try:
        site.wait_whole(15)
    except Exception as e:  # noqa: BLE001  (any failure means: not whole)
        return str(e)
    return None


def run_group(g, gname, tests):
    """Run one group's tests on its site; (passed, failed)."""
    passed = failed = 0
    try:
        site = g.fresh()
    except Exception:
        print("FAIL %s: the site did not start\n%s" % (gname, traceback.format_exc(limit=3)))
        g.kept = True
        return 0, len(tests)
    for full, fn in tests:
        tmp = tempdir()
        t0 = time.monotonic()
        err = None
        try:
            fn(site, tmp)
        except Exception:
            err = traceback.format_exc(limit=4)
        broken = after_test(site)
        if err is None and broken:
            err = "the test left the site broken: %s" % broken
        if err is None:
            passed += 1
            print("ok   %s (%.1fs)" % (full, time.monotonic() - t0), flush=True)
            rmtree(tmp)
        else:
            failed += 1
            g.kept = True
            print("FAIL %s (%.1fs)\n%s" % (full, time.monotonic() - t0, err), flush=True)
            print("     (files kept in %s and %s)" % (tmp, site.root), flush=True)
        if broken:
            try:
                site = g.fresh()
            except Exception:
                print("FAIL %s: no fresh site\n%s" % (gname, traceback.format_exc(limit=3)))
                failed += 1
                break
    return passed, failed


def main():
    try:
        prefix, why = kahua.find_prefix()
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 1
    if prefix is None:
        print("real-kahua: skipped (%s; set KAHUA_PREFIX=/path/to/kahua, the prefix holding "
              "bin/kahua-spvr and bin/gosh, to run it)" % why, flush=True)
        return int(os.environ.get("KR_SKIP_STATUS", "0"))
    groups = load_tests(sys.argv[1:])
    passed = failed = 0
    t_all = time.monotonic()
    # Stopped from outside (make, CI): still stop the sites started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(128 + signal.SIGHUP))
    print("real-kahua: Kahua in %s" % prefix, flush=True)
    for gname, tests in groups:
        g = Group(prefix, gname)
        try:
            p, f = run_group(g, gname, tests)
        finally:
            try:
                g.close()
            except Exception as e:  # noqa: BLE001
                failed += 1
                print("FAIL %s: stopping its site: %s" % (gname, e), flush=True)
        passed, failed = passed + p, failed + f
    print("real-kahua: %d passed, %d failed in %.0f s" % (passed, failed, time.monotonic() - t_all))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
