#!/bin/bash
# qbd -s sets token-bucket limits at run time: a 10 s fio run stays within
# 10% of a bandwidth limit and of an IOPS limit; 0 lifts them.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/thr 256M
dev=$("$QBD" -m pool/thr)

within() { # value limit
	awk -v v="$1" -v l="$2" 'BEGIN { exit !(v >= 0.9 * l && v <= 1.1 * l) }'
}
"$QBD" -s pool/thr -t write_bps=4M
bw=$(fio --name=bw --filename="$dev" --direct=1 --ioengine=libaio --rw=write --bs=64k \
	--iodepth=8 --runtime=10 --time_based --output-format=json | jq '.jobs[0].write.bw_bytes')
echo "write bandwidth $bw B/s with a limit of 4194304"
within "$bw" 4194304 || die "write bandwidth $bw not within 10% of 4 MiB/s"

"$QBD" -s pool/thr -t write_bps=0,read_iops=200
iops=$(fio --name=iops --filename="$dev" --direct=1 --ioengine=libaio --rw=randread --bs=4k \
	--iodepth=16 --runtime=10 --time_based --output-format=json | jq '.jobs[0].read.iops')
echo "read IOPS $iops with a limit of 200"
within "$iops" 200 || die "read IOPS $iops not within 10% of 200"
"$QBD" -i pool/thr --json | jq -e '.read_iops == 200' >/dev/null || die "qbd -i does not show the limit"

"$QBD" -s pool/thr -t read_iops=0
iops=$(fio --name=free --filename="$dev" --direct=1 --ioengine=libaio --rw=randread --bs=4k \
	--iodepth=16 --runtime=3 --time_based --output-format=json | jq '.jobs[0].read.iops')
echo "read IOPS $iops without a limit"
awk -v v="$iops" 'BEGIN { exit !(v > 300) }' || die "lifting the limit did not lift IOPS"
