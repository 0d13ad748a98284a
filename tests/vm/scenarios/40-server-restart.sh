#!/bin/bash
# The server is killed with -9 and restarted during fio verify: in-flight
# IO is resent after the reconnect, verify passes and no error reaches the
# application while the outage is shorter than the give-up time.
# timeout: 400
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/crash 128M --shard-size 16M
dev=$("$QBD" -m pool/crash)
# Rate-limited so that it is still writing when the server dies, however
# fast the host: 64 MiB at 8 MiB/s.
fio --name=crash --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bsrange=4k-128k \
	--iodepth=16 --size=64M --rate=8m --verify=crc32c --verify_fatal=1 --verify_backlog=256 \
	>/tmp/fio.log 2>&1 &
fio_pid=$!
sleep 3
kill -0 "$fio_pid" || die "fio was done before the server was killed"
stop_server a KILL
sleep 3
state=$(cat "/sys/block/$(basename "$dev")/qbd/state")
echo "state while the server is down: $state"
[ "$state" = reconnecting ] || die "state is $state, not reconnecting"
start_server a 127.0.0.1:7800
wait "$fio_pid" || { cat /tmp/fio.log; die "fio verify failed across a server crash"; }
grep -q "err= 0" /tmp/fio.log || { cat /tmp/fio.log; die "fio saw errors"; }
# A connection fio's IO did not need may still be in its backoff.
qbd_live() { awk -v d="$(basename "$dev")" '$1 == d { exit !($3 == "live") }' /proc/qbdstat; }
wait_for 30 qbd_live || { cat /proc/qbdstat; die "not live again 30 s after the restart"; }
awk -v d="$(basename "$dev")" '$1 == d { exit !($12 == 0) }' /proc/qbdstat ||
	{ cat /proc/qbdstat; die "errors counted"; }
"$QBD" -i pool/crash | grep -E "reconnects|127.0.0.1" >&2
