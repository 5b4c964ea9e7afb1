"""The main() of a test script that `make check` runs as its own suite
(test/prom, test/ansible): each test_*(tmp) in a fresh temp dir, one line
per test, a closing count; status 77 with one line when a tool the suite
needs is not installed (scripts/suite.sh counts that as skipped)."""
import os
import shutil
import sys
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
import harness  # noqa: E402


def main(suite, namespace, tools, install):
    """Run the test_* functions of namespace (a module's globals())."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        print("check: %s skipped: no %s (apt-get install %s)" % (suite, " ".join(missing), install))
        return 77
    tests = sorted((n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f))
    failed = 0
    for name, fn in tests:
        tmp = harness.tempdir()
        try:
            fn(tmp)
            print("ok   %s" % name)
        except Exception:
            failed += 1
            print("FAIL %s\n%s" % (name, traceback.format_exc()))
        finally:
            harness.rmtree(tmp)
    print("%s: %d passed, %d failed" % (suite, len(tests) - failed, failed))
    return 1 if failed else 0
