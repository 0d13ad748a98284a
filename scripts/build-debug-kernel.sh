#!/usr/bin/env bash
# Builds the qbd debug kernel from Debian's source of the newest kernel of
# the matrix (scripts/kernel.sh; 7.3 from trixie-backports), so that the
# newest interfaces run under the checkers: tinyconfig
# plus tests/kernel/debug.config (KUnit, KASAN, lockdep, kmemleak, fault
# injection, and what the guest harness needs built in).  The result is
# cached outside the checkout, keyed by the source tarball and the config
# fragment, so it is built once per machine.  Prints the cache directory,
# which holds bzImage, the build tree (for building qbd.ko against it) and
# modules under lib/modules.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${QBD_CACHE:-/var/cache/qbd}
series=${QBD_DEBUG_KERNEL:-7.3}
tarball=$("$top/scripts/kernel.sh" tarball "$series")
# Content only: the same kernel serves every checkout, wherever it lies.
key=$( (sha256sum <"$tarball" | cut -c1-16; sha256sum <"$top/tests/kernel/debug.config") | sha256sum | cut -c1-12)
out=$cache/debug-kernel-$key
if [ -e "$out/done" ]; then
	echo "$out"
	exit 0
fi
mkdir -p "$cache"
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
echo "build-debug-kernel: building in $out.tmp (a few minutes)" >&2
tar -C "$out.tmp" -xf "$tarball"
src=$out.tmp/$(basename "$tarball" .tar.xz)
log=$out.tmp/build.log
run() {
	"$@" >>"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		echo "build-debug-kernel: failed: $*" >&2
		exit 1
	}
}
run make -C "$src" tinyconfig
run "$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$top/tests/kernel/debug.config"
run make -C "$src" olddefconfig
# Fail loudly if a checker did not make it into the config.
for opt in KUNIT KASAN PROVE_LOCKING DEBUG_KMEMLEAK FAILSLAB FAIL_MAKE_REQUEST FAIL_IO_TIMEOUT 9P_FS OVERLAY_FS VIRTIO_PCI; do
	grep -q "^CONFIG_$opt=y" "$src/.config" || { echo "build-debug-kernel: CONFIG_$opt missing" >&2; exit 1; }
done
run make -C "$src" -j"$(nproc)" bzImage modules
run make -C "$src" INSTALL_MOD_PATH="$out.tmp" modules_install
cp "$src/arch/x86/boot/bzImage" "$out.tmp/bzImage"
ln -s "$(basename "$tarball" .tar.xz)" "$out.tmp/build"
echo "$series" >"$out.tmp/series"
touch "$out.tmp/done"
rm -rf "$out"
mv "$out.tmp" "$out"
# The build tree's absolute paths moved with it; kbuild only needs them
# relative, which M= builds resolve from KDIR.
echo "$out"
