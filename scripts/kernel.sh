#!/usr/bin/env bash
# The kernels qbd supports, and where their build trees, images and modules
# are.  Debian 12's own 6.1 comes from the machine's packages
# (install-deps.sh); the others come from Debian's archive through a private
# apt configuration (never the machine's sources) and are unpacked with
# dpkg -x into a cache outside the checkout, once per machine.
#
#   kernel.sh list             the matrix: series, release, where it comes from
#   kernel.sh prepare          fetch and prepare every kernel of the matrix
#   kernel.sh release [K]      the release of series or release K (default: 6.1)
#   kernel.sh kdir K           a tree to build modules against (M=...)
#   kernel.sh image K          the kernel image a guest boots
#   kernel.sh modules K        the directory the guest mounts at /lib/modules
#   kernel.sh source K         the prepared source tree (checkpatch)
#   kernel.sh tarball K        the pristine source tarball (the debug kernel)
#
# Adding a kernel: a line in the matrix below with its suite and the
# packages that carry it; "headers" unpacks Debian's headers and kbuild,
# "source" prepares a tree from linux-source with this machine's compiler
# (for kbuild binaries that need a newer glibc than Debian 12's).
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cache=${QBD_CACHE:-/var/cache/qbd}

# series  release               suite              how
matrix="6.1   system                bookworm           system
6.12  6.12.95+deb12-amd64   bookworm-backports headers
7.3   7.3.4+deb13-amd64     trixie-backports   source"

die() {
	echo "kernel.sh: $*" >&2
	exit 1
}

# Debian 12's own 6.1: the newest 6.1 release whose headers and image are
# both installed.  Only 6.1: other kernels' headers installed on the
# machine do not change what the default kernel is.
system_release() {
	local d rel best=""
	for d in /usr/src/linux-headers-6.1.*-amd64; do
		[ -d "$d" ] || continue
		rel=${d#/usr/src/linux-headers-}
		[ -e "/boot/vmlinuz-$rel" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$rel" | sed '/^$/d' | sort -V | tail -n 1)
	done
	[ -n "$best" ] || die "no linux-headers-6.1.*-amd64 with a matching linux-image: run scripts/install-deps.sh"
	echo "$best"
}

# The matrix row of a series or release: "series release suite how".
row() {
	local k=$1 series rel suite how
	while read -r series rel suite how; do
		[ "$rel" = system ] && rel=$(system_release)
		if [ "$k" = "$series" ] || [ "$k" = "$rel" ]; then
			echo "$series $rel $suite $how"
			return 0
		fi
	done <<<"$matrix"
	return 1
}

resolve() {
	row "$1" || die "$1 is not a supported kernel; supported: $(awk '{printf "%s ", $1}' <<<"$matrix")"
}

apt_private() {
	local conf=$cache/apt
	mkdir -p "$conf/lists/partial" "$conf/archives/partial" "$conf/debs"
	if [ ! -e "$conf/sources.list" ]; then
		local s
		for s in bookworm-backports trixie-backports; do
			echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $s main"
		done >"$conf/sources.list"
	fi
	local opts=(-o "Dir::Etc::sourcelist=$conf/sources.list" -o Dir::Etc::sourceparts=-
		-o "Dir::State::Lists=$conf/lists" -o "Dir::Cache=$conf" -o "Dir::Cache::archives=$conf/archives"
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root -q)
	if [ ! -e "$conf/updated" ]; then
		apt-get "${opts[@]}" update >&2 || die "apt-get update of the private sources failed"
		touch "$conf/updated"
	fi
	(cd "$conf/debs" && apt-get "${opts[@]}" download "$@" >&2) || die "apt-get download $* failed"
}

# Unpack packages into $1 (a root), fetching the missing ones.
unpack() {
	local root=$1 p deb
	shift
	for p in "$@"; do
		deb=$(ls "$cache/apt/debs/${p}_"*.deb 2>/dev/null | head -n 1 || true)
		if [ -z "$deb" ]; then
			apt_private "$p"
			deb=$(ls "$cache/apt/debs/${p}_"*.deb | head -n 1)
		fi
		dpkg -x "$deb" "$root"
	done
}

# Debian's headers and kbuild, unpacked under $dir/root with the absolute
# include of the common Makefile pointed into the cache; modules indexed.
prepare_headers() {
	local rel=$1 dir=$2 abi=${1%-amd64}
	local root=$dir.tmp/root
	rm -rf "$dir.tmp"
	mkdir -p "$root"
	echo "kernel.sh: fetching and unpacking $rel" >&2
	unpack "$root" "linux-headers-$rel" "linux-headers-$abi-common" "linux-kbuild-$abi" \
		"linux-image-$rel-unsigned"
	sed -i "s|include /usr/src/|include $dir/root/usr/src/|" "$root/usr/src/linux-headers-$rel/Makefile"
	depmod -b "$root" "$rel"
	mv "$dir.tmp" "$dir"
	ln -sfn "root/usr/src/linux-headers-$rel" "$dir/build"
	ln -sfn "root/boot/vmlinuz-$rel" "$dir/vmlinuz"
	ln -sfn root/lib/modules "$dir/modules"
}

# linux-source with Debian's config for $rel, prepared for module builds
# by this machine's gcc; Module.symvers from Debian's headers.
prepare_source() {
	local rel=$1 dir=$2 abi=${1%-amd64} series=$3
	local root=$dir.tmp/root
	rm -rf "$dir.tmp"
	mkdir -p "$root"
	echo "kernel.sh: fetching and preparing $rel from linux-source-$series (a few minutes)" >&2
	unpack "$root" "linux-source-$series" "linux-headers-$rel" "linux-headers-$abi-common"
	local tarball src log=$dir.tmp/prepare.log
	tarball=$(ls "$root/usr/src/linux-source-$series.tar."* | head -n 1)
	tar -C "$dir.tmp" -xf "$tarball"
	mv "$tarball" "$dir.tmp/"
	src=$dir.tmp/linux-source-$series
	cp "$root/usr/src/linux-headers-$rel/.config" "$src/.config"
	cp "$root/usr/src/linux-headers-$rel/Module.symvers" "$src/Module.symvers"
	# Debian's config asks for module signing with its own key and BTF
	# built by pahole; neither matters for a module built only to be checked.
	"$src/scripts/config" --file "$src/.config" --set-str LOCALVERSION "" \
		--disable MODULE_SIG_ALL --set-str MODULE_SIG_KEY "" --set-str SYSTEM_TRUSTED_KEYS "" \
		--disable DEBUG_INFO_BTF --disable DEBUG_INFO_BTF_MODULES
	{
		make -C "$src" olddefconfig &&
			make -C "$src" -j"$(nproc)" KERNELRELEASE="$rel" modules_prepare
	} >"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		die "preparing $src failed"
	}
	echo "$rel" >"$dir.tmp/release"
	rm -rf "$root"
	mv "$dir.tmp" "$dir"
	ln -sfn "linux-source-$series" "$dir/build"
	ln -sfn "linux-source-$series" "$dir/source"
}

# The cache directory of a release, prepared on first use.
kernel_dir() {
	local series rel suite how
	read -r series rel suite how <<<"$(resolve "$1")"
	local dir=$cache/kernels/$rel
	[ -e "$dir/build" ] && { echo "$dir"; return; }
	mkdir -p "$cache/kernels"
	case $how in
	headers) prepare_headers "$rel" "$dir" ;;
	source) prepare_source "$rel" "$dir" "$series" ;;
	*) die "$rel: unknown preparation $how" ;;
	esac
	echo "$dir"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
list)
	while read -r series rel suite how; do
		[ "$rel" = system ] && rel=$(system_release 2>/dev/null || echo "6.1.0-*-amd64")
		printf '%-5s %-24s %-19s %s\n' "$series" "$rel" "$suite" "$how"
	done <<<"$matrix"
	;;
release)
	read -r _ rel _ _ <<<"$(resolve "${1:-6.1}")"
	echo "$rel"
	;;
prepare)
	while read -r series rel suite how; do
		[ "$how" = system ] || kernel_dir "$series" >/dev/null
	done <<<"$matrix"
	;;
kdir | image | modules | source | tarball)
	[ $# -eq 1 ] || die "usage: kernel.sh $cmd SERIES|RELEASE"
	read -r series rel suite how <<<"$(resolve "$1")"
	if [ "$how" = system ]; then
		case $cmd in
		kdir) echo "/lib/modules/$rel/build" ;;
		image) echo "/boot/vmlinuz-$rel" ;;
		modules) echo /lib/modules ;;
		source | tarball) die "$rel: the debug kernel and checkpatch use the newest series" ;;
		esac
		exit 0
	fi
	dir=$(kernel_dir "$rel")
	case $cmd in
	kdir) readlink -f "$dir/build" ;;
	source) [ -e "$dir/source" ] || die "$rel has no source tree here"; readlink -f "$dir/source" ;;
	tarball) ls "$dir"/linux-source-*.tar.* 2>/dev/null | head -n 1 | grep . || die "$rel has no source tarball here" ;;
	image) [ -e "$dir/vmlinuz" ] || die "$rel has no kernel image here (only a build tree)"; readlink -f "$dir/vmlinuz" ;;
	modules) [ -e "$dir/modules" ] || die "$rel has no modules here"; readlink -f "$dir/modules" ;;
	esac
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
