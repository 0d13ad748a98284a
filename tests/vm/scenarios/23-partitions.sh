#!/bin/bash
# Partitions made with sfdisk appear as /dev/qbdXpN with
# /dev/qbd/<pool>/<volume>-partN links, and BLKRRPART rereads them.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/parts 128M
dev=$("$QBD" -m pool/parts)
printf 'label: gpt\n,32M\n,32M\n' | sfdisk -q "$dev"
udevadm settle
wait_for 30 test -b "${dev}p2" || die "partitions did not appear"
wait_for 30 test -L /dev/qbd/pool/parts-part1 || die "no -part1 link"
[ "$(readlink -f /dev/qbd/pool/parts-part2)" = "${dev}p2" ] || die "-part2 link wrong"
mkfs.ext4 -q "${dev}p1"
printf 'label: gpt\n,16M\n' | sfdisk -q --no-reread "$dev"
blockdev --rereadpt "$dev"
udevadm settle
wait_for 30 test ! -e "${dev}p2" || die "BLKRRPART left the old partition"
"$QBD" -u pool/parts
wait_for 30 test ! -e /dev/qbd/pool/parts-part1 || die "partition link left behind"
