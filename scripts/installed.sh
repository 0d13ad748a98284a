#!/usr/bin/env bash
# What "make install" put in place, and "make uninstall" taking it away.
#
#   installed.sh record BUILD KVER      after make install: BUILD/qbd-installed.txt lists,
#                                       relative to DESTDIR, cmake's install_manifest.txt
#                                       and the modules installed for KVER
#   installed.sh uninstall BUILD KVER   removes each listed file from DESTDIR
#
# DESTDIR comes from the environment (empty: the running system).  On
# uninstall, a configuration file changed since it was installed is kept
# and named; directories left empty are removed: every one up to DESTDIR
# when DESTDIR is set, only qbd's own (named after it) on the running
# system.  Without DESTDIR, depmod follows the module files both ways.
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)

die() {
	echo "installed.sh: $*" >&2
	exit 1
}

[ $# -eq 3 ] || die "usage: installed.sh record|uninstall BUILD KVER"
cmd=$1 build=$2 kver=$3
destdir=${DESTDIR:-}
destdir=${destdir%/}
case $destdir in
"" | /*) ;;
*) die "DESTDIR must be an absolute path, not '$destdir'" ;;
esac
list=$build/qbd-installed.txt

# Configuration files and the tree's copy they were installed from: one
# that differs from it was changed on the system and is kept.
declare -A shipped=([/etc/qbd/qbd-server.conf]=server/qbd-server.conf)

record() {
	local manifest=$build/install_manifest.txt p f
	[ -r "$manifest" ] || die "no $manifest: run make install first"
	{
		# CMake 3.25 lists the paths without DESTDIR, older ones with it;
		# its last line has no line end.
		while read -r p || [ -n "$p" ]; do
			[ -n "$p" ] || continue
			if [ -n "$destdir" ] && [[ $p == "$destdir"/* ]]; then
				p=${p#"$destdir"}
			fi
			[[ $p == /* ]] || die "$manifest names '$p', not an absolute path"
			echo "$p"
		done <"$manifest"
		for f in "$destdir/lib/modules/$kver/updates/"qbd.ko* "$destdir/lib/modules/$kver/updates/"qbd_rdma.ko*; do
			[ -e "$f" ] && echo "${f#"$destdir"}"
		done
	} | sort -u >"$list.new"
	mv "$list.new" "$list"
	# kbuild skips depmod without the kernel's System.map: modprobe
	# would not find the new modules.
	if [ -z "$destdir" ] && grep -q '^/lib/modules/' "$list"; then
		depmod -a "$kver"
	fi
}

uninstall() {
	local p f modules=0 dirs=() d
	[ -r "$list" ] || die "no $list: nothing was installed from $build (make install first)"
	while read -r p || [ -n "$p" ]; do
		[ -n "$p" ] || continue
		f=$destdir$p
		dirs+=("$(dirname "$f")")
		[ -e "$f" ] || [ -L "$f" ] || continue
		if [ -n "${shipped[$p]:-}" ] && ! cmp -s "$f" "$top/${shipped[$p]}"; then
			echo "installed.sh: kept $f: changed since it was installed"
			continue
		fi
		rm -f "$f"
		case $p in /lib/modules/*) modules=1 ;; esac
	done <"$list"
	# Deepest first, so a parent is tried once its children are gone.
	while read -r d; do
		while [ -n "$d" ] && [ "$d" != "$destdir" ] && [ "$d" != / ]; do
			if [ -z "$destdir" ] && [[ $(basename "$d") != *qbd* ]]; then
				break
			fi
			rmdir "$d" 2>/dev/null || break
			d=$(dirname "$d")
		done
	done < <(printf '%s\n' "${dirs[@]}" | sort -u | awk '{ print gsub("/", "/"), $0 }' | sort -rn | cut -d' ' -f2-)
	if [ -z "$destdir" ] && [ $modules -eq 1 ] && [ -d "/lib/modules/$kver" ]; then
		depmod -a "$kver"
	fi
}

case $cmd in
record) record ;;
uninstall) uninstall ;;
*) die "usage: installed.sh record|uninstall BUILD KVER" ;;
esac
