#!/bin/bash
# End-to-end crc32c over RDMA (issue #22 item 2), on by default as over
# TCP: the driver checksums a WRITE's pages before the server RDMA-READs
# them, and a READ's pages once the server's RDMA WRITE is in and the
# region unmapped.  fio verify passes with nothing counted; a server that
# spoils every second payload of a connection (--fault flaky-crc: wrong
# crc32c on READ replies, WRITEs refused as corrupt) costs resends on new
# queue pairs and nothing else, for registered and inline (4 KiB) IO
# alike; one that spoils every payload (bad-crc) makes a read fail with
# EIO after 1 + 3 tries, handing no data to the application.
# timeout: 600
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'cleanup; ip link del qh 2>/dev/null || true' EXIT
require_rdma

rxe_veth_pair
rdma_server() { # [--fault SPEC]
	stop_server srv
	: >/tmp/qbd-server-srv.log
	start_server srv $S --rdma "$@"
	wait_for 30 grep -q "listening with rdma" /tmp/qbd-server-srv.log ||
		{ cat /tmp/qbd-server-srv.log; die "qbd-server does not listen with rdma"; }
}
rdma_server
QBD_CTL=$S create_volume pool/rcrc 64M
dev=$("$QBD" -m rdma://pool/rcrc) || { cat /tmp/qbd-server-srv.log; die "rdma:// map failed"; }
[ "$(cat "/sys/block/$(basename "$dev")/qbd/crc32c")" = on ] ||
	die "crc32c is not on by default over RDMA"
fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bsrange=4k-256k \
	--iodepth=16 --size=32M --verify=md5 --verify_fatal=1 --do_verify=1 >/tmp/fio.log 2>&1 ||
	{ cat /tmp/fio.log; die "fio verify over RDMA failed with crc32c on"; }
[ "$(crc_errors "$dev")" = 0 ] || die "$(crc_errors "$dev") crc32c mismatches with a good server"
sum=$(dd if="$dev" bs=1M count=4 iflag=direct status=none | md5sum)
"$QBD" -u pool/rcrc

# flaky-crc: each spoiled payload is resent on a rebuilt queue pair.  A
# few MiB only: under TCG every other request costs a reconnect.
opts=io_timeout=5,giveup_timeout=60,reconnect_delay_ms=100
rdma_server --fault flaky-crc
dev=$("$QBD" -m rdma://pool/rcrc -o "$opts") || die "rdma:// map failed under flaky-crc"
[ "$(dd if="$dev" bs=1M count=4 iflag=direct status=none | md5sum)" = "$sum" ] ||
	die "flaky-crc: the data read back differs"
head -c $((512 << 10)) /dev/urandom >/tmp/data
for bs in 4k 256k; do # inline, then registered writes
	dd if=/tmp/data of="$dev" bs=$bs seek=$((40 << 20)) oflag=direct,seek_bytes status=none ||
		die "flaky-crc: $bs writes failed although every resend was good"
done
cmp <(dd if="$dev" bs=4k skip=$((40 << 8)) count=128 iflag=direct status=none) /tmp/data ||
	die "flaky-crc: the data written reads back wrong"
n=$(crc_errors "$dev")
[ "$n" -ge 16 ] || die "flaky-crc: only $n mismatches counted"
echo "flaky-crc: $n mismatches, each resent"
"$QBD" -u pool/rcrc

# bad-crc: EIO once the retries are spent, no data handed over.
rdma_server --fault bad-crc
dmesg -C
dev=$("$QBD" -m rdma://pool/rcrc --no-wait -o "$opts") || die "rdma:// map failed under bad-crc"
expect_crc_read_fails 120 "$dev" bs=64k count=1
"$QBD" -u pool/rcrc --force
stop_server srv
