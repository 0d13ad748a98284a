#!/bin/bash
# fio with crc32c verification over IO sizes from 512 B to 1 MiB, random and
# sequential, reads and writes, several jobs at once: every byte written
# reads back, and nothing is lost across shard boundaries.
# timeout: 600
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/fio 256M --shard-size 4M
dev=$("$QBD" -m pool/fio)

for rw in randwrite write; do
	fio --name=verify-$rw --filename="$dev" --direct=1 --ioengine=libaio \
		--rw=$rw --bsrange=512-1M --iodepth=16 --numjobs=4 --size=48M \
		--offset_increment=64M --verify=crc32c --verify_fatal=1 \
		--group_reporting >/tmp/fio.log 2>&1 || { cat /tmp/fio.log; die "fio $rw verify failed"; }
	grep -E "IOPS|err=" /tmp/fio.log
done
# Buffered IO through the page cache, then a read-only verify pass.
fio --name=buffered --filename="$dev" --ioengine=psync --rw=randwrite --bs=4k \
	--size=32M --verify=crc32c --verify_fatal=1 >/tmp/fio.log 2>&1 ||
	{ cat /tmp/fio.log; die "buffered verify failed"; }
# Columns: dev pool/volume state rd_ops rd_bytes wr_ops wr_bytes ... errors(12)
awk -v d="$(basename "$dev")" '$1 == d && $4 > 0 && $6 > 0 && $12 == 0 { ok = 1 } END { exit !ok }' \
	/proc/qbdstat || { cat /proc/qbdstat; die "IO not counted, or errors counted, in /proc/qbdstat"; }
