#!/bin/bash
# qbd -z grows the volume on the server and the mapped disk online: the
# kernel sees the new capacity and resize2fs grows a mounted ext4;
# shrinking is refused with a clear message and changes nothing.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/grow 128M --shard-size 32M
dev=$("$QBD" -m pool/grow)
mkfs.ext4 -q "$dev"
mkdir -p /mnt/grow
mount "$dev" /mnt/grow
head -c 8M /dev/urandom >/mnt/grow/a
sum=$(sha256sum </mnt/grow/a)
"$QBD" -z pool/grow -k 256M
[ "$(blockdev --getsize64 "$dev")" = $((256 << 20)) ] || die "the disk did not grow"
# Earlier scenarios of the same boot may have logged capacity changes of
# their own: this one is qbdN's, from 128M to 256M (in sectors).  dmesg
# goes to a file first: under pipefail, grep -q closing the pipe early
# would fail the pipeline with dmesg's SIGPIPE.
dmesg >/tmp/dmesg
grep -q "$(basename "$dev"): detected capacity change from $((128 << 11)) to $((256 << 11))" /tmp/dmesg ||
	die "the kernel saw no capacity change from 128M to 256M"
resize2fs "$dev" >/dev/null 2>&1 || die "online resize2fs failed"
df -m /mnt/grow | awk 'NR == 2 { exit !($2 > 200) }' || die "ext4 did not grow"
head -c 64M /dev/urandom >/mnt/grow/b   # reaches the new shards
sync
[ "$(sha256sum </mnt/grow/a)" = "$sum" ] || die "data changed"
expect_fail "$QBD" -z pool/grow -k 64M 2>/tmp/err
grep -q "shrinking is not supported" /tmp/err || die "no clear message on shrink: $(cat /tmp/err)"
[ "$(blockdev --getsize64 "$dev")" = $((256 << 20)) ] || die "a refused shrink changed the size"
umount /mnt/grow
fsck.ext4 -fn "$dev" >/dev/null || die "fsck after online growth failed"
