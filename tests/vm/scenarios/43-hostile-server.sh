#!/bin/bash
# A broken or hostile server (bad magic, unknown tags, over-long payloads,
# flags never negotiated, duplicate replies, closing mid-payload, garbage,
# silence, a reply to nothing while the device is being set up, hanging up
# on every request) never crashes the kernel: requests are retried or
# fail, and the device can always be unmapped.  A server whose every
# connection works but that hangs up on the first request, or calls every
# map stale, fails IO once the request's retry budget, the give-up
# time since it was first sent, is spent: timeouts and reconnects do not
# start the clock again.  A server's advertised largest IO bounds the
# disk's.
# timeout: 600
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
require_hostile
trap cleanup EXIT
qbd_load_module
# The control server names the hostile peer as the volume's path.
hostile_volume pool/evil
dd_done() { ! kill -0 "$1" 2>/dev/null; }
for mode in bad-magic unknown-tag long-payload bad-flags duplicate close-mid-payload garbage silent unasked \
	hang-up; do
	start_hostile $mode --good 2
	dev=$("$QBD" -m pool/evil --no-wait -o io_timeout=3,giveup_timeout=4,reconnect_delay_ms=200)
	if [ $mode = hang-up ]; then
		# Blocked IO ignores signals: wait for it here, not in timeout(1).
		dd if="$dev" of=/dev/null bs=4k count=8 iflag=direct status=none 2>/dev/null &
		ddpid=$!
		wait_for 30 dd_done $ddpid ||
			die "$mode: IO still waiting after 30 s, with giveup_timeout=4"
		wait $ddpid && die "$mode: IO succeeded, but the server served only 2 requests"
		result="IO failed"
	else
		timeout 60 dd if="$dev" of=/dev/null bs=4k count=8 iflag=direct status=none 2>&1 &&
			result="IO succeeded (retried)" || result="IO failed"
	fi
	echo "$mode: $result"
	timeout 30 "$QBD" -u pool/evil --force || die "$mode: unmap failed"
	# Nothing may keep the module pinned once the device is gone.
	wait_for 30 test "$(cat /sys/module/qbd/refcnt)" = 0 ||
		die "$mode: module still referenced after unmap ($(cat /sys/module/qbd/refcnt))"
	stop_hostile
done
# A server that calls every map stale, whatever the remap brings: the
# requeues end with the request's retry budget (giveup_timeout), as its
# resends after timeouts do, not after a fixed count of their own.  No
# good answers at all: --good counts per connection, and a queue whose
# connection had its good answers left would serve the read.
start_hostile stale --good 0
dev=$("$QBD" -m pool/evil --no-wait -o io_timeout=3,giveup_timeout=4,reconnect_delay_ms=200)
dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null &
ddpid=$!
wait_for 30 dd_done $ddpid || die "stale: IO still waiting after 30 s, with giveup_timeout=4"
wait $ddpid && die "stale: IO succeeded, but the server calls every map stale"
echo "stale for ever: IO failed"
timeout 30 "$QBD" -u pool/evil --force || die "stale: unmap failed"
stop_hostile
# A server that takes IO of at most 64 KiB (and drops a connection that
# sends more): the disk's limit comes down to it, and a 1 MiB read works.
start_hostile serve --max-io 65536
dev=$("$QBD" -m pool/evil -o io_timeout=3,giveup_timeout=4)
max_kb=$(cat "/sys/block/$(basename "$dev")/queue/max_hw_sectors_kb")
[ "$max_kb" = 64 ] || die "max-io: the disk sends up to $max_kb KiB to a server that takes 64"
timeout 60 dd if="$dev" of=/dev/null bs=1M count=1 iflag=direct status=none ||
	die "max-io: a 1 MiB read failed"
"$QBD" -u pool/evil
stop_hostile
qbd_unload_module
