"""The simulator answers every recorded Kahua exchange as Kahua did
(ids, pids, times and hash-table addresses normalised), the failure
modes of a real Kahua included."""

import os
import subprocess
import sys

from harness import SIM, TOP, check


def test_simulator_reproduces_recorded_exchanges(tmp):
    script = os.path.join(TOP, "test", "sim", "compare_recorded.py")
    p = subprocess.run([sys.executable, script, SIM, tmp], capture_output=True, text=True,
                       timeout=120)
    check(p.returncode == 0, "replay failed:\n%s%s" % (p.stdout[-3000:], p.stderr[-2000:]))
    oks = [l for l in p.stdout.splitlines() if l.startswith("ok ")]
    # The control-socket recording, then the failure modes (the race in three parts).
    check(len(oks) >= 47, "only %d recorded cases replayed:\n%s" % (len(oks), p.stdout))
