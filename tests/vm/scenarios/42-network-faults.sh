#!/bin/bash
# Between the client and a server in its own network namespace: 200 ms
# delay with 30% loss, then the link cut and restored, all during fio
# verify.  No corruption, and progress resumes when the link returns.
# timeout: 600
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'tc qdisc del dev h1 root 2>/dev/null || true; cleanup; ip netns del srv 2>/dev/null || true' EXIT
ip netns add srv
ip link add h1 type veth peer name s1
ip link set s1 netns srv
ip addr add 10.98.0.1/24 dev h1
ip link set h1 up
ip netns exec srv ip addr add 10.98.0.2/24 dev s1
ip netns exec srv ip link set s1 up
ip netns exec srv ip link set lo up
qbd_load_module
NETNS=srv start_server a 10.98.0.2:7800
write_conf 10.98.0.2:7800
QBD_CTL=10.98.0.2:7800 create_volume pool/net 64M
dev=$("$QBD" -m pool/net -o io_timeout=10,giveup_timeout=120)

tc qdisc add dev h1 root netem delay 200ms loss 30%
fio --name=lossy --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k \
	--iodepth=8 --size=512k --verify=crc32c --verify_fatal=1 >/tmp/fio.log 2>&1 ||
	{ cat /tmp/fio.log; die "fio verify failed under delay and loss"; }
tc qdisc del dev h1 root

fio --name=cut --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=16k \
	--iodepth=8 --size=8M --verify=crc32c --verify_fatal=1 >/tmp/fio.log 2>&1 &
fio_pid=$!
sleep 2
ip link set h1 down
sleep 8
ip link set h1 up
wait "$fio_pid" || { cat /tmp/fio.log; die "fio verify failed across a link cut"; }
grep -q "err= 0" /tmp/fio.log || die "fio saw errors"
