#!/bin/bash
# A failed receive while the map connects over RDMA, before the disk
# exists: the server's reply to HELLO is a byte longer than the client's
# receive buffers (qbd-server --fault rdma-long-hello-reply), so the
# client's receive completes with an error.  The map fails cleanly, the
# driver says which volume and server, nothing is left behind and nothing
# oopses (the driver used to log that error through the disk, still NULL,
# in softirq); the same volume then maps from a well-behaved server.
# timeout: 400
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'cleanup; ip link del qh 2>/dev/null || true' EXIT
require_rdma

rxe_veth_pair
start_rdma_server() {
	: >/tmp/qbd-server-srv.log
	start_server srv $S --rdma "$@"
	wait_for 30 grep -q "listening with rdma" /tmp/qbd-server-srv.log ||
		{ cat /tmp/qbd-server-srv.log; die "qbd-server does not listen with rdma"; }
}

start_rdma_server --fault rdma-long-hello-reply
QBD_CTL=$S create_volume pool/hello 16M
if out=$("$QBD" -m rdma://pool/hello 2>&1); then
	die "mapped through a server whose HELLO reply overflows: $out"
fi
echo "$out"
for d in /sys/block/qbd*; do
	[ -e "$d" ] && die "the failed map left $d behind"
done
msg="pool/hello: receive on the connection to $S failed"
wait_for 10 bash -c "dmesg | grep -q '$msg'" || { dmesg | tail -n 20; die "no message naming the volume and server"; }
stop_server srv

start_rdma_server
dev=$("$QBD" -m rdma://pool/hello) || { cat /tmp/qbd-server-srv.log; die "rdma:// map failed"; }
dd if=/dev/urandom of=/tmp/hello.data bs=64k count=4 status=none
dd if=/tmp/hello.data of="$dev" bs=64k oflag=direct status=none || die "write over RDMA failed"
cmp /tmp/hello.data <(dd if="$dev" bs=64k count=4 iflag=direct status=none) || die "read back differs"
"$QBD" -u pool/hello || die "unmap failed"
