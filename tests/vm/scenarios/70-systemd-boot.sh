#!/bin/bash
# A host booted by systemd as PID 1 (run.sh boots this one alone, with
# qbd.init=systemd; tests/vm/systemd-prep.sh installs qbd as its packages
# install it): qbd-server is started by its unit; qbd-mapall.service maps
# the volume of /etc/qbd/map.conf at boot, loading the module itself; the
# ext4 on it, an fstab entry with _netdev on /dev/qbd/pool/data, is
# mounted at boot; the driver's remap request (the server answers its first
# write stale: --fault stale-once, in a drop-in) is served by the
# qbd-remap@ unit that 61-qbd-remap.rules starts from the real
# systemd-udevd.service.  At shutdown the file system is unmounted before
# the volume is unmapped, and both happen while the network and the local
# qbd-server are still up (checked as qbd-mapall.service stops).
#   70-systemd-boot.sh prepare         in the guest root, before systemd
#   70-systemd-boot.sh check           as qbd-test.service, once booted
#   70-systemd-boot.sh shutdown-check  qbd-mapall.service's ExecStopPost
# init: systemd
# once: systemd, the units and the rules, userspace; the driver's map and remap are in every lane
# timeout: 300
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mnt=/mnt/qbd-data

# The verdicts for the shutdown hook: "check=N" in the first sector of the
# scratch disk, "shutdown=N" in the second.
verdict() {
	printf '%s=%d\n' "$1" "$2" | dd of=/dev/vda bs=512 seek="$3" conv=notrunc,fsync status=none
}
failed=0
# case_check NAME COMMAND...: one sub-case, as the harness counts them.
case_check() {
	local name=$1
	shift
	if "$@"; then
		echo "QBDTEST CASE PASS $name"
	else
		echo "QBDTEST CASE FAIL $name"
		failed=1
	fi
}
wait_for() {
	local secs=$1
	shift
	for _ in $(seq "$((secs * 5))"); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

prepare() {
	set -e
	ip link set lo up
	# A volume with an ext4 and a file, made with the installed tools and
	# the shipped server configuration before the boot.
	qbd-server init --config /etc/qbd/qbd-server.conf
	qbd-server serve --config /etc/qbd/qbd-server.conf >/tmp/prep-server.log 2>&1 &
	local pid=$!
	wait_for 30 bash -c 'exec 3<>/dev/tcp/127.0.0.1/7800' 2>/dev/null
	qbd-server create pool/data 64M --server 127.0.0.1:7800 >/dev/null
	mkdir -p /etc/qbd "$mnt"
	echo "servers = 127.0.0.1:7800" >/etc/qbd/qbd.conf
	# Before the root is switched to, the kernel cannot load modules on
	# demand (its modprobe helper sees the initramfs): ext4 by hand.
	modprobe -a qbd ext4
	local dev
	dev=$(qbd -m pool/data --no-wait)
	mkfs.ext4 -q -F "$dev"
	mount "$dev" "$mnt"
	head -c 1M /dev/urandom >/var/tmp/qbd-data.bin
	cp /var/tmp/qbd-data.bin "$mnt/data.bin"
	umount "$mnt"
	qbd -u pool/data
	modprobe -r qbd
	kill "$pid"
	wait "$pid" || true
	# What the boot finds: the volume in map.conf, its file system in
	# fstab (by the udev link, _netdev), and the test's two drop-ins.
	echo "pool/data" >/etc/qbd/map.conf
	echo "/dev/qbd/pool/data $mnt ext4 _netdev 0 2" >/etc/fstab
	mkdir -p /etc/systemd/system/qbd-server.service.d /etc/systemd/system/qbd-mapall.service.d
	cat >/etc/systemd/system/qbd-server.service.d/qbd-test.conf <<'CONF'
[Service]
ExecStart=
ExecStart=/usr/sbin/qbd-server serve --config /etc/qbd/qbd-server.conf --fault stale-once
CONF
	cat >/etc/systemd/system/qbd-mapall.service.d/qbd-test.conf <<'CONF'
[Service]
ExecStopPost=/usr/local/libexec/qbd-test/scenario shutdown-check
CONF
}

server_by_unit() {
	[ "$(systemctl is-active qbd-server.service)" = active ] || return 1
	local pid
	pid=$(systemctl show -p MainPID --value qbd-server.service)
	echo "qbd-server: pid $pid, user $(ps -o user= -p "$pid")"
	[ "$(ps -o user= -p "$pid")" != root ]
}
mapped_at_boot() {
	[ "$(systemctl is-active qbd-mapall.service)" = active ] && [ -b /dev/qbd/pool/data ]
}
mounted_at_boot() {
	[ "$(readlink -f "$(findmnt -n -o SOURCE "$mnt")")" = "$(readlink -f /dev/qbd/pool/data)" ] &&
		cmp -s "$mnt/data.bin" /var/tmp/qbd-data.bin
}
# From the journal: a oneshot unit that finished is unloaded, and then
# "systemctl show" knows nothing of it.
remap_ran() {
	local said
	said=$(journalctl -q -o cat -u qbd-remap@qbd0.service)
	grep -q "Finished qbd-remap@qbd0.service" <<<"$said" && ! grep -q "Failed" <<<"$said"
}
remap_served() {
	[ "$(systemctl is-active systemd-udevd.service)" = active ] || return 1
	journalctl -q -u qbd-server.service | grep -q "answering a request stale" || return 1
	wait_for 30 remap_ran || {
		journalctl -q --no-pager -u qbd-remap@qbd0.service
		return 1
	}
}

check() {
	exec >/dev/console 2>&1
	case_check server-by-unit server_by_unit
	case_check mapped-at-boot mapped_at_boot
	case_check fstab-mounted-at-boot mounted_at_boot
	case_check remap-by-unit remap_served
	systemctl --no-pager list-units 'qbd*' "$(systemd-escape -p --suffix=mount "$mnt")"
	verdict check "$failed" 0
}

# As qbd-mapall.service stops (qbd -U has run): the file system was
# unmounted first, the volume is unmapped now, and the network and the
# server it needs are still up.
shutdown_check() {
	exec >/dev/console 2>&1
	case_check shutdown-unmounted-before-unmap bash -c "! findmnt '$mnt' >/dev/null"
	case_check shutdown-unmapped bash -c '! ls -d /sys/block/qbd[0-9]* 2>/dev/null'
	case_check shutdown-server-still-up \
		bash -c '[ "$(systemctl is-active qbd-server.service)" = active ]'
	case_check shutdown-network-still-up \
		bash -c '[ "$(systemctl is-active network-online.target)" = active ]'
	verdict shutdown "$failed" 1
}

case ${1:-} in
prepare) prepare ;;
check) check ;;
shutdown-check) shutdown_check ;;
*)
	echo "70-systemd-boot.sh: runs under systemd (tests/vm/run.sh boots it so)" >&2
	exit 2
	;;
esac
