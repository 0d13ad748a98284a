#!/bin/bash
# qbd over RDMA: soft-RoCE (rdma_rxe) on a veth pair.  Both ends stay in the
# initial network namespace: the 6.1 rxe driver receives RoCE (UDP 4791)
# only there, so a server in another namespace never sees a connect
# request.  rdma:// with no RDMA device fails with a clear message
# and leaves nothing mapped; then over RDMA: fio verify, ext4, and the
# server killed and restarted during fio verify, all through qbd_rdma.ko
# (fast-registered bio pages, the server RDMA-READs and -WRITEs them).
# timeout: 700
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'umount /mnt/rdma 2>/dev/null || true; cleanup; ip link del qh 2>/dev/null || true' EXIT
modprobe crc32_generic 2>/dev/null || true
modprobe rdma_cm || skip "rdma_cm is not available in this kernel"
modprobe rdma_rxe || skip "rdma_rxe is not available in this kernel"
qbd_load_module
insmod "$(dirname "$QBD_KO")/qbd_rdma.ko" || die "qbd_rdma.ko does not load"

ip link add qh type veth peer name qs
ip addr add 10.98.0.1/24 dev qh
ip addr add 10.98.0.2/24 dev qs
ip link set qh up
ip link set qs up
S=10.98.0.2:7800
write_conf $S

# Before any RDMA device exists: a clear refusal, nothing mapped, TCP fine.
start_server srv $S
QBD_CTL=$S create_volume pool/rvol 64M --shard-size 16M
if out=$("$QBD" -m rdma://pool/rvol 2>&1); then
	die "rdma:// mapped with no RDMA device: $out"
fi
echo "$out"
grep -q "no RDMA" <<<"$out" || die "the refusal does not say there is no RDMA path: $out"
[ -z "$(ls /sys/block | grep qbd)" ] || die "a failed rdma:// map left a device behind"
dev=$("$QBD" -m tcp://pool/rvol) || die "tcp:// map failed"
"$QBD" -u pool/rvol
stop_server srv

rdma link add rxe_h type rxe netdev qh || die "cannot add the rxe link on qh"
rdma link add rxe_s type rxe netdev qs || die "cannot add the rxe link on qs"
rdma link show
# The server polls for a queue-depth-1 client's next request (--busy-poll):
# the data path, the restart and a SIGTERM during a queue-depth-1 fio run
# through the poll too (50-rdma-server runs without it).
start_rdma_server() {
	: >/tmp/qbd-server-srv.log
	start_server srv $S --rdma --busy-poll 200
	wait_for 30 grep -q "listening with rdma" /tmp/qbd-server-srv.log ||
		{ cat /tmp/qbd-server-srv.log; die "qbd-server does not listen with rdma"; }
}
start_rdma_server
dev=$("$QBD" -m rdma://pool/rvol) || { cat /tmp/qbd-server-srv.log; die "rdma:// map failed"; }
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
stop_server srv KILL
sleep 3
start_rdma_server
wait "$fio_pid" || { cat /tmp/fio-crash.log; die "fio verify failed across a server restart over RDMA"; }
grep -q "err= 0" /tmp/fio-crash.log || { cat /tmp/fio-crash.log; die "fio saw errors"; }

# SIGTERM while the server polls for a queue-depth-1 client: it stops.
fio --name=qd1 --filename="$dev" --direct=1 --ioengine=libaio --rw=randread --bs=4k \
	--iodepth=1 --runtime=60 --time_based >/dev/null 2>&1 &
qd1_pid=$!
sleep 3
pid=${SERVER_PIDS[srv]}
kill -TERM "$pid"
wait_for 20 bash -c "[ ! -d /proc/$pid ] || grep -q '^State:.*Z' /proc/$pid/status" ||
	die "qbd-server did not stop on SIGTERM while polling for a queue-depth-1 client"
stop_server srv
grep -q "stopping on" /tmp/qbd-server-srv.log || die "qbd-server did not stop cleanly on SIGTERM"
# The server is gone: the unmap fails what fio still waits for.
"$QBD" -u pool/rvol --force
wait "$qd1_pid" 2>/dev/null || true
