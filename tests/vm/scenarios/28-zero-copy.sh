#!/bin/bash
# A write's payload goes to TCP without a copy: the driver hands the
# bio's own pages to the socket (kernel_sendpage where the kernel has it,
# as Debian's 6.1 does; MSG_SPLICE_PAGES after 6.5).  The proof: an
# O_DIRECT write of 'A' whose payload sits unread in the server's socket,
# the buffer refilled with 'B' meanwhile; the server then reads 'B', the
# page itself, where a copy would have kept 'A'.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
hostile=$QBD_ROOT/build/tests/peers/qbd-hostile-server
mutate=$QBD_ROOT/build/tests/peers/qbd-dio-mutate
[ -x "$hostile" ] && [ -x "$mutate" ] || skip "the test peers are not built"
hpid=
trap 'kill "$hpid" 2>/dev/null || true; cleanup' EXIT
qbd_load_module
start_server ctl 127.0.0.1:7800 --advertise 127.0.0.1:7801
write_conf 127.0.0.1:7800
create_volume pool/zc 16M --shard-size 16M
meet=$(mktemp -d)
"$hostile" --port 7801 --size $((16 << 20)) --shard-size $((16 << 20)) --mode hold-payload \
	--dir "$meet" 2>/dev/null &
hpid=$!
wait_for 30 port_open 127.0.0.1 7801 || die "hostile server did not start"
dev=$("$QBD" -m pool/zc --no-wait)
"$mutate" "$dev" "$meet" || die "the write did not complete"
[ "$(stat -c %s "$meet/payload")" = 4096 ] || die "the server stored no 4 KiB payload"
got=$(tr -d 'B' <"$meet/payload" | wc -c)
if [ "$got" -ne 0 ]; then
	[ "$(tr -d 'A' <"$meet/payload" | wc -c)" -eq 0 ] &&
		die "the payload was copied: the server read the data as it was at the send"
	die "the payload is neither the old nor the new data"
fi
echo "the server read the page itself: zero-copy"
"$QBD" -u pool/zc || die "unmap failed"
