#!/bin/sh
# deb.sh OUTDIR -- build the Debian package from a clean copy of the
# source tree under OUTDIR, so the tree itself gets no build products, and
# check it with lintian (errors and warnings fail; the justified ones are
# in debian/*.lintian-overrides).
set -eu
out=${1:-build/deb}
top=$(pwd)
version=$(dpkg-parsechangelog -S Version)
src="$out/kahua-restarter-$version"

for tool in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "kahua-restarter: make deb: no $tool: apt-get install dpkg-dev debhelper lintian fakeroot" >&2
		exit 1
	}
done
rm -rf "$src" "$out"/kahua-restarter_*
mkdir -p "$src"
# The files of the tree (tracked, and new ones not ignored); a tree
# without git (an unpacked tarball) is copied minus its build products.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		(cd "$top" && tar -cf - --null --no-recursion -T -) | tar -xf - -C "$src"
else
	tar -cf - --exclude=./build --exclude='*.o' --exclude='*.a' . | tar -xf - -C "$src"
fi
(cd "$src" && dpkg-buildpackage -us -uc -b >../build.log 2>&1) || {
	echo "kahua-restarter: make deb: dpkg-buildpackage failed; the log is $out/build.log:" >&2
	tail -n 20 "$out/build.log" >&2
	exit 1
}
deb=$(ls "$out"/kahua-restarter_"$version"_*.deb)
lintian --fail-on error,warning "$out"/kahua-restarter_"$version"_*.changes >"$out/lintian.log" 2>&1 || {
	echo "kahua-restarter: make deb: lintian found problems in $deb:" >&2
	cat "$out/lintian.log" >&2
	exit 1
}
echo "$deb"
