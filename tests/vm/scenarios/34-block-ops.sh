#!/bin/bash
# blkdiscard and BLKRRPART work, and switching the IO scheduler under
# load loses nothing.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/ops 128M --shard-size 8M
dev=$("$QBD" -m pool/ops)
name=$(basename "$dev")
dd if=/dev/urandom of="$dev" bs=1M count=32 oflag=direct status=none
blkdiscard -o $((4 << 20)) -l $((16 << 20)) "$dev"   # crosses shard boundaries
cmp <(dd if="$dev" bs=1M skip=4 count=16 iflag=direct status=none) <(head -c 16M /dev/zero) ||
	die "discarded range does not read as zeros"
blkdiscard -z -o 0 -l $((4 << 20)) "$dev"
blockdev --rereadpt "$dev" || die "BLKRRPART failed"

fio --name=sched --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k \
	--iodepth=16 --size=64M --verify=crc32c --verify_fatal=1 >/tmp/fio.log 2>&1 &
fio_pid=$!
for s in $(sed 's/[][]//g' "/sys/block/$name/queue/scheduler") none; do
	echo "$s" >"/sys/block/$name/queue/scheduler"
	sleep 0.5
done
wait "$fio_pid" || { cat /tmp/fio.log; die "fio verify failed while switching schedulers"; }
