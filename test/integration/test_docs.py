"""--help and the man page name the same options and exit statuses; the
man page is the one reference for options, the README a short front
door that names options but documents none, doc/ likewise."""

import os
import re

from harness import TOP, check, run

README_MAX_LINES = 200
# A row of an option table: indented, the option (with its short form
# and argument), then two spaces or more and what it does.
OPTION_ROW = re.compile(r"^\s*(?:-[a-zA-Z], )?--[a-z][a-z-]+(?: [A-Z][A-Z.,\[\]N]*)?(?:\s{2,}\S|\s*$)", re.M)


def help_options():
    res = run(["--help"], None)
    check(res.rc == 0, res)
    return set(re.findall(r"--([a-z][a-z-]+)", res.out)), res.out


def read(*parts):
    with open(os.path.join(TOP, *parts)) as f:
        return f.read()


def prose_docs():
    """README and doc/*.md, by name."""
    docs = {"README": read("README")}
    for name in sorted(os.listdir(os.path.join(TOP, "doc"))):
        if name.endswith(".md"):
            docs["doc/" + name] = read("doc", name)
    return docs


def test_man_page_documents_every_option(tmp):
    opts, _ = help_options()
    man = read("kahua-restarter.1").replace("\\-", "-")
    for o in sorted(opts):
        check("--" + o in man, "man page lacks --%s" % o)
    for o in set(re.findall(r"--([a-z][a-z-]+)", man)):
        check(o in opts, "man page documents --%s, which --help lacks" % o)


def test_options_are_documented_only_in_the_man_page(tmp):
    for name, text in prose_docs().items():
        rows = [m.group(0).strip() for m in OPTION_ROW.finditer(text)]
        check(rows == [], "%s documents options in an option table; that is the man page's: %r"
              % (name, rows[:5]))


def test_readme_is_a_front_door(tmp):
    text = read("README")
    n = text.count("\n")
    check(n <= README_MAX_LINES, "README has %d lines; the front door holds %d" % (n, README_MAX_LINES))
    for path in ("doc/kahua.md", "doc/development.md", "doc/chart-year.png", "bench/RESULTS.md",
                 "contrib/prometheus", "contrib/ansible", "contrib/systemd", "debian"):
        check(path in text, "README does not point to %s" % path)
        check(os.path.exists(os.path.join(TOP, path)), "README points to %s, which is missing" % path)
    for cmd in ("make demo", "make check", "make deb"):
        check(cmd in text, "README lacks %s" % cmd)


def test_exit_statuses_in_step(tmp):
    _, text = help_options()
    codes = set(re.findall(r"^\s+(\d+)\s", text.split("exit status:")[1], re.M))
    readme = read("README").split("Exit status")[1]
    man = read("kahua-restarter.1").split(".SH EXIT STATUS")[1]
    for c in codes:
        check(re.search(r"^\s+%s[\s+]" % c, readme, re.M), "README lacks exit status %s" % c)
        check(re.search(r"^\.B %s(\+N)?$" % c, man, re.M), "man page lacks exit status %s" % c)


def test_every_command_documented(tmp):
    _, text = help_options()
    man = open(os.path.join(TOP, "kahua-restarter.1")).read()
    for c in ("restart", "status", "check", "history", "census", "sweep"):
        check(re.search(r"\b%s\b" % c, text.split("options:")[0]), "--help lacks the %s command" % c)
        check(re.search(r"^\.BR? %s\b" % c, man, re.M), "man page COMMANDS lacks %s" % c)
