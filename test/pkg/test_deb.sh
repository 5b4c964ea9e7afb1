#!/bin/sh
# test_deb.sh -- build the Debian package (scripts/deb.sh, lintian
# included), install it for real on this machine with apt-get, check that
# it runs and that its files are where Debian puts them, with no unit
# enabled, then purge it and check that nothing of it is left.
#
# Needs root; without it, or when a kahua-restarter package is already
# installed here (this test would remove it), it says so in one line and
# exits 77 (skipped).
set -u
cd "$(dirname "$0")/../.."
out=build/deb
pkg=kahua-restarter
doc=/usr/share/doc/$pkg
files="/usr/bin/$pkg /usr/share/man/man1/$pkg.1.gz
/lib/systemd/system/$pkg@.service /lib/systemd/system/$pkg@.timer
$doc/README.gz $doc/kahua.md.gz $doc/copyright $doc/examples/crontab.example
$doc/examples/prometheus/$pkg.rules.yml $doc/examples/ansible/kahua-restart.yml"

if [ "$(id -u)" -ne 0 ]; then
	echo "check: debian package skipped: installing it needs root"
	exit 77
fi
# The package is installed machine-wide: two suites running at once (two
# clones, two CI jobs on one host) would remove it under each other.
exec 9>/var/lock/kahua-restarter-test-deb.lock
if ! flock -w 900 9; then
	echo "FAIL another test_deb.sh held /var/lock/kahua-restarter-test-deb.lock for 15 minutes"
	exit 1
fi
if dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'installed'; then
	echo "check: debian package skipped: $pkg is installed on this machine and the test would remove it"
	exit 77
fi

failures=0
fail() {
	echo "FAIL $*"
	failures=$((failures + 1))
}
ok() {
	echo "ok   $*"
}
purge() {
	apt-get purge -y -qq -o DPkg::Lock::Timeout=300 "$pkg" >/dev/null 2>&1
}

deb=$(sh scripts/deb.sh "$out") || exit 1
ok "built and lintian-clean: $deb"
trap purge EXIT

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "$(pwd)/$deb" >"$out/install.log" 2>&1; then
	cat "$out/install.log"
	fail "apt-get install $deb"
	exit 1
fi
ok "installed with apt-get"

v=$(/usr/bin/$pkg --version) && [ "$v" = "$pkg $(dpkg-parsechangelog -S Version)" ] &&
	ok "--version: $v" || fail "--version printed '$v'"
m=$(man -w $pkg 2>&1) && [ "$m" = "/usr/share/man/man1/$pkg.1.gz" ] &&
	ok "man -w: $m" || fail "man -w $pkg: $m"
before=$failures
for f in $files; do
	[ -f "$f" ] || fail "not installed: $f"
	dpkg -S "$f" >/dev/null 2>&1 || fail "not owned by the package: $f"
done
[ "$failures" -eq "$before" ] && ok "files in place and owned by $pkg"
grep -q "^ExecStart=/usr/bin/$pkg -S %f$" /lib/systemd/system/$pkg@.service &&
	grep -q "/usr/bin/$pkg" $doc/examples/crontab.example &&
	! grep -rq /usr/local/bin /lib/systemd/system/$pkg@.service $doc/examples/crontab.example &&
	ok "unit and cron example name /usr/bin/$pkg" || fail "unit or cron example does not name /usr/bin/$pkg"
enabled=$(find /etc/systemd/system -name "$pkg*" 2>/dev/null)
[ -z "$enabled" ] && ok "no unit enabled" || fail "units enabled on install: $enabled"
dpkg-query -W -f '${Depends}' $pkg | grep -q 'libcurl4' &&
	ok "depends on libcurl4 (dlopen()ed)" || fail "Depends lacks libcurl4"

purge || fail "apt-get purge $pkg"
trap - EXIT
dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'installed' && fail "$pkg still installed after purge"
for f in $files; do
	[ ! -e "$f" ] || fail "left after purge: $f"
done
[ ! -d $doc ] || fail "left after purge: $doc"
man -w $pkg >/dev/null 2>&1 && fail "man page still found after purge"
[ "$failures" -eq 0 ] && ok "purged: nothing left"

echo "debian package: $failures failed"
[ "$failures" -eq 0 ]
