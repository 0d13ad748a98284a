#!/bin/bash
# qbd-server's RDMA transport over soft-RoCE (rdma_rxe): a userspace
# client does HELLO and OPEN over rdma_cm, writes and reads back several
# sizes at several offsets, registered and inline, and is refused what it
# must be refused; the
# server logs the connection, survives it, and stops on SIGTERM.
# timeout: 400
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
probe=$QBD_ROOT/build/tests/peers/qbd-rdma-probe
[ -x "$probe" ] || skip "qbd-rdma-probe is not built"
# Userspace verbs need the rxe provider, from the host root mounted here.
[ -e /etc/libibverbs.d/rxe.driver ] || skip "no rxe provider for libibverbs (install ibverbs-providers)"
# rdma_rxe cannot add a device without a crc32 implementation loaded.
modprobe crc32_generic 2>/dev/null || true
modprobe rdma_rxe || skip "rdma_rxe cannot be loaded in this guest kernel"
modprobe rdma_ucm || die "rdma_ucm (rdma_cm for userspace) cannot be loaded"
trap 'cleanup; rdma link delete rxe_s 2>/dev/null || true; ip link del rh 2>/dev/null || true' EXIT

# Soft-RoCE of this kernel routes and receives only in the initial network
# namespace (rxe_net.c: its UDP socket and route lookups use init_net), so a server in another namespace is never
# reached: both ends stay here, and the client reaches the server's
# address through the same rxe device, which rxe loops back.
ip link add rh type veth peer name rs
ip addr add 10.98.0.1/24 dev rh
ip addr add 10.98.0.2/24 dev rs
ip link set rh up
ip link set rs up
rdma link add rxe_s type rxe netdev rs || die "cannot add soft-RoCE on rs"
rdma link show

# qbd-rdma-probe proves no key: this server lets anyone in.
NO_KEYS=1
start_server rdma 10.98.0.2:7800 --rdma
# TCP listens first: the RDMA listener may still be setting up.
wait_for 30 grep -q "listening with rdma on 10.98.0.2:7800" /tmp/qbd-server-rdma.log ||
	{ cat /tmp/qbd-server-rdma.log; die "qbd-server does not say it listens with rdma"; }
QBD_CTL=10.98.0.2:7800 create_volume pool/rd 64M
info=$("$QBD_SERVER" info pool/rd --json --server 10.98.0.2:7800)
# Not jq: ids are 64-bit, and jq's numbers are doubles.
id=$(sed -n 's/.*"volume_id": *\([0-9]*\).*/\1/p' <<<"$info")
epoch=$(sed -n 's/.*"epoch": *\([0-9]*\).*/\1/p' <<<"$info")
[ -n "$id" ] && [ -n "$epoch" ] || die "no id and epoch in: $info"
timeout 120 "$probe" 10.98.0.2:7800 "$id" "$epoch" ||
	{ cat /tmp/qbd-server-rdma.log; die "the RDMA probe failed"; }
# A wrong epoch is refused at OPEN: the probe must fail, the server live on.
expect_fail timeout 60 "$probe" 10.98.0.2:7800 "$id" $((epoch + 1)) 2>/dev/null
timeout 120 "$probe" 10.98.0.2:7800 "$id" "$epoch" || die "the RDMA probe failed after a refused OPEN"
# Framing that cannot be trusted ends the connection, as on TCP.
timeout 60 "$probe" --oversize 10.98.0.2:7800 "$id" "$epoch" || die "oversize READ not dropped"
timeout 60 "$probe" --short 10.98.0.2:7800 "$id" "$epoch" || die "short message not dropped"
timeout 60 "$probe" --trailing 10.98.0.2:7800 "$id" "$epoch" || die "unflagged trailing bytes not dropped"
grep -q "closing rdma connection: IO length over the limit" /tmp/qbd-server-rdma.log ||
	die "no log line for the oversize READ"
grep -q "closing rdma connection: message shorter than a request" /tmp/qbd-server-rdma.log ||
	die "no log line for the short message"
grep -q "closing rdma connection: message longer than a request with no inline data" \
	/tmp/qbd-server-rdma.log || die "no log line for the unflagged trailing bytes"
timeout 120 "$probe" 10.98.0.2:7800 "$id" "$epoch" || die "the RDMA probe failed after hostile clients"
# Every connection, the ones the probe left with requests in flight too,
# is torn down.
all_closed() {
	local log=/tmp/qbd-server-rdma.log
	[ "$(grep -c 'rdma connection opened' $log)" = 7 ] &&
		[ "$(grep -c 'rdma connection closed' $log)" = 7 ]
}
wait_for 30 all_closed ||
	{ cat /tmp/qbd-server-rdma.log; die "the server did not close every RDMA connection"; }
cat /tmp/qbd-server-rdma.log
# SIGTERM stops the RDMA threads and the process exits.
stop_server rdma TERM
grep -q "stopping on" /tmp/qbd-server-rdma.log || die "qbd-server did not stop on SIGTERM"
