#!/usr/bin/env python3
"""Run every integration test: test_*.py here, functions test_*(tmp).

Each test gets a fresh temp dir; any simulator it started is stopped and
checked for stray processes afterwards.  Prints one line per test and a
closing "N passed, N failed" line.  Arguments filter tests by substring.
"""
import importlib.util
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

_started = []
_orig_init = harness.Sim.__init__


def _tracking_init(self, *a, **kw):
    _started.append(self)
    _orig_init(self, *a, **kw)


harness.Sim.__init__ = _tracking_init


def stray_check(sims):
    """After stopping, no simulator process or worker may survive."""
    leftovers = []
    for s in sims:
        pids = getattr(s, "_all_pids", [])
        leftovers += [p for p in pids if harness.alive(p)]
    return leftovers


def main():
    filters = sys.argv[1:]
    tests = []
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(HERE, name))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for attr in sorted(dir(mod)):
            if attr.startswith("test_") and callable(getattr(mod, attr)):
                full = "%s.%s" % (name[:-3], attr)
                if not filters or any(f in full for f in filters):
                    tests.append((full, getattr(mod, attr)))
    passed = failed = 0
    for full, fn in tests:
        tmp = harness.tempdir()
        _started.clear()
        t0 = time.monotonic()
        err = None
        try:
            fn(tmp)
        except Exception:
            err = traceback.format_exc(limit=4)
        for s in list(_started):
            try:
                s._all_pids = [s.pid] + s.descendants() if s.proc.poll() is None else []
                s.stop()
            except Exception:
                pass
        time.sleep(0.05)
        stray = stray_check(_started)
        if err is None and stray:
            err = "stray processes after the test: %r" % stray
        if err is None:
            passed += 1
            print("ok   %s (%.1fs)" % (full, time.monotonic() - t0), flush=True)
            harness.rmtree(tmp)
        else:
            failed += 1
            print("FAIL %s (%.1fs)\n%s" % (full, time.monotonic() - t0, err), flush=True)
            print("     (files kept in %s)" % tmp, flush=True)
    print("integration: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
