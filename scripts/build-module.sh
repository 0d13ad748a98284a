#!/usr/bin/env bash
# Builds qbd.ko and qbd_rdma.ko for one kernel of the matrix
# (scripts/kernel.sh) in a copy of the sources under build/kernels/, so
# that the modules of several kernels live side by side and the checkout's
# own module/ stays as "make" left it.  W=1; any compiler warning fails.
#
#   build-module.sh SERIES|RELEASE [KDIR]     prints the directory of the .ko files
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: build-module.sh SERIES|RELEASE [KDIR]" >&2; exit 2; }
rel=$("$top/scripts/kernel.sh" release "$1")
kdir=${2:-$("$top/scripts/kernel.sh" kdir "$rel")}
name=$rel
[ $# -ge 2 ] && name=$rel-$(echo "$kdir" | sha256sum | cut -c1-8)
out=$top/build/kernels/$name
mkdir -p "$out"
# Sources refreshed in place: kbuild rebuilds only what changed.
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' --exclude='*.mod*' \
	--exclude=linux/probed.h --exclude=Module.symvers --exclude=modules.order \
	--exclude=probe.log "$top/module/" "$out/module/"
cp -r "$top/include" "$top/VERSION" "$out/"
log=$out/build.log
if ! make -C "$out/module" KDIR="$kdir" >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-module.sh: building for $rel failed" >&2
	exit 1
fi
# Compiler and modpost warnings; kbuild's notes (a pahole version) are not.
if grep -E '^[^ ]+:[0-9]+(:[0-9]+)?: (warning|error):|^WARNING: modpost' "$log" >&2; then
	echo "build-module.sh: warnings building for $rel" >&2
	exit 1
fi
echo "$out/module"
