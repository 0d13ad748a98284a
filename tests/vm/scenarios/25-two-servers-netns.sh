#!/bin/bash
# One volume whose shards live on two servers in two network namespaces
# (two "hosts" behind veth pairs): IO reaches both, data reads back.
# timeout: 400
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'cleanup; ip netns del srv1 2>/dev/null || true; ip netns del srv2 2>/dev/null || true' EXIT
for i in 1 2; do
	ip netns add srv$i
	ip link add h$i type veth peer name s$i
	ip link set s$i netns srv$i
	ip addr add 10.99.$i.1/24 dev h$i
	ip link set h$i up
	ip netns exec srv$i ip addr add 10.99.$i.2/24 dev s$i
	ip netns exec srv$i ip link set s$i up
	ip netns exec srv$i ip link set lo up
	ip netns exec srv$i ip route add default via 10.99.$i.1
done
# The guest routes between the two "hosts", so the servers reach each other.
sysctl -qw net.ipv4.ip_forward=1
qbd_load_module
NETNS=srv1 start_server one 10.99.1.2:7800 --advertise 10.99.1.2:7800 --peer 10.99.2.2:7800
NETNS=srv2 start_server two 10.99.2.2:7800 --advertise 10.99.2.2:7800 --peer 10.99.1.2:7800
write_conf 10.99.1.2:7800
QBD_CTL=10.99.1.2:7800 create_volume pool/spread 64M --shard-size 4M
"$QBD_SERVER" info pool/spread --server 10.99.2.2:7800 | tee /tmp/info
grep -q 10.99.1.2 /tmp/info && grep -q 10.99.2.2 /tmp/info || die "shards not spread over both servers"
dev=$("$QBD" -m pool/spread)
fio --name=spread --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite \
	--bsrange=4k-256k --iodepth=8 --size=64M --verify=crc32c --verify_fatal=1 >/tmp/fio.log 2>&1 ||
	{ cat /tmp/fio.log; die "fio verify across two servers failed"; }
"$QBD" -i pool/spread | tee /dev/stderr | grep -q 10.99.2.2 || die "qbd -i does not show the second server"
"$QBD" -u pool/spread
