#!/usr/bin/env bash
# Packaging: "make install DESTDIR=..." puts the module, tools, udev rules,
# systemd units and man pages where a distribution would, and dkms builds
# and installs the module for the installed kernel from dkms.conf.
set -uo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
kver=$("$top/scripts/kernel.sh" release 6.1)
passed=0
failed=0
check() {
	local what=$1
	shift
	if "$@" >/tmp/qbd-packaging.log 2>&1; then
		passed=$((passed + 1))
	else
		tail -n 20 /tmp/qbd-packaging.log
		echo "FAIL packaging: $what"
		failed=$((failed + 1))
	fi
}

dest=$(mktemp -d)
check "make install" make -C "$top" -s install DESTDIR="$dest"
for f in "lib/modules/$kver/updates/qbd.ko" "lib/modules/$kver/updates/qbd_rdma.ko" usr/sbin/qbd usr/sbin/qbd-server \
	usr/lib/udev/rules.d/60-qbd.rules usr/lib/udev/rules.d/61-qbd-remap.rules \
	usr/lib/udev/rules.d/62-qbd-mapall.rules usr/lib/systemd/system/qbd-server.service \
	usr/lib/systemd/system/qbd-mapall.service "usr/lib/systemd/system/qbd-remap@.service" \
	usr/share/man/man8/qbd.8 \
	usr/share/man/man8/qbd-server.8 usr/share/man/man5/qbd.conf.5 etc/qbd/qbd-server.conf \
	usr/share/doc/qbd/examples/qbd-server.conf usr/share/bash-completion/completions/qbd \
	usr/share/bash-completion/completions/qbd-server; do
	check "installed $f" test -e "$dest/$f"
done
rm -rf "$dest"

# dkms for every kernel of the matrix, from a copy of the sources as dkms
# wants; a kernel that is not installed here gets its build tree from the
# cache (--kernelsourcedir) and its /lib/modules directory only for the test.
version=$(cat "$top/VERSION")
src=/usr/src/qbd-$version
dkms remove -m qbd -v "$version" --all >/dev/null 2>&1
rm -rf "$src"
mkdir -p "$src"
cp -r "$top/dkms.conf" "$top/module" "$top/include" "$top/VERSION" "$src/"
rm -f "$src"/module/*.o "$src"/module/*.ko "$src"/module/.*.cmd "$src"/module/linux/probed.h
check "dkms add" dkms add -m qbd -v "$version"
for series in $("$top/scripts/kernel.sh" list | awk '{print $1}'); do
	rel=$("$top/scripts/kernel.sh" release "$series")
	kdir=$("$top/scripts/kernel.sh" kdir "$rel")
	made=
	# dkms installs only onto a kernel whose module directory exists.
	[ -e "/lib/modules/$rel" ] || { made=1; mkdir -p "/lib/modules/$rel"; }
	check "dkms build $series" dkms build -m qbd -v "$version" -k "$rel" --kernelsourcedir "$kdir"
	check "dkms install $series" dkms install -m qbd -v "$version" -k "$rel" --kernelsourcedir "$kdir" --force
	check "dkms module in place $series" bash -c "find /lib/modules/$rel -name 'qbd.ko*' | grep -q updates"
	check "dkms RDMA module in place $series" bash -c "find /lib/modules/$rel -name 'qbd_rdma.ko*' | grep -q updates"
	check "dkms module is for $series" bash -c \
		"modinfo -F vermagic \$(find /lib/modules/$rel -name 'qbd.ko*' | head -n 1) | grep -q '^$rel '"
	dkms remove -m qbd -v "$version" -k "$rel" >/dev/null 2>&1
	[ -n "$made" ] && rm -rf "/lib/modules/$rel"
done
dkms remove -m qbd -v "$version" --all >/dev/null 2>&1
rm -rf "$src"
echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
