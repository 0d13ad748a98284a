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
hostile=$QBD_ROOT/build/tests/peers/qbd-hostile-server
[ -x "$hostile" ] || skip "qbd-hostile-server is not built"
hpid=
trap 'kill "$hpid" 2>/dev/null || true; cleanup' EXIT
qbd_load_module
start_server ctl 127.0.0.1:7800 --advertise 127.0.0.1:7801
write_conf 127.0.0.1:7800
create_volume pool/early 16M --shard-size 16M
"$hostile" --port 7801 --size $((16 << 20)) --shard-size $((16 << 20)) --mode early-reply --good 0 \
	2>/dev/null &
hpid=$!
wait_for 30 port_open 127.0.0.1 7801 || die "hostile server did not start"
dev=$("$QBD" -m pool/early --no-wait -o io_timeout=3,giveup_timeout=4,reconnect_delay_ms=200)
dmesg -C
# 1 MiB in one request: more than the server's receive window takes, so
# the sender is still writing the payload when the answer comes.
if dd if=/dev/zero of="$dev" bs=1M count=1 oflag=direct status=none 2>/dev/null; then
	die "a write was acknowledged before its data was sent"
fi
dmesg | grep -q 'before its request was sent' ||
	die "the early reply was not recognised as one"
timeout 30 "$QBD" -u pool/early --force || die "unmap failed"
