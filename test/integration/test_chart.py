"""`history --svg`: the chart of a history file.

Histories come from bench/gen_history.py, whose figures are known.  Every
chart must parse as XML (xmllint, as a validating reader outside this
suite) and hold the series and markers its history calls for; a year's
chart stays under 1 MB; rsvg-convert renders it into a PNG that shows the
type colours and the failure colour.
"""

import json
import os
import re
import shutil
import struct
import subprocess
import time
import xml.etree.ElementTree as ET
import zlib

from harness import TOP, check, one_line, run

GEN = os.path.join(TOP, "bench", "gen_history.py")
SVG = "{http://www.w3.org/2000/svg}"
NO_SITE = {"OT_SITE": None}
BLUE, ORANGE, VERMILION = (0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00), (0xD5, 0x5E, 0x00)


def gen(tmp, name, *args):
    path = os.path.join(tmp, name)
    subprocess.run(["python3", GEN, path] + [str(a) for a in args], check=True)
    return path


def chart(tmp, hist, *extra, env=None, name="chart.svg"):
    out = os.path.join(tmp, name)
    e = dict(NO_SITE, TZ="UTC")
    e.update(env or {})
    res = run(["history", "--history", hist, "--svg", out] + list(extra), None, env=e)
    check(res.rc == 0 and res.out == "" and res.err == "", res)
    return out


def xmllint(path):
    tool = shutil.which("xmllint")
    check(tool is not None, "xmllint missing: install libxml2-utils (make deps-check)")
    p = subprocess.run([tool, "--noout", "--nonet", path], capture_output=True, text=True)
    check(p.returncode == 0, "xmllint: %s" % p.stderr)


def parse(path):
    xmllint(path)
    return ET.parse(path).getroot()


def by_class(root, classes):
    """Elements that carry every class named in classes ("mem t0")."""
    want = set(classes.split())
    return [e for e in root.iter() if want <= set((e.get("class") or "").split())]


def points(d):
    """Path data as a list of (x, y), ignoring moves."""
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)]


def texts(root):
    return ["".join(e.itertext()) for e in root.iter(SVG + "text")]


def self_contained(path):
    text = open(path, encoding="utf-8").read()
    check("<script" not in text and "href" not in text and "@import" not in text
          and "url(" not in text, "chart refers outside itself")
    return text


def test_chart_of_a_day_has_the_saw_tooth(tmp):
    hist = gen(tmp, "day.jsonl", "--hours", 24, "--failures", 1)
    out = chart(tmp, hist)
    root = parse(out)
    self_contained(out)
    words = texts(root)
    check(any("/srv/kahua/site" in w for w in words), "title lacks the site: %r" % words[:3])
    check(any(re.search(r"2025-11-26 2\d:\d\d to 2025-11-27 \d\d:\d\d UTC", w) for w in words),
          "title lacks the span: %r" % words[:3])
    check("local time (UTC)" in words, "time axis lacks the zone")
    check("hello" in words and "leaky" in words, "legend lacks the types")
    check(any(w.endswith(" MiB") for w in words), "memory axis lacks MiB")
    # One tooth per run: at each run's x, the peak (higher, smaller y), then the trough.
    for t in ("t0", "t1"):
        paths = by_class(root, "teeth mem " + t)
        check(len(paths) == 1, "one saw-tooth path per type: %s" % t)
        pts = points(paths[0].get("d"))
        drops = [(a, b) for a, b in zip(pts, pts[1:]) if a[0] == b[0] and b[1] > a[1]]
        check(len(drops) >= 22, "%s: %d restart drops in 24 runs" % (t, len(drops)))
    check(not by_class(root, "cont") and not by_class(root, "avail") and not by_class(root, "swap"),
          "series drawn for fields the history lacks")
    fails = by_class(root, "failure")
    check(len(fails) == 1, "one failure marker, got %d" % len(fails))
    title = "".join(fails[0].find(SVG + "title").itertext())
    check("probe failed: status 500" in title, title)
    check(re.search(r"\d\d Nov \d\d:\d\d", "".join(fails[0].itertext())), "failure unlabelled")
    ticks = by_class(root, "restarts")[0].get("d").count("v10")
    check(ticks == 24, "restart ticks: %d" % ticks)
    check(by_class(root, "skips")[0].get("d").count("v10") == 0, "skips drawn")


def test_chart_draws_continuations_host_and_skipped_runs(tmp):
    hist = gen(tmp, "fields.jsonl", "--hours", 48, "--skips", 3, "--failures", 2,
               "--host", 1024, "--types", "hello:2:20:150,leaky:1:48:900,plain:1:1")
    root = parse(chart(tmp, hist))
    words = texts(root)
    check(any(w.startswith("Continuations") for w in words), "no continuations panel")
    check(len(by_class(root, "cont")) == 2, "a continuations series per type that has them")
    conts = points(by_class(root, "cont t1")[0].get("d"))
    check(len(conts) >= 40, "leaky continuations: %d points" % len(conts))
    check(by_class(root, "avail") and by_class(root, "swap"), "host series missing")
    check("host: available" in words and "host: swap used" in words, "host legend")
    check(by_class(root, "skips")[0].get("d").count("v10") == 3, "three skipped runs")
    check(by_class(root, "restarts")[0].get("d").count("v10") == 45, "45 runs restarted")
    check(len(by_class(root, "failure")) == 2, "two failures")
    check(any("3 skipped" in w for w in words), "subtitle counts the skipped runs")


def test_chart_of_a_year_is_thinned_small_and_renders(tmp):
    hist = gen(tmp, "year.jsonl", "--hours", 8760, "--failures", 12,
               "--types", "hello:2:20,leaky:1:48,wiki:2:5")
    out = chart(tmp, hist)
    size = os.path.getsize(out)
    check(size < 1000000, "a year's chart is %d bytes" % size)
    root = parse(out)
    for t in ("t0", "t1", "t2"):
        el = by_class(root, "band mem " + t)
        check(len(el) == 1, "%s: one band" % t)
        n = len(points(el[0].get("d")))
        check(400 <= n <= 1024, "%s: %d points" % (t, n))
    check(not by_class(root, "teeth"), "teeth drawn in a thinned chart")
    total = sum(len(points(e.get("d") or "")) for e in root.iter(SVG + "path"))
    check(total < 5000, "%d points in all" % total)
    check(len(by_class(root, "failure")) == 12, "12 failures")
    words = texts(root)
    check(any("one point per" in w for w in words), "thinning not said")
    months = [w for w in words if w in ("Jan", "Mar", "May", "Jul", "Sep", "Nov", "Dec", "Feb",
                                         "Apr", "Jun", "Aug", "Oct")]
    check(len(months) >= 6, "month ticks: %r" % months)
    png = render(tmp, out)
    colours = png_colours(png)
    for name, rgb in (("hello", BLUE), ("leaky", ORANGE), ("failures", VERMILION)):
        check(near(colours, rgb) > 50, "%s colour missing from the rendering" % name)


def test_chart_times_are_local_with_the_zone_named(tmp):
    hist = gen(tmp, "day.jsonl", "--hours", 30, "--start", 1751328000)  # 2025-07-01 00:00 UTC
    root = parse(chart(tmp, hist, env={"TZ": "Europe/Paris"}))
    words = texts(root)
    check("local time (CEST)" in words, "zone not named: %r" % words[-3:])
    check(any(re.search(r"2025-07-01 02:\d\d to 2025-07-02 07:\d\d CEST", w) for w in words),
          "span not in local time: %r" % words[:3])


def test_chart_escapes_strings_from_the_history(tmp):
    hist = os.path.join(tmp, "odd.jsonl")
    raw = open(gen(tmp, "one.jsonl", "--hours", 2, "--failures", 1)).read().splitlines()
    lines = []
    for line in raw:
        line = line.replace('"/srv/kahua/site"', '"/srv/a&b<c>\\u0001]]>"')
        line = line.replace('"type":"leaky"', '"type":"le<a>k&y\\"\'\\ufffe\\u00e9"')
        lines.append(line.replace('probe failed', 'probe <b>failed</b> \xff\xfe'))
    with open(hist, "wb") as f:
        f.write("\n".join(lines).encode("latin-1") + b"\n")
    out = chart(tmp, hist)
    root = parse(out)
    words = texts(root)
    check(any("/srv/a&b<c>?]]>" in w for w in words), "site not shown escaped: %r" % words[:2])
    check("le<a>k&y\"'?\u00e9" in words, "type name not shown escaped: %r" % words)
    title = "".join(by_class(root, "failure")[0].find(SVG + "title").itertext())
    check("probe <b>failed</b> ??" in title, title)


def test_chart_options_and_errors(tmp):
    hist = gen(tmp, "two.jsonl", "--hours", 2)
    e = dict(NO_SITE, TZ="UTC")
    res = run(["history", "--history", hist, "--svg", "-"], None, env=e)
    check(res.rc == 0 and res.out.startswith("<?xml") and res.out.endswith("</svg>\n"), res)
    # --since: the generated runs are long past, so none is drawn.
    res = run(["history", "--history", hist, "--svg", "-", "--since", "1h"], None, env=e)
    check(res.rc == 0 and "No restart runs recorded" in res.out, res)
    recent = gen(tmp, "recent.jsonl", "--hours", 48, "--start", int(time.time()) - 48 * 3600)
    starts = [json.loads(l)["started"] for l in open(recent)]
    t0 = time.time()
    res = run(["history", "--history", recent, "--svg", "-", "--since", "1d"], None, env=e)
    t1 = time.time()
    check(res.rc == 0, res)
    shown = int(re.search(r"(\d+) runs:", res.out).group(1))
    check(sum(t >= t1 - 86400 for t in starts) <= shown <= sum(t >= t0 - 86400 for t in starts),
          "--since 1d drew %d runs" % shown)
    check(20 <= shown <= 25, "--since 1d drew %d of 48 hourly runs" % shown)
    missing = chart(tmp, os.path.join(tmp, "none.jsonl"), name="empty.svg")
    check("No restart runs recorded" in open(missing).read(), "empty chart")
    xmllint(missing)
    bad = os.path.join(tmp, "no", "such", "dir", "c.svg")
    res = run(["history", "--history", hist, "--svg", bad], None, env=e)
    check(res.rc == 73 and "chart %s" % bad in one_line(res), res)
    # An unreadable history leaves the old chart as it was.
    old = chart(tmp, hist, name="keep.svg")
    before = open(old).read()
    res = run(["history", "--history", tmp, "--svg", old], None, env=e)
    check(res.rc == 65 and "history %s" % tmp in one_line(res), res)
    check(open(old).read() == before and not os.path.exists(old + ".tmp"), "old chart changed")
    check(oct(os.stat(old).st_mode & 0o777) == "0o644", "chart mode")
    # Never over the history it draws, by any name.
    alias = os.path.join(tmp, "alias.jsonl")
    os.symlink(hist, alias)
    kept = open(hist).read()
    for target in (hist, alias):
        res = run(["history", "--history", hist, "--svg", target], None, env=e)
        check(res.rc == 64 and "that is the history file" in one_line(res), res)
        check(open(hist).read() == kept and os.path.islink(alias), "history overwritten")


def test_chart_of_a_running_site(tmp):
    from harness import Sim, Site
    site = Site(tmp)
    sim = Sim(site)
    for _ in range(3):
        check(run([], site).rc == 0, "restart")
    out = os.path.join(tmp, "site.svg")
    res = run(["history", "--svg", out], site)
    check(res.rc == 0, res)
    root = parse(out)
    words = texts(root)
    check(any(os.path.realpath(site.root) in w for w in words), "site not named")
    check(any(w.endswith("3 runs: 3 with restarts, 0 failed, 0 skipped") for w in words),
          "three restart runs: %r" % words[:3])
    check(len(by_class(root, "mem")) == 2, "two types drawn")
    sim.stop()


# ---- rendering ----

def render(tmp, svg):
    tool = shutil.which("rsvg-convert")
    check(tool is not None, "rsvg-convert missing: install librsvg2-bin (make deps-check)")
    png = os.path.join(tmp, "chart.png")
    p = subprocess.run([tool, "-b", "white", "-o", png, svg], capture_output=True, text=True)
    check(p.returncode == 0 and os.path.getsize(png) > 0, "rsvg-convert: %s" % p.stderr)
    return png


def png_colours(path):
    """Pixel counts by colour of an 8-bit RGB or RGBA PNG (standard library only)."""
    data = open(path, "rb").read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            check(depth == 8 and ctype in (2, 6), "PNG format %d/%d" % (depth, ctype))
            bpp = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev, counts = zlib.decompress(idat), width * bpp, bytearray(width * bpp), {}
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp):
            px = tuple(line[x:x + 3])
            counts[px] = counts.get(px, 0) + 1
        prev = line
    white = counts.get((255, 255, 255), 0)
    check(white < 0.98 * width * height, "the rendering is blank")
    return counts


def near(counts, rgb, tol=24):
    return sum(n for px, n in counts.items() if all(abs(p - q) <= tol for p, q in zip(px, rgb)))


def test_chart_draws_the_hosts_memory_pressure(tmp):
    hist = gen(tmp, "psi.jsonl", "--hours", 48, "--host", 1024)
    # Without PSI figures in the history there is no pressure panel.
    root = parse(chart(tmp, hist, name="none.svg"))
    check(not by_class(root, "psi") and "host: memory pressure" not in texts(root), "a panel of nothing")
    # PSI some avg60 rising from 0% to 47%, as the history's host block records it.
    lines = [json.loads(l) for l in open(hist)]
    for i, line in enumerate(lines):
        line["host"].update(psi_some_avg10=i, psi_some_avg60=i, psi_some_avg300=i / 2,
                            psi_full_avg10=0, psi_full_avg60=0, psi_full_avg300=0)
    with open(hist, "w") as f:
        f.write("".join(json.dumps(l) + "\n" for l in lines))
    root = parse(chart(tmp, hist))
    words = texts(root)
    check("host: memory pressure" in words, "pressure legend")
    check(any(w.startswith("The host\u2019s memory pressure") for w in words), "pressure panel title")
    check("50%" in words and "0%" in words, "a percent axis up to 50%%: %s" % words)
    pts = points(by_class(root, "psi")[0].get("d"))
    check(len(pts) == 48, "one pressure point a run: %d" % len(pts))
    check(pts[0][1] > pts[-1][1], "rising pressure is drawn rising")
