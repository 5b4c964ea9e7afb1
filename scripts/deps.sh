#!/bin/sh
# Install the Debian packages the build and the tests need, when missing.
# As root it runs apt-get; otherwise it says exactly what to install.
# KR_DEPS_BUILD=1: only what building the program needs (plain `make`).
set -u

PKG_CONFIG=${PKG_CONFIG:-pkg-config}
missing=""
need() { # need PACKAGE TEST-COMMAND...
	pkg=$1; shift
	"$@" >/dev/null 2>&1 || missing="$missing $pkg"
}
need pkg-config command -v "$PKG_CONFIG"
need gcc command -v "${CC:-cc}"
need libcurl4-openssl-dev "$PKG_CONFIG" --exists libcurl
need libcjson-dev "$PKG_CONFIG" --exists libcjson
if [ -z "${KR_DEPS_BUILD:-}" ]; then
	need make command -v make
	need python3 command -v python3
	need libcmocka-dev "$PKG_CONFIG" --exists cmocka
fi
[ -z "${KR_DEPS_EXTRA:-}" ] || for p in $KR_DEPS_EXTRA; do
	need "$p" dpkg -s "$p"
done

[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "kahua-restarter: missing build dependencies: run as root: apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "kahua-restarter: apt-get update failed" >&2; exit 1; }
# Installed packages must start no service (prometheus, node_exporter:
# the tests start their own on private ports): a policy-rc.d for the
# install, unless the machine has one, and their services disabled after.
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && made_policy=1
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
rc=$?
[ -z "$made_policy" ] || rm -f "$policy"
[ "$rc" -eq 0 ] || { echo "kahua-restarter: apt-get install$missing failed" >&2; exit 1; }
for svc in prometheus prometheus-node-exporter; do
	case " $missing " in
	*" $svc "*)
		systemctl disable --quiet "$svc.service" >/dev/null 2>&1 ||
			update-rc.d "$svc" disable >/dev/null 2>&1
		[ ! -d /run/systemd/system ] || systemctl stop "$svc.service" >/dev/null 2>&1 ;;
	esac
done
exit 0
