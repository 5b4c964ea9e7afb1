"""--help, README and the man page name the same options and exit statuses."""

import os
import re

from harness import TOP, check, run


def help_options():
    res = run(["--help"], None)
    check(res.rc == 0, res)
    return set(re.findall(r"--([a-z][a-z-]+)", res.out)), res.out


def test_readme_and_man_page_list_every_option(tmp):
    opts, _ = help_options()
    readme = open(os.path.join(TOP, "README")).read()
    man = open(os.path.join(TOP, "kahua-restarter.1")).read().replace("\\-", "-")
    for o in sorted(opts):
        check("--" + o in readme, "README lacks --%s" % o)
        check("--" + o in man, "man page lacks --%s" % o)
    for o in set(re.findall(r"--([a-z][a-z-]+)", man)):
        check(o in opts, "man page documents --%s, which --help lacks" % o)


def test_exit_statuses_in_step(tmp):
    _, text = help_options()
    codes = set(re.findall(r"^\s+(\d+)\s", text.split("exit status:")[1], re.M))
    readme = open(os.path.join(TOP, "README")).read().split("Exit status")[1]
    man = open(os.path.join(TOP, "kahua-restarter.1")).read().split(".SH EXIT STATUS")[1]
    for c in codes:
        check(re.search(r"^\s+%s[\s+]" % c, readme, re.M), "README lacks exit status %s" % c)
        check(re.search(r"^\.B %s(\+N)?$" % c, man, re.M), "man page lacks exit status %s" % c)


def test_every_command_documented(tmp):
    _, text = help_options()
    man = open(os.path.join(TOP, "kahua-restarter.1")).read()
    readme = open(os.path.join(TOP, "README")).read()
    for c in ("restart", "status", "check", "history", "census", "sweep"):
        check(re.search(r"\b%s\b" % c, text.split("options:")[0]), "--help lacks the %s command" % c)
        check(re.search(r"^\.BR? %s\b" % c, man, re.M), "man page COMMANDS lacks %s" % c)
        check(c in readme.split("Usage")[1].split("Commands:")[0], "README usage lacks %s" % c)
