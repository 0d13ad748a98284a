#!/bin/bash
# A request whose pages cannot be mapped fails or waits on its own; the
# queue pair, and the other requests on it, go on.  A test module
# (tests/kernel/fail_map, built here for the running kernel) makes
# qbd_rdma's mappings fail: DMA mappings that fail a few times, as when
# IOMMU space runs out for a while, are tried again and the data arrives;
# a registration that can never work fails its request at once with an IO
# error.  The connection is never rebuilt (the driver used to reset the
# queue pair for each failure, and to resend the request that can never
# be mapped until the give-up time).
# timeout: 600
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'rmmod qbd_fail_map 2>/dev/null || true; cleanup; ip link del qh 2>/dev/null || true' EXIT
modprobe crc32_generic 2>/dev/null || true
modprobe rdma_cm || skip "rdma_cm is not available in this kernel"
modprobe rdma_rxe || skip "rdma_rxe is not available in this kernel"
kdir=$("$QBD_ROOT/scripts/kernel.sh" kdir "$(uname -r)" 2>/dev/null) || kdir=
[ -d "${kdir:-/nonexistent}" ] || skip "no build tree for $(uname -r) to build the fault module against"
cp -r "$QBD_ROOT/tests/kernel/fail_map" /tmp/fail_map
make -C "$kdir" M=/tmp/fail_map modules >/tmp/fail_map.log 2>&1 ||
	{ cat /tmp/fail_map.log; die "cannot build tests/kernel/fail_map"; }
injector=/tmp/fail_map/qbd_fail_map.ko
qbd_load_module
insmod "$(dirname "$QBD_KO")/qbd_rdma.ko" || die "qbd_rdma.ko does not load"
# Kernel messages of earlier scenarios of this boot are not this one's.
dmesg -C

rxe_veth_pair
start_server srv $S --rdma
wait_for 30 grep -q "listening with rdma" /tmp/qbd-server-srv.log ||
	{ cat /tmp/qbd-server-srv.log; die "qbd-server does not listen with rdma"; }
QBD_CTL=$S create_volume pool/mapf 64M
dev=$("$QBD" -m rdma://pool/mapf) || { cat /tmp/qbd-server-srv.log; die "rdma:// map failed"; }
udevadm settle
opened=$(grep -c "rdma connection opened" /tmp/qbd-server-srv.log || true)
dd if=/dev/urandom of=/tmp/mapf.data bs=64k count=16 status=none

# DMA mappings that fail for a while: the requests wait and get through.
insmod "$injector" dma_fails=5 || die "the fault module does not load"
dd if=/tmp/mapf.data of="$dev" bs=64k oflag=direct status=none || die "writes failed"
cmp /tmp/mapf.data <(dd if="$dev" bs=64k count=16 iflag=direct status=none) ||
	die "data read back differs"
rmmod qbd_fail_map
if dmesg | grep "RDMA connection to $S lost"; then
	die "DMA mapping failures rebuilt the connection"
fi
[ "$(dmesg | grep -c "qbd_fail_map: failing a DMA mapping")" = 5 ] ||
	{ dmesg | tail -n 30; die "the fault module did not fail 5 DMA mappings"; }
kernel_said "pool/mapf: cannot DMA-map WRITE of 65536 bytes at .* for $S, trying again" ||
	{ dmesg | tail -n 30; die "no message for the failed DMA mapping"; }

# A registration that never works: its request fails, at once, alone.
insmod "$injector" mr_fail_bytes=12288 || die "the fault module does not load"
start=$SECONDS
if dd if="$dev" of=/dev/null bs=12k count=1 iflag=direct status=none 2>/tmp/mapf.err; then
	die "a read whose pages cannot be registered succeeded"
fi
cat /tmp/mapf.err
grep -q "Input/output error" /tmp/mapf.err || die "the read did not fail with EIO"
[ $((SECONDS - start)) -lt 10 ] || die "the read took $((SECONDS - start)) s to fail"
cmp /tmp/mapf.data <(dd if="$dev" bs=64k count=16 iflag=direct status=none) ||
	die "reads next to the failed one failed"
rmmod qbd_fail_map
kernel_said "pool/mapf: cannot register READ of 12288 bytes at 0 for $S: .*, failing it" ||
	{ dmesg | tail -n 30; die "no message for the failed registration"; }

if dmesg | grep -E "RDMA connection to $S lost|pool/mapf: .*reconnecting"; then
	die "a registration failure rebuilt the connection"
fi
if [ "$(grep -c "rdma connection opened" /tmp/qbd-server-srv.log)" != "$opened" ] ||
	grep -q "closing rdma connection" /tmp/qbd-server-srv.log; then
	cat /tmp/qbd-server-srv.log
	die "the server saw connections closed or reopened"
fi
"$QBD" -u pool/mapf || die "unmap failed"
