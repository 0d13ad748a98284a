#!/bin/bash
# qbd over RDMA: soft-RoCE (rdma_rxe) on a veth pair to a server in another
# network namespace.  rdma:// with no RDMA device fails with a clear message
# and leaves nothing mapped; then over RDMA: fio verify, ext4, and the
# server killed and restarted during fio verify, all through qbd_rdma.ko
# (fast-registered bio pages, the server RDMA-READs and -WRITEs them).
# timeout: 700
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'umount /mnt/rdma 2>/dev/null || true; cleanup; ip netns del rsrv 2>/dev/null || true' EXIT
modprobe crc32_generic 2>/dev/null || true
modprobe rdma_cm || skip "rdma_cm is not available in this kernel"
modprobe rdma_rxe || skip "rdma_rxe is not available in this kernel"
qbd_load_module
insmod "$QBD_ROOT/module/qbd_rdma.ko" || die "qbd_rdma.ko does not load"

ip netns add rsrv
ip link add qh type veth peer name qs
ip link set qs netns rsrv
ip addr add 10.98.0.1/24 dev qh
ip link set qh up
ip netns exec rsrv ip addr add 10.98.0.2/24 dev qs
ip netns exec rsrv ip link set qs up
ip netns exec rsrv ip link set lo up
S=10.98.0.2:7800
write_conf $S

# Before any RDMA device exists: a clear refusal, nothing mapped, TCP fine.
NETNS=rsrv start_server tcponly $S
QBD_CTL=$S create_volume pool/rvol 64M --shard-size 16M
if out=$("$QBD" -m rdma://pool/rvol 2>&1); then
	die "rdma:// mapped with no RDMA device: $out"
fi
echo "$out"
grep -q "no RDMA" <<<"$out" || die "the refusal does not say there is no RDMA path: $out"
[ -z "$(ls /sys/block | grep qbd)" ] || die "a failed rdma:// map left a device behind"
dev=$("$QBD" -m tcp://pool/rvol) || die "tcp:// map failed"
"$QBD" -u pool/rvol
stop_server tcponly

rdma link add rxe_h type rxe netdev qh || die "cannot add the rxe link on qh"
ip netns exec rsrv rdma link add rxe_s type rxe netdev qs 2>/dev/null ||
	rdma link add rxe_s type rxe netdev qs 2>/dev/null ||
	ip netns exec rsrv rdma link show | grep -q rxe || die "cannot add the rxe link on qs"
rdma link show
NETNS=rsrv start_server rdma $S --rdma
dev=$("$QBD" -m rdma://pool/rvol) || die "rdma:// map failed"
"$QBD" -l | tee /dev/stderr | grep -q rdma || die "qbd -l does not show the rdma transport"
"$QBD" -i pool/rvol | grep -qi "transport: *rdma" || { "$QBD" -i pool/rvol; die "qbd -i does not show rdma"; }

fio --name=rdma --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bsrange=4k-256k \
	--iodepth=16 --size=32M --verify=crc32c --verify_fatal=1 >/tmp/fio.log 2>&1 ||
	{ cat /tmp/fio.log; die "fio verify over RDMA failed"; }

mkfs.ext4 -q -F "$dev" || die "mkfs.ext4 over RDMA failed"
mkdir -p /mnt/rdma
mount "$dev" /mnt/rdma
cp -r "$QBD_ROOT/module" /mnt/rdma/copy
sync
umount /mnt/rdma
fsck.ext4 -n -f "$dev" >/tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; die "fsck after ext4 over RDMA"; }
mount "$dev" /mnt/rdma
diff -r "$QBD_ROOT/module" /mnt/rdma/copy >/dev/null || die "files read back over RDMA differ"
umount /mnt/rdma

# The server dies during fio verify and comes back: nothing fails.
fio --name=crash --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bsrange=4k-128k \
	--iodepth=16 --size=32M --offset=32M --verify=crc32c --verify_fatal=1 --verify_backlog=256 \
	>/tmp/fio-crash.log 2>&1 &
fio_pid=$!
sleep 3
stop_server rdma KILL
sleep 3
NETNS=rsrv start_server rdma $S --rdma
wait "$fio_pid" || { cat /tmp/fio-crash.log; die "fio verify failed across a server restart over RDMA"; }
grep -q "err= 0" /tmp/fio-crash.log || { cat /tmp/fio-crash.log; die "fio saw errors"; }
"$QBD" -u pool/rvol
