#!/bin/bash
# End-to-end crc32c (QBD_FEAT_CRC32C), on by default over TCP.  With
# qbd-server, fio verify passes and nothing mismatches; crc32c=no maps
# without it and reads the same data.  Data a server corrupts after
# checksumming it never reaches the application: a read is resent on a
# new connection and succeeds when the next reply is good (flaky-crc,
# which also refuses every other WRITE as corrupt), and fails with EIO
# once its retries are spent when none is (bad-crc); every mismatch is
# counted in /sys/block/qbdX/qbd/crc_errors.
# timeout: 600
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
require_hostile
trap cleanup EXIT
qbd_load_module

start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/crc 64M
dev=$("$QBD" -m pool/crc)
[ "$(cat "/sys/block/$(basename "$dev")/qbd/crc32c")" = on ] || die "crc32c is not on by default"
fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bsrange=4k-256k \
	--iodepth=16 --size=32M --verify=md5 --verify_fatal=1 --do_verify=1 >/tmp/fio.log 2>&1 ||
	{ cat /tmp/fio.log; die "fio verify failed with crc32c on"; }
# Buffered writes too: page-cache pages are stable while they are checksummed and sent.
head -c $((8 << 20)) /dev/urandom >/tmp/data
dd if=/tmp/data of="$dev" bs=1M seek=40 conv=fsync status=none
[ "$(crc_errors "$dev")" = 0 ] || die "$(crc_errors "$dev") crc32c mismatches with qbd-server"
sum=$(dd if="$dev" bs=1M count=48 iflag=direct status=none | md5sum)
"$QBD" -u pool/crc
dev=$("$QBD" -m pool/crc -o crc32c=no)
[ "$(cat "/sys/block/$(basename "$dev")/qbd/crc32c")" = off ] || die "crc32c=no did not turn it off"
[ "$(dd if="$dev" bs=1M count=48 iflag=direct status=none | md5sum)" = "$sum" ] ||
	die "the data read without crc32c differs"
"$QBD" -u pool/crc
stop_server a

hostile_volume pool/evil
opts=io_timeout=3,giveup_timeout=20,reconnect_delay_ms=100
start_hostile flaky-crc
dev=$("$QBD" -m pool/evil --no-wait -o "$opts")
# The hostile server's data is zeros; what it corrupts has a byte of 0xff.
timeout 60 dd if="$dev" of=/tmp/back bs=64k count=16 iflag=direct status=none ||
	die "flaky-crc: reads failed although every resend was good"
cmp -s -n $((1 << 20)) /tmp/back /dev/zero || die "flaky-crc: corrupt data reached the application"
timeout 60 dd if=/dev/zero of="$dev" bs=64k count=16 oflag=direct status=none ||
	die "flaky-crc: writes the server refused as corrupt were not resent"
[ "$(crc_errors "$dev")" -ge 16 ] || die "flaky-crc: only $(crc_errors "$dev") mismatches counted"
echo "flaky-crc: $(crc_errors "$dev") mismatches, each resent"
"$QBD" -u pool/evil
stop_hostile

start_hostile bad-crc
dev=$("$QBD" -m pool/evil --no-wait -o "$opts")
expect_crc_read_fails 60 "$dev" bs=4k count=1 skip=8
"$QBD" -u pool/evil --force
stop_hostile
qbd_unload_module
