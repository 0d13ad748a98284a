#!/bin/bash
# ext4 on a qbd device: files written, synced, unmounted and remounted keep
# their checksums; unmap is refused while mounted and the device stays.
# timeout: 400
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/fs 256M
dev=$("$QBD" -m pool/fs)
mkfs.ext4 -q "$dev"
mkdir -p /mnt/qbd
mount "$dev" /mnt/qbd
for i in $(seq 20); do head -c $((RANDOM * 16)) /dev/urandom >"/mnt/qbd/f$i"; done
cp -r "$QBD_ROOT/module" /mnt/qbd/tree
(cd /mnt/qbd && find . -type f -print0 | sort -z | xargs -0 sha256sum) >/tmp/sums
sync
expect_fail "$QBD" -u pool/fs 2>/tmp/err
grep -qi "mounted" /tmp/err || die "no clear message: $(cat /tmp/err)"
[ -b "$dev" ] || die "refused unmap removed the device"
umount /mnt/qbd
echo 3 >/proc/sys/vm/drop_caches
mount "$dev" /mnt/qbd
(cd /mnt/qbd && sha256sum -c --quiet /tmp/sums) || die "checksums differ after remount"
umount /mnt/qbd
fsck.ext4 -fn "$dev" >/dev/null || die "fsck found errors"
"$QBD" -u pool/fs
