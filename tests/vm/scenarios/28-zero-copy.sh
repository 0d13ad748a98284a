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
require_hostile
mutate=$QBD_ROOT/build/tests/peers/qbd-dio-mutate
[ -x "$mutate" ] || skip "qbd-dio-mutate is not built"
trap cleanup EXIT
qbd_load_module
hostile_volume pool/zc
meet=$(mktemp -d)
start_hostile hold-payload --dir "$meet"
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
