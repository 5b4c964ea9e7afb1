"""Open-loop HTTP load at a fixed rate against 127.0.0.1.

Request i is due at t0 + i/rate whatever happened to earlier requests: a
scheduler thread sleeps until each due time and hands the request to a
thread pool, so slow or held requests never delay the schedule.  Every
request is a new TCP connection (GET, Connection: close) with one overall
time limit covering connect, send and the whole response.  Latency runs
from the due time to the end of the response (no coordinated omission).
"""

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor


class Req:
    __slots__ = ("i", "path", "due", "sent", "done", "outcome", "status")

    def __init__(self, i, path, due):
        self.i, self.path, self.due = i, path, due
        self.sent = self.done = None
        self.outcome = None   # "ok", "http NNN", "timeout", "conn: ...", "short"
        self.status = None

    @property
    def ok(self):
        return self.outcome == "ok"

    @property
    def latency(self):
        return self.done - self.due


def http_get(port, path, deadline):
    """(outcome, status) of one GET; outcome "ok" for a complete 2xx."""
    def left():
        r = deadline - time.monotonic()
        if r <= 0:
            raise socket.timeout()
        return r

    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=left())
    except socket.timeout:
        return "timeout", None
    except OSError as e:
        return "conn: %s" % (e.strerror or type(e).__name__), None
    try:
        s.settimeout(left())
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
                   % (path, port)).encode())
        buf = bytearray()
        while True:
            s.settimeout(left())
            b = s.recv(65536)
            if not b:
                break
            buf += b
    except socket.timeout:
        return "timeout", None
    except OSError as e:
        return "conn: %s" % (e.strerror or type(e).__name__), None
    finally:
        s.close()
    head, sep, body = bytes(buf).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return "short", None
    if not sep:
        return "short", status
    for h in lines[1:]:
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length" and len(body) < int(v.strip() or 0):
            return "short", status
    if 200 <= status < 300:
        return "ok", status
    return "http %d" % status, status


class Load:
    def __init__(self, port, paths, rate=20.0, timeout=2.0, max_requests=2000, threads=100):
        self.port, self.paths, self.rate, self.timeout = port, paths, rate, timeout
        self.max_requests = max_requests
        self.pool = ThreadPoolExecutor(max_workers=threads)
        self.reqs = []
        self.stop_at = None
        self.t0 = None
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._schedule, daemon=True)

    def start(self):
        self.t0 = time.monotonic()
        self._thread.start()
        return self.t0

    def stop(self, when):
        """Send no request due after monotonic time `when`."""
        with self._cv:
            self.stop_at = when
            self._cv.notify()

    def join(self):
        self._thread.join()
        self.pool.shutdown(wait=True)
        return self.reqs

    def _schedule(self):
        for i in range(self.max_requests):
            due = self.t0 + i / self.rate
            with self._cv:
                while True:
                    if self.stop_at is not None and due > self.stop_at:
                        return
                    now = time.monotonic()
                    if now >= due:
                        break
                    self._cv.wait(due - now)
            r = Req(i, self.paths[i % len(self.paths)], due)
            self.reqs.append(r)
            self.pool.submit(self._one, r)

    def _one(self, r):
        r.sent = time.monotonic()
        r.outcome, r.status = http_get(self.port, r.path, r.sent + self.timeout)
        r.done = time.monotonic()


def max_gap(times):
    """Longest interval between consecutive values of `times` (sorted here)."""
    t = sorted(times)
    return max((b - a for a, b in zip(t, t[1:])), default=float("nan"))
