#!/bin/bash
# A server that answers a write before it can have received the write's
# data (right after the header, with the payload still in the sender's
# buffers) does not get the write acknowledged: the driver takes a reply
# only once the whole request was queued to the socket, and treats an
# earlier one as a protocol error that resets the connection.  The write
# is resent, meets the same server again, and fails after the give-up
# time instead of reporting data as written that never left.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
require_hostile
trap cleanup EXIT
qbd_load_module
hostile_volume pool/early
start_hostile early-reply --good 0
dev=$("$QBD" -m pool/early --no-wait -o io_timeout=3,giveup_timeout=4,reconnect_delay_ms=200)
dmesg -C
# 1 MiB in one request: more than the server's receive window takes, so
# the sender is still writing the payload when the answer comes.
if dd if=/dev/zero of="$dev" bs=1M count=1 oflag=direct status=none 2>/dev/null; then
	die "a write was acknowledged before its data was sent"
fi
kernel_said 'before its request was sent' ||
	die "the early reply was not recognised as one"
timeout 30 "$QBD" -u pool/early --force || die "unmap failed"
