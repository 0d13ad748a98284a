#!/bin/bash
# Mirroring two file-backend servers is md RAID1 over two qbd devices, one
# per server (qbd-server(8), Backends).  With one server killed, md fails
# its leg once the device gives up and the filesystem on the mirror goes on;
# the server back, the leg is added again and resynced, and md's check
# finds no mismatch between the legs.
# timeout: 900
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
command -v mdadm >/dev/null || skip "mdadm is not installed (scripts/install-deps.sh)"
MD=/dev/md0
stop_md() {
	umount /mnt/md 2>/dev/null || true
	mdadm --stop "$MD" >/dev/null 2>&1 || true
	cleanup
}
trap stop_md EXIT
qbd_load_module
modprobe raid1
start_server a 127.0.0.1:7800
start_server b 127.0.0.1:7801
write_conf 127.0.0.1:7800 127.0.0.1:7801
QBD_CTL=127.0.0.1:7800 create_volume mirror/a 128M
QBD_CTL=127.0.0.1:7801 create_volume mirror/b 128M
# A leg whose server is gone fails its IO after 10 s, and md drops it.
opts=io_timeout=5,giveup_timeout=10,reconnect_delay_ms=500
da=$("$QBD" -m mirror/a -o "$opts")
db=$("$QBD" -m mirror/b -o "$opts")
mdadm --create "$MD" --run --quiet --level=1 --raid-devices=2 --metadata=1.2 \
	--bitmap=internal "$da" "$db"
mdadm --wait "$MD" || true
md=/sys/block/$(basename "$MD")/md
mkfs.ext4 -q -F "$MD"
mkdir -p /mnt/md
mount "$MD" /mnt/md
head -c 16M /dev/urandom >/tmp/before
cp /tmp/before /mnt/md/before
sync

stop_server b KILL
head -c 16M /dev/urandom >/tmp/degraded
cp /tmp/degraded /mnt/md/degraded
sync || die "the mirror failed a sync with one leg gone"
degraded() { [ "$(cat "$md/degraded")" = 1 ]; }
wait_for 60 degraded || { mdadm --detail "$MD"; die "md did not fail the leg whose server died"; }

start_server b 127.0.0.1:7801
live() { "$QBD" -i mirror/b | grep -qw live; }
wait_for 60 live || { "$QBD" -i mirror/b; die "the leg's device did not come back"; }
mdadm "$MD" --remove failed >/dev/null 2>&1 || true
mdadm "$MD" --re-add "$db" >/dev/null 2>&1 || mdadm "$MD" --add "$db" >/dev/null ||
	die "md does not take the leg back"
synced() { [ "$(cat "$md/degraded")" = 0 ] && [ "$(cat "$md/sync_action")" = idle ]; }
wait_for 300 synced || { mdadm --detail "$MD"; die "the leg did not resync"; }

echo check >"$md/sync_action"
sleep 1
idle() { [ "$(cat "$md/sync_action")" = idle ]; }
wait_for 300 idle || die "md's check did not finish"
[ "$(cat "$md/mismatch_cnt")" = 0 ] || die "md found $(cat "$md/mismatch_cnt") mismatched sectors"
cmp /mnt/md/before /tmp/before || die "a file written before the failure changed"
cmp /mnt/md/degraded /tmp/degraded || die "a file written while degraded changed"
umount /mnt/md
mdadm --stop "$MD" >/dev/null
"$QBD" -u mirror/a
"$QBD" -u mirror/b
