#!/bin/bash
# A volume with two replicas per shard on two servers.  Writes reach both;
# with one server killed, reads fail over to the other at once (also the
# reads that were in flight on the dead connection), writes wait for the
# server to come back instead of failing, and afterwards each server alone
# holds every block written, the ones written during the outage included.
# timeout: 500
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'kill "${writer_pid:-}" 2>/dev/null || true; cleanup' EXIT
A=127.0.0.1:7800 B=127.0.0.1:7801
qbd_load_module
start_server a $A --peer $B
start_server b $B --peer $A
write_conf $A $B
QBD_CTL=$A create_volume pool/mirror 32M --shard-size 4M --replicas 2
dev=$("$QBD" -m pool/mirror)
"$QBD" -i pool/mirror | grep -q "$B" || die "qbd -i does not show the second replica"

job=(--filename="$dev" --direct=1 --ioengine=libaio --bs=64k --iodepth=8 --size=24M --verify=crc32c)
fio --name=fill --rw=write "${job[@]}" --do_verify=0 >/tmp/fio-fill.log 2>&1 ||
	{ cat /tmp/fio-fill.log; die "writing to the mirrored volume failed"; }

# Reads keep going while the server holding shard 0's primary is gone.
fio --name=during --rw=read "${job[@]}" --verify_only=1 --loops=3 >/tmp/fio-read.log 2>&1 &
reader_pid=$!
sleep 2
stop_server a KILL
wait "$reader_pid" || { cat /tmp/fio-read.log; die "reads failed with one replica down"; }
grep -q "err= 0" /tmp/fio-read.log || { cat /tmp/fio-read.log; die "fio saw read errors"; }

# A write waits for the missing replica rather than failing or landing on
# one copy only.
head -c 1M /dev/urandom >/tmp/outage.bin
dd if=/tmp/outage.bin of="$dev" bs=1M seek=28 oflag=direct conv=fsync status=none &
writer_pid=$!
sleep 3
kill -0 "$writer_pid" 2>/dev/null || die "a write finished with a replica down"
start_server a $A --peer $B
wait "$writer_pid" || die "the write held during the outage failed"
writer_pid=

# Each replica alone has everything: kill one, then the other.
for gone in b a; do
	[ $gone = a ] && start_server b $B --peer $A
	stop_server $gone KILL
	fio --name=check-$gone --rw=read "${job[@]}" --verify_only=1 >/tmp/fio-$gone.log 2>&1 ||
		{ cat /tmp/fio-$gone.log; die "a block is missing from one replica (server $gone down)"; }
	cmp <(dd if="$dev" bs=1M skip=28 count=1 iflag=direct status=none) /tmp/outage.bin ||
		die "the write made during the outage is missing with server $gone down"
done
start_server a $A --peer $B
"$QBD" -u pool/mirror
