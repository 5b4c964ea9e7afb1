"""Real Kahua: census and sweep on Kahua's own example wiki, wiki-iki (2
workers) with the login example (1), installed and seeded by wikiiki.py on
a site of their own, started and stopped by each test (the group's kit
site is only checked to be whole).  Each page view of wiki-iki registers
one continuation, its [Edit] link (wiki-iki.kahua:168).

The sweep test WAITS for real (about 62 s): its old continuations are old
by the clock, not backdated."""

import time

import wikiiki
from harness import check, run

# session-cont-sweep takes no less than 60 s (the program's minimum).
AGE = 60


class Site:
    """A seeded wiki-iki site with freshly started workers (seeding leaves
    edit and commit continuations behind)."""

    def __init__(self, kit_site, tmp):
        self.s = wikiiki.WikiIkiSite(kit_site.prefix, tmp)

    def __enter__(self):
        self.s.start()
        try:
            self.pages = [p for p in wikiiki.seed(self.s, 40) if p != wikiiki.WELCOME]
            self.s.call("(restart *)", timeout=60)
            self.s.wait_whole(30)
        except BaseException:
            self.s.stop()
            raise
        return self.s

    def __exit__(self, *exc):
        self.s.stop()


def view(s, name):
    """View a page; its [Edit] continuation link."""
    st, text = wikiiki.fetch(s.port, "/wiki-iki/show-page/" + name)
    check(st == 200, "page %s: %s" % (name, st))
    return wikiiki.edit_link(text, s.port)


def census(s):
    res = run(["census", "--json"], s)
    check(res.rc == 0 and res.err == "", res)
    return {w["id"]: w for w in res.json()["workers"]}


def test_census_names_the_edit_link(site, tmp):
    with Site(site, tmp) as s:
        for i in range(60):
            view(s, "Page%02d" % (i % 40 + 1))
        by = census(s)
        wiki = [w for w in by.values() if w["type"] == "wiki-iki"]
        check(len(wiki) == 2 and len(by) == 3, by)
        check(sum(w["continuations"]["under_1m"] for w in wiki) == 60, wiki)
        for w in wiki:
            top = w["makers"][0]
            check(top["share"] >= 90 and "edit-page" in top["label"]
                  and "wiki-iki.kahua:168" in top["label"], w["makers"])
            check(top["count"] == w["continuations"]["under_1m"] > 0, w)
            check(w["state_sessions"]["total"] >= top["count"], w)
        res = run(["census", "wiki-iki"], s)
        check(res.rc == 0 and res.err == "" and res.out.count("wiki-iki.kahua:168") == 2, res)


def test_sweep_after_a_real_minute(site, tmp):
    with Site(site, tmp) as s:
        old = [view(s, "Page%02d" % i) for i in range(1, 21)]
        time.sleep(AGE + 2)
        new = [view(s, "Page%02d" % i) for i in range(21, 41)]
        pids = {w["wid"]: w["pid"] for w in s.ls()}
        res = run(["sweep", "--sweep-conts", str(AGE), "--json"], s)
        check(res.rc == 0 and res.err == "" , res)
        rep = res.json()["workers"]
        check(all(w["outcome"] == "ok" for w in rep), rep)
        wiki = [w for w in rep if w["type"] == "wiki-iki"]
        check(sum(w["swept_continuations"] for w in wiki) == 20, wiki)
        by = census(s)
        check(sum(by[w["id"]]["continuations"]["under_1m"] for w in wiki) == 20, by)
        check(all(by[w["id"]]["continuations"]["1m_10m"] == 0 for w in wiki), by)
        check({w["wid"]: w["pid"] for w in s.ls()} == pids, "a worker changed")
        # The reader's view: a swept link is 404 (as an expired one), a kept one works.
        check(wikiiki.fetch(s.port, old[0])[0] == 404, "swept link %s" % old[0])
        check(wikiiki.fetch(s.port, new[0])[0] == 200, "kept link %s" % new[0])
