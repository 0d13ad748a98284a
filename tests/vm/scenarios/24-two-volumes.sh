#!/bin/bash
# Two volumes mapped at once are two devices whose data stays apart.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/one 64M
create_volume pool/two 64M
d1=$("$QBD" -m pool/one)
d2=$("$QBD" -m pool/two)
[ "$d1" != "$d2" ] || die "both volumes got $d1"
head -c 1M /dev/urandom >/tmp/one
head -c 1M /dev/urandom >/tmp/two
dd if=/tmp/one of="$d1" oflag=direct bs=1M status=none &
p1=$!
dd if=/tmp/two of="$d2" oflag=direct bs=1M status=none &
p2=$!
# Not a bare wait: the server is a child of this shell too.
wait "$p1" "$p2"
cmp <(dd if="$d1" bs=1M count=1 iflag=direct status=none) /tmp/one || die "volume one corrupted"
cmp <(dd if="$d2" bs=1M count=1 iflag=direct status=none) /tmp/two || die "volume two corrupted"
[ "$("$QBD" -l --json | jq ".devices | length")" = 2 ] || die "qbd -l does not list two volumes"
"$QBD" -u pool/one
"$QBD" -u pool/two
