#!/bin/bash
# qbd -m maps a qbd-server volume as /dev/qbdX with /dev/qbd/<pool>/<volume>,
# sysfs attributes, a /proc/qbdstat line and qbd -l/-i entries; data written
# across a shard boundary reads back; the connection threads run on their
# hardware queue's CPUs; mapping twice, a missing volume or an
# unreachable server fails clearly and leaves nothing behind; unmap waits
# for a brief opener, names one that stays, and removes the device and its
# link.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool1/vol1 64M --shard-size 16M

# rdma:// is refused clearly and never silently served over TCP.
expect_fail "$QBD" -m rdma://pool1/vol1 2>/tmp/err
grep -q "no RDMA transport" /tmp/err || die "rdma:// refused without a clear message: $(cat /tmp/err)"
[ -z "$(ls /sys/block | grep qbd)" ] || die "a refused rdma map left a device"
dev=$("$QBD" -m pool1/vol1)
[ -b "$dev" ] || die "map printed $dev, not a block device"
[ "$(dev_of pool1/vol1)" = "$dev" ] || die "/dev/qbd/pool1/vol1 does not point at $dev"
name=$(basename "$dev")
[ "$(cat "/sys/block/$name/qbd/pool")" = pool1 ] || die "sysfs pool"
[ "$(cat "/sys/block/$name/qbd/volume")" = vol1 ] || die "sysfs volume"
[ "$(cat "/sys/block/$name/qbd/state")" = live ] || die "state is not live"
[ "$(blockdev --getsize64 "$dev")" = $((64 << 20)) ] || die "wrong size"
grep -q "^$name pool1/vol1 live " /proc/qbdstat || die "no /proc/qbdstat line"
"$QBD" -l | grep -q "pool1.*vol1" || die "qbd -l does not list the volume"
"$QBD" -l --json | jq -e '.devices[0].volume == "vol1"' >/dev/null || die "qbd -l --json"
"$QBD" -i pool1/vol1 | grep -q "active path:" || die "qbd -i shows no active path"

# 4 MiB straddling the boundary between shards 0 and 1.
head -c $((4 << 20)) /dev/urandom >/tmp/data
dd if=/tmp/data of="$dev" bs=1M seek=14 oflag=direct status=none
dd if="$dev" of=/tmp/back bs=1M skip=14 count=4 iflag=direct status=none
cmp /tmp/data /tmp/back || die "data read back differs"

# Each connection's send and receive threads run on the CPUs of their
# hardware queue, where the requests they serve are submitted.
threads=$(pgrep "^$name-[rs]" || true)
[ -n "$threads" ] || die "no connection threads named $name-r*/$name-s*"
for t in $threads; do
	comm=$(cat "/proc/$t/comm")
	want=0
	for cpu in $(tr -d ' ' <"/sys/block/$name/mq/${comm##*.}/cpu_list" | tr , ' '); do
		want=$((want | 1 << cpu))
	done
	got=$((16#$(taskset -p "$t" | sed 's/.*: //')))
	[ "$got" = "$want" ] || die "$comm may run on CPU mask $got, not its queue's $want"
done

expect_fail "$QBD" -m pool1/vol1 2>/tmp/err
grep -qi "already mapped" /tmp/err || die "no clear message for a second map: $(cat /tmp/err)"
expect_fail "$QBD" -m pool1/missing 2>/tmp/err
cat /tmp/err
[ "$(ls /sys/block | grep -c qbd)" = 1 ] || die "a failed map left a device"

# A process that keeps the disk open is named when the unmap gives up; one
# that has it open for a moment, as udev's probes do, is waited for.
sleep 60 <"$dev" &
holder=$!
expect_fail "$QBD" -u pool1/vol1 --timeout 1 2>/tmp/err
grep -q "is open by pid $holder (sleep)" /tmp/err ||
	die "a refused unmap does not name the holder: $(cat /tmp/err)"
kill "$holder"
wait "$holder" 2>/dev/null || true
(
	exec 3<"$dev"
	sleep 2
) &
holder=$!
sleep 0.5
"$QBD" -u pool1/vol1 || die "unmap did not wait for a brief opener to close"
wait "$holder"
[ ! -e "$dev" ] || die "$dev still there after unmap"
wait_for 30 test ! -e /dev/qbd/pool1/vol1 || die "link still there after unmap"
grep -q pool1 /proc/qbdstat && die "/proc/qbdstat still lists the volume"

# Unreachable server: refused connection fails within a bounded time.
write_conf 127.0.0.1:7899
start=$(date +%s)
expect_fail "$QBD" -m pool1/vol1 2>/tmp/err
cat /tmp/err
[ $(($(date +%s) - start)) -lt 30 ] || die "unreachable server took too long to fail"
[ -z "$(ls /sys/block | grep qbd)" ] || die "a failed map left a device"
