#!/bin/bash
# With /etc/qbd/map.conf in place, loading the module makes udev run
# qbd -M: the listed volumes appear with their links.  qbd -U unmaps them;
# a bad line is reported and the others are still mapped.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/boot1 32M
create_volume pool/boot2 32M
cat >/etc/qbd/map.conf <<CONF
# volumes mapped at boot
pool/boot1
tcp://pool/boot2   queue_depth=64,read_only
CONF
qbd_load_module
wait_for 60 test -L /dev/qbd/pool/boot2 -a -L /dev/qbd/pool/boot1 ||
	{ "$QBD" -l; die "map.conf volumes did not appear after loading the module"; }
"$QBD" -i pool/boot2 --json | jq -e '.queue_depth == 64' >/dev/null || die "options not applied"
[ "$(blockdev --getro "$(dev_of pool/boot2)")" = 1 ] || die "read_only not applied"
expect_fail dd if=/dev/zero of="$(dev_of pool/boot2)" bs=4k count=1 oflag=direct status=none
"$QBD" -M   # already mapped: fine
"$QBD" -U
[ -z "$(ls /sys/block | grep qbd)" ] || die "qbd -U left devices"
echo "pool/missing" >>/etc/qbd/map.conf
expect_fail "$QBD" -M 2>/tmp/err
grep -q "map.conf:4" /tmp/err || die "the failing line is not named: $(cat /tmp/err)"
[ -L /dev/qbd/pool/boot1 ] || die "a failing line stopped the others"
