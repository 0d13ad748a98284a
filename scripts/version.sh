#!/usr/bin/env bash
# VERSION is qbd's one version; debian/changelog and dkms.conf repeat it
# because dpkg and dkms read them as they are.  This keeps the three equal.
#
#   version.sh check          exit 0 when they agree; else say which differs, exit 1
#   version.sh set X.Y.Z      write X.Y.Z into VERSION and dkms.conf, and a new
#                             debian/changelog entry for it
#
# debian/rules and "make deb" check before building, and
# tests/suites/debian-packages.sh checks too.
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)

die() {
	echo "version.sh: $*" >&2
	exit 1
}

version() { tr -d '[:space:]' <"$top/VERSION"; }
changelog_version() { sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$top/debian/changelog"; }
dkms_version() { sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$top/dkms.conf"; }

check() {
	local v bad=0
	v=$(version)
	[ -n "$v" ] || die "VERSION is empty"
	if [ "$(changelog_version)" != "$v" ]; then
		echo "version.sh: debian/changelog's first entry is '$(changelog_version)', VERSION is '$v':" \
			"run scripts/version.sh set $v" >&2
		bad=1
	fi
	if [ "$(dkms_version)" != "$v" ]; then
		echo "version.sh: dkms.conf's PACKAGE_VERSION is '$(dkms_version)', VERSION is '$v':" \
			"run scripts/version.sh set $v" >&2
		bad=1
	fi
	return $bad
}

set_version() {
	local v=$1 maintainer
	[[ $v =~ ^[0-9]+(\.[0-9]+)*$ ]] || die "'$v' is not a version such as 1.2.3"
	echo "$v" >"$top/VERSION"
	sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$v\"/" "$top/dkms.conf"
	if [ "$(changelog_version)" != "$v" ]; then
		maintainer=$(sed -n 's/^Maintainer: //p' "$top/debian/control")
		{
			printf 'qbd (%s) unstable; urgency=medium\n\n  * Version %s.\n\n -- %s  %s\n\n' \
				"$v" "$v" "$maintainer" "$(LC_ALL=C date -R)"
			cat "$top/debian/changelog"
		} >"$top/debian/changelog.new"
		mv "$top/debian/changelog.new" "$top/debian/changelog"
	fi
	check
}

case ${1:-} in
check) check ;;
set)
	[ $# -eq 2 ] || die "usage: version.sh set X.Y.Z"
	set_version "$2"
	;;
*) die "usage: version.sh check | set X.Y.Z" ;;
esac
