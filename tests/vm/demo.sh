#!/bin/bash
# The main job, run by "make demo" inside the guest: a host key, a
# qbd-server that requires it, a volume, mapped as a block device, ext4 on
# it, files written and read back.
. "$QBD_ROOT/tests/vm/lib.sh"
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "load qbd.ko"
qbd_load_module
"$QBD" -v

step "a key for this host: qbd-server add-host $QBD_HOST_ID (the server keeps it in $QBD_KEYS)"
ensure_keys
ls -l "$QBD_KEYS" "$QBD_HOST_KEY"

step "start qbd-server on 127.0.0.1:7800 with keys and create demo/disk1 (1 GiB, 64 MiB shards)"
start_server demo 127.0.0.1:7800
write_conf 127.0.0.1:7800
cat /etc/qbd/qbd.conf
create_volume demo/disk1 1G --shard-size 64M
"$QBD_SERVER" list --server 127.0.0.1:7800 "${QBD_ADMIN_AUTH[@]}"

step "qbd -m demo/disk1"
dev=$("$QBD" -m demo/disk1)
echo "mapped as $dev"
ls -l /dev/qbd/demo/

step "mkfs.ext4 and mount"
mkfs.ext4 -q "$dev"
mkdir -p /mnt/demo
mount "$dev" /mnt/demo
df -h /mnt/demo

step "write files, sync, remount, read back"
cp -r "$QBD_ROOT/module" /mnt/demo/
head -c 64M /dev/urandom >/mnt/demo/random.bin
(cd /mnt/demo && find . -type f -print0 | sort -z | xargs -0 sha256sum) >/tmp/demo.sums
sync
umount /mnt/demo
mount "$dev" /mnt/demo
(cd /mnt/demo && sha256sum -c --quiet /tmp/demo.sums) && echo "all $(wc -l </tmp/demo.sums) files read back intact"

step "qbd -l"
"$QBD" -l
step "qbd -i demo/disk1"
"$QBD" -i demo/disk1
step "/proc/qbdstat"
cat /proc/qbdstat

step "unmount and unmap"
umount /mnt/demo
"$QBD" -u demo/disk1
echo "demo done"
