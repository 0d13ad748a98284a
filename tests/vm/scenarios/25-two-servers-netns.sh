#!/bin/bash
# One volume served by two servers in two network namespaces (two "hosts"
# behind veth pairs; they share one data directory, as gateways of one
# image share it): qbd -m finds it on both, so the device has both as
# paths, each connected; IO over the first verifies.
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
NETNS=srv1 start_server one 10.99.1.2:7800 --advertise 10.99.1.2:7800
ln -sfn /tmp/qbd-server-one /tmp/qbd-server-two
NETNS=srv2 start_server two 10.99.2.2:7800 --advertise 10.99.2.2:7800
write_conf 10.99.1.2:7800 10.99.2.2:7800
QBD_CTL=10.99.1.2:7800 create_volume pool/spread 64M --shard-size 4M
"$QBD_SERVER" info pool/spread --server 10.99.2.2:7800 "${QBD_ADMIN_AUTH[@]}" | tee /tmp/info
grep -Eq "^path: +10.99.2.2:7800$" /tmp/info || die "the second server does not name itself as the path"
dev=$("$QBD" -m pool/spread)
fio --name=spread --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite \
	--bsrange=4k-256k --iodepth=8 --size=64M --verify=crc32c --verify_fatal=1 >/tmp/fio.log 2>&1 ||
	{ cat /tmp/fio.log; die "fio verify over two paths failed"; }
"$QBD" -i pool/spread | tee /tmp/qbd-info
for a in 10.99.1.2:7800 10.99.2.2:7800; do
	grep "$a" /tmp/qbd-info | grep -qw live || die "qbd -i does not show a live path to $a"
done
grep -q '^\*  10.99.1.2:7800' /tmp/qbd-info || die "IO is not on the first path of qbd.conf"
"$QBD" -u pool/spread
