#!/bin/bash
# Session fencing: the server stalls a write (as a stuck disk would), the
# driver times out, reconnects and resends it, and newer data is written
# to the same block.  The stalled copy must never land over it: the
# server fenced the old connection before it answered the new OPEN.
# timeout: 240
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
block=2048 # 4 KiB blocks: byte offset 8 MiB
start_server a 127.0.0.1:7800 --fault "stall-write=$((block * 4096)):10000"
write_conf 127.0.0.1:7800
create_volume pool/ghost 64M
dev=$("$QBD" -m pool/ghost -o io_timeout=2)
head -c 4096 /dev/urandom >/tmp/stale
head -c 4096 /dev/urandom >/tmp/newer
stall_begins=$SECONDS
# Answered only after the timeout, the reconnect and the resend.
dd if=/tmp/stale of="$dev" bs=4k seek=$block count=1 oflag=direct status=none ||
	die "the stalled write failed"
dd if=/tmp/newer of="$dev" bs=4k seek=$block count=1 oflag=direct status=none ||
	die "the newer write failed"
log=/tmp/qbd-server-a.log
grep -q "stalling a write" "$log" || { cat "$log"; die "the server did not stall the write"; }
# The old connection's thread goes on once the 10 s stall is over.
sleep $((stall_begins + 12 - SECONDS))
dd if="$dev" of=/tmp/back bs=4k skip=$block count=1 iflag=direct status=none
cmp -s /tmp/back /tmp/newer || {
	cmp -s /tmp/back /tmp/stale && die "the stalled write landed over newer data (a ghost write)"
	die "the block holds neither write"
}
grep -q "a newer connection of its client took over" "$log" ||
	{ cat "$log"; die "the old connection was not fenced"; }
"$QBD" -u pool/ghost
