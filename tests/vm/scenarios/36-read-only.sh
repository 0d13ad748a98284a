#!/bin/bash
# A read-only map refuses writes in the driver, not only at open(2): a
# device-mapper target opened on it (dm opens by device number, past the
# read-only check of open) sends writes that set_disk_ro() alone lets
# through.  The server also opens the volume read-only.
# timeout: 200
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
command -v dmsetup >/dev/null || skip "dmsetup is not installed"
modprobe dm-mod 2>/dev/null || skip "no dm-mod for this kernel"
trap '{ dmsetup remove --noudevsync qbdro 2>/dev/null || true; }; cleanup' EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/ro 16M
dev=$("$QBD" -m pool/ro)
head -c 65536 /dev/urandom >/tmp/before
dd if=/tmp/before of="$dev" bs=64k count=1 oflag=direct status=none
"$QBD" -u pool/ro
dev=$("$QBD" -m pool/ro -o read_only)
[ "$(cat "/sys/block/$(basename "$dev")/ro")" = 1 ] || die "the disk is not read-only"
expect_fail dd if=/dev/zero of="$dev" bs=4k count=1 oflag=direct status=none 2>/dev/null
grep -q "opened pool/ro read-only" /tmp/qbd-server-a.log || die "the server opened it read-write"
sectors=$(($(blockdev --getsize64 "$dev") / 512))
dmsetup create --noudevsync qbdro --table "0 $sectors linear $dev 0" ||
	die "dmsetup create failed"
dm=/dev/$(dmsetup info -c --noheadings -o blkdevname qbdro | tr -d ' ')
wait_for 10 test -b "$dm" || die "$dm did not appear"
expect_fail dd if=/dev/zero of="$dm" bs=4k count=1 oflag=direct status=none 2>/tmp/dd.err
cat /tmp/dd.err
dmesg >/tmp/dmesg
grep -q "WRITE on a read-only map refused" /tmp/dmesg || die "the driver did not refuse the write"
# udev's blkid may still hold the dm device for a moment.
wait_for 10 dmsetup remove --noudevsync qbdro || die "cannot remove the dm device"
dd if="$dev" of=/tmp/after bs=64k count=1 iflag=direct status=none
cmp -s /tmp/before /tmp/after || die "a write reached a read-only map's volume"
"$QBD" -u pool/ro
