#!/bin/bash
# A server whose replies invalidate the wrong rkey (qbd-server --fault
# rdma-wrong-inv-rkey: the rkey of another region of the client's, idle,
# instead of the request's own).  The driver must not hand the request's
# pages back while the server can still reach them: it invalidates the
# region itself and completes the request once that is done, saying so,
# without rebuilding the connection.  One request at a time, as the fault
# needs.  The data reads back, and the connection is never rebuilt (the
# driver used to complete such a request at once and reset the queue pair
# for each of them).
# timeout: 500
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'cleanup; ip link del qh 2>/dev/null || true' EXIT
require_rdma

rxe_veth_pair
start_server srv $S --rdma --fault rdma-wrong-inv-rkey
wait_for 30 grep -q "listening with rdma" /tmp/qbd-server-srv.log ||
	{ cat /tmp/qbd-server-srv.log; die "qbd-server does not listen with rdma"; }
QBD_CTL=$S create_volume pool/winv 64M
dev=$("$QBD" -m rdma://pool/winv) || { cat /tmp/qbd-server-srv.log; die "rdma:// map failed"; }
udevadm settle
opened=$(grep -c "rdma connection opened" /tmp/qbd-server-srv.log || true)

# Registered writes and reads (64 KiB, more than goes inline), one by one.
dd if=/dev/urandom of=/tmp/winv.data bs=64k count=32 status=none
dd if=/tmp/winv.data of="$dev" bs=64k oflag=direct conv=fsync status=none ||
	die "writes failed"
dd if="$dev" of=/tmp/winv.back bs=64k count=32 iflag=direct status=none || die "reads failed"
cmp /tmp/winv.data /tmp/winv.back || die "data read back differs"

if dmesg | grep -E "RDMA connection to $S lost|pool/winv: .*(reconnecting|failed)"; then
	die "the connection broke or was rebuilt"
fi
dmesg | grep "pool/winv: reply from $S invalidated rkey" | tail -n 3 || true
kernel_said "pool/winv: reply from $S invalidated rkey .*, not .*: invalidating it here" ||
	{ dmesg | tail -n 20; die "no message for the wrong invalidation"; }
if [ "$(grep -c "rdma connection opened" /tmp/qbd-server-srv.log)" != "$opened" ] ||
	grep -q "closing rdma connection" /tmp/qbd-server-srv.log; then
	cat /tmp/qbd-server-srv.log
	die "the server saw connections closed or reopened"
fi
"$QBD" -u pool/winv || die "unmap failed"
