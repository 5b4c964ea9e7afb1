#!/usr/bin/env python3
"""Kahua's own example wiki on a private site: wiki-iki (2 workers) and
the login example (1), installed with kahua-install as Kahua's examples
Makefile does, and seeded over HTTP with pages that link to each other,
so that a crawler has something to walk.

    python3 test/real/wikiiki.py [--pages N] [--timeout-mins M] [--kit]

starts one in a temp dir, prints its URL and serves until Enter, SIGINT or
SIGTERM, then stops it.  The tests and bench/bench_cure.py import
WikiIkiSite and seed().

The example sources in examples/ are Kahua's (upstream 7ed95a4, unmodified,
COPYING beside them): the project does not depend on the kit at run time."""

import html
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import kahua
from harness import check

EXAMPLES = os.path.join(kahua.HERE, "examples")
# What examples/Makefile.in's install-examples installs for these two apps.
SCRIPTS = ["wiki-iki/wiki-iki.kahua", "login/login.kahua"]
STATIC = ["wiki-iki/wiki-iki.css", "wiki-iki/images/wiki-iki.png"]
TYPES = [("wiki-iki", 2), ("login", 1)]
WELCOME = "Welcome to Wiki Iki"     # wiki-iki.kahua's *welcome-page*

# Kahua quotes attributes with ' (SXML output); either quote is read.
HREF = re.compile(r"""\b(?:href|action)=(?:'([^']*)'|"([^"]*)")""")
FORM = re.compile(r"""<form[^>]*\baction=(?:'([^']*)'|"([^"]*)")""")
EDIT = re.compile(r"""<a href=(?:'([^']*)'|"([^"]*)")[^>]*>(?:\[Edit\]|Edit )""")


class WikiIkiSite(kahua.RealSite):
    """wiki-iki x2 + login x1; with kit=True also the kit's test types
    (hello x2, leaky x1, wiki x1) from test/real/site."""

    ready_paths = ("/wiki-iki/", "/login/")

    def __init__(self, prefix, tmp, name="wikiiki", timeout_mins=None, kit=False):
        self.timeout_mins = timeout_mins
        self.kit = kit
        super().__init__(prefix, tmp, name=name)

    def _create(self, template):
        self.package_create()
        types = list(TYPES)
        if self.kit:
            types += [(t, n) for t, n in kahua.read_run_by_default(
                os.path.join(template, "app-servers")).items()]
            shutil.copytree(os.path.join(template, "app"), self.path("app"), dirs_exist_ok=True)
            self.ready_paths = self.ready_paths + kahua.RealSite.ready_paths
        self.install("script", SCRIPTS)
        self.install("static", STATIC)
        self.install("plugin", ["-r", "allow-module.scm", "plugins/allow-module.scm"])
        with open(self.path("app-servers"), "w") as f:
            f.write(";; -*-scheme-*-\n;; written by test/real/wikiiki.py\n(\n")
            for t, n in types:
                f.write(" (%s :arguments () :run-by-default %d)\n" % (t, n))
            f.write(")\n")
        if self.timeout_mins is not None:
            with open(self.path("etc", "kahua.conf"), "w") as f:
                f.write("(make <kahua-config> :timeout-mins %d)\n" % int(self.timeout_mins))
        os.makedirs(self.path("logs"), exist_ok=True)
        os.makedirs(self.path("run"), exist_ok=True)

    def install(self, kind, args):
        p = subprocess.run([os.path.join(self.prefix, "bin", "kahua-install"), "-S", self.root,
                            "-t", kind] + args, cwd=EXAMPLES, env=self.env,
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, "kahua-install -t %s %s: %s%s" % (kind, args, p.stdout, p.stderr))


# ------------------------------------------------------------------ HTTP

def fetch(port, path, data=None, timeout=10):
    """(status, text) of GET (or POST of the dict `data`) on 127.0.0.1;
    no cookies, redirects followed as urllib does."""
    url = "http://127.0.0.1:%d%s" % (port, path)
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(url, data=body, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def links(text):
    """Every href and form action of a page, unescaped, in page order."""
    return [html.unescape(a or b) for a, b in HREF.findall(text)]


def site_paths(text, port):
    """The same-site links of a page as paths (absolute URLs of this host
    made relative; other hosts and static files dropped)."""
    return [p for p in (to_path(u, port) for u in links(text)) if p is not None]


def to_path(url, port):
    """The path (and query) of a link to this site's pages, else None
    (another host, a static file)."""
    p = urllib.parse.urlsplit(url)
    if p.scheme and p.netloc != "127.0.0.1:%d" % port:
        return None
    path = p.path + ("?" + p.query if p.query else "")
    if not path.startswith("/") or path.startswith("/kahua/") or path.endswith((".css", ".png")):
        return None
    return path


def is_cont(path):
    """A continuation link: /TYPE/<key> where Kahua's key holds the minting
    worker's id (NN-wid:xxxx-yyyy); entry links are /TYPE/ENTRY/ARGS."""
    seg = path.split("?")[0].split("/")
    return len(seg) >= 3 and ":" in seg[2]


def edit_link(text, port):
    """The [Edit] (or "Edit NAME") continuation link of a wiki-iki page."""
    m = EDIT.search(text)
    check(m is not None, "no Edit link in the page: %r" % text[:500])
    return to_path(html.unescape(m.group(1) or m.group(2)), port)


# ------------------------------------------------------------------ seeding

def page_name(i):
    return "Page%02d" % i


def page_body(i, n, rnd):
    """30-60 lines in paragraphs under headings, with links to 3-6 other pages."""
    lines = ["* %s" % page_name(i), ""]
    want = rnd.randint(30, 60)
    targets = rnd.sample([j for j in range(1, n + 1) if j != i], min(n - 1, rnd.randint(3, 6)))
    words = ["continuation", "closure", "worker", "session", "entry", "page", "link",
             "scheme", "gauche", "kahua", "heap", "crawler", "reader", "wiki"]
    while len(lines) < want:
        if len(lines) % 9 == 0:
            lines += ["", "** Section %d" % (len(lines) // 9), ""]
            continue
        text = " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 12)))
        if targets and rnd.random() < 0.3:
            text += " see [[%s]]" % page_name(targets.pop())
        lines.append(text)
    lines += ["", "Related: " + " ".join("[[%s]]" % page_name(j) for j in targets)]
    return "\n".join(lines) + "\n"


def write_page(port, path):
    """Open `path` (a page or the page that says it does not exist), follow
    its Edit link and commit the form; returns the form's status."""
    st, text = fetch(port, path)
    check(st == 200, "GET %s: %s" % (path, st))
    st, form = fetch(port, edit_link(text, port))
    check(st == 200, "edit form of %s: %s" % (path, st))
    actions = FORM.findall(form)
    check(len(actions) == 1, "no form in the edit page of %s: %r" % (path, form[:500]))
    return to_path(html.unescape(actions[0][0] or actions[0][1]), port)


def seed(site, pages=40, seed_no=16):
    """Write `pages` pages (PageNN, 30-60 lines, linked to each other) and a
    welcome page that links to the first few; idempotent content per seed."""
    rnd = random.Random(seed_no)
    port = site.port
    bodies = {WELCOME: "* %s\nA small wiki for the crawl.\n\n" % WELCOME +
              "".join("[[%s]]\n" % page_name(j) for j in range(1, min(pages, 6) + 1))}
    for i in range(1, pages + 1):
        bodies[page_name(i)] = page_body(i, pages, rnd)
    for name, body in bodies.items():
        path = "/wiki-iki/" if name == WELCOME else "/wiki-iki/show-page/" + name
        action = write_page(port, path)
        st, text = fetch(port, action, data={"content": body, "commit": "commit"})
        check(st == 200 and name in text, "commit of %s: %s %r" % (name, st, text[:300]))
    return sorted(bodies)


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--timeout-mins", type=int, default=None)
    ap.add_argument("--kit", action="store_true", help="also the kit's hello, leaky and wiki")
    a = ap.parse_args()
    prefix, why = kahua.find_prefix()
    if prefix is None:
        print("wikiiki: %s" % why, file=sys.stderr)
        return 1
    tmp = kahua.harness.tempdir()
    site = WikiIkiSite(prefix, tmp, timeout_mins=a.timeout_mins, kit=a.kit).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        seed(site, a.pages)
        print("wiki-iki on %s (site %s); Enter stops it" % (site.url("/wiki-iki/"), site.root),
              flush=True)
        sys.stdin.readline()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
        kahua.harness.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
