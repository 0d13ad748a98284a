#!/bin/bash
# qbd -S holds IO without failing it and fio verify passes across a
# suspend and a normal resume; -R -t error fails IO with EIO; -R -t
# discard completes IO without the server (reads return zeros); a
# suspended device unmaps.
# timeout: 400
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/sus 128M
dev=$("$QBD" -m pool/sus)
name=$(basename "$dev")

fio --name=across --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k \
	--iodepth=8 --size=32M --verify=crc32c --verify_fatal=1 >/tmp/fio.log 2>&1 &
fio_pid=$!
sleep 2
"$QBD" -S pool/sus
[ "$(cat /sys/block/$name/qbd/state)" = suspended ] || die "state is not suspended"
before=$(awk -v d="$name" '$1 == d { print $4 + $6 }' /proc/qbdstat)
sleep 3
after=$(awk -v d="$name" '$1 == d { print $4 + $6 }' /proc/qbdstat)
kill -0 "$fio_pid" || die "fio ended while suspended"
[ "$after" -le $((before + 16)) ] || die "IO went on while suspended ($before -> $after)"
expect_fail "$QBD" -S pool/sus 2>/dev/null
"$QBD" -R pool/sus
wait "$fio_pid" || { cat /tmp/fio.log; die "fio verify failed across suspend/resume"; }
grep -q "err= 0" /tmp/fio.log || die "fio reported errors"

"$QBD" -R pool/sus -t error
expect_fail dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct 2>/tmp/err
grep -qi "input/output error" /tmp/err || die "resume -t error did not give EIO"

printf 'qbd' | dd of="$dev" bs=512 count=1 conv=sync oflag=direct status=none 2>/dev/null || true
"$QBD" -R pool/sus -t discard
dd if=/dev/urandom of="$dev" bs=4k count=4 oflag=direct status=none || die "discard mode failed a write"
dd if="$dev" bs=4k count=1 iflag=direct status=none | cmp -s - <(head -c 4096 /dev/zero) ||
	die "discard mode read is not zeros"
"$QBD" -R pool/sus -t normal
dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct status=none || die "normal resume failed IO"
# An unmap of a suspended device finishes (what it held fails).
"$QBD" -S pool/sus
timeout 60 "$QBD" -u pool/sus || die "unmapping a suspended device failed or hung"
[ ! -e "/sys/block/$name" ] || die "$name is still there after the unmap"
