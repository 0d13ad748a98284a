#!/usr/bin/env bash
# Builds the Debian packages qbd-dkms, qbd-tools and qbd-server with
# "dpkg-buildpackage -us -uc -b" in a copy of the tree under $TMPDIR (what
# git tracks, and new files it does not ignore), so that the tree stays
# clean: nothing is written under debian/ or beside the checkout.
#
#   build-deb.sh OUTDIR     the .deb, .buildinfo and .changes files land in
#                           OUTDIR (make deb: build/deb), with the build's
#                           log in OUTDIR/build.log
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)

die() {
	echo "build-deb.sh: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: build-deb.sh OUTDIR"
mkdir -p "$1"
out=$(cd "$1" && pwd)
command -v dpkg-buildpackage >/dev/null || die "dpkg-buildpackage is missing: apt-get install dpkg-dev"
"$top/scripts/version.sh" check || die "fix the versions first"
version=$(tr -d '[:space:]' <"$top/VERSION")

work=$(mktemp -d "${TMPDIR:-/tmp}/qbd-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/qbd-$version
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked files as they are now (deleted ones left out) and new ones.
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -C "$src" -xf -
else
	tar -C "$top" --exclude=./build --exclude='./build-*' --exclude='*.o' --exclude='*.ko' -cf - . |
		tar -C "$src" -xf -
fi

start=$SECONDS
log=$out/build.log
echo "build-deb.sh: dpkg-buildpackage -us -uc -b in $src (log: $log)"
# Not the calling make's flags (make -s would hide the compiler's command
# lines from the log) nor its job server.
if ! (cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b -j"$(nproc)") \
	>"$log" 2>&1; then
	tail -n 40 "$log"
	die "dpkg-buildpackage failed: see $log"
fi
rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out/"
echo "build-deb.sh: built in $((SECONDS - start)) s:"
ls -1 "$out"/*.deb
