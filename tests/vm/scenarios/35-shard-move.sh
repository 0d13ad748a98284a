#!/bin/bash
# Shards of a mapped volume move between two servers while fio writes and
# verifies: each move fences the volume under a new epoch, the driver holds
# the IO that met the stale epoch and asks udev for a remap ("qbd -r", which
# waits for the move), then resends it to the new primary.  fio sees no
# error and every block verifies; the device ends on the servers' epoch.
# A server the map no longer names has its connections released, and a
# server named again is connected again.
# timeout: 500
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'kill "${mover_pid:-}" 2>/dev/null || true; cleanup' EXIT
A=127.0.0.1:7800 B=127.0.0.1:7801
qbd_load_module
start_server a $A --peer $B
start_server b $B --peer $A
write_conf $A $B
QBD_CTL=$A create_volume pool/moving 32M --shard-size 4M
dev=$("$QBD" -m pool/moving)

# Moves shards 0..3 back and forth, six times or until told to stop.
move_shards() {
	local n=0 s out
	while [ ! -e /tmp/stop-moving ] && [ $n -lt 6 ]; do
		s=$((n % 4))
		if ! out=$("$QBD_SERVER" move pool/moving $s $B --server $A 2>&1); then
			grep -q "already" <<<"$out" || { echo "$out" >&2; exit 1; }
			"$QBD_SERVER" move pool/moving $s $A --server $A >/dev/null || exit 1
		fi
		n=$((n + 1))
		echo $n >/tmp/moves
		sleep 1
	done
}
rm -f /tmp/stop-moving /tmp/moves
fio --name=move --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bsrange=4k-128k \
	--iodepth=16 --size=32M --verify=crc32c --verify_fatal=1 --verify_backlog=256 \
	>/tmp/fio.log 2>&1 &
fio_pid=$!
move_shards &
mover_pid=$!
fio_rc=0
wait "$fio_pid" || fio_rc=$?
touch /tmp/stop-moving
mover_rc=0
wait "$mover_pid" || mover_rc=$?
mover_pid=
[ "$fio_rc" = 0 ] || { cat /tmp/fio.log; die "fio verify failed while shards moved"; }
grep -q "err= 0" /tmp/fio.log || { cat /tmp/fio.log; die "fio saw errors"; }
[ "$mover_rc" = 0 ] || die "a shard move failed"
moves=$(cat /tmp/moves 2>/dev/null || echo 0)
echo "shard moves during fio: $moves"
[ "$moves" -ge 2 ] || die "only $moves moves happened while fio ran"

# Everything written reads back once more, after the last move settled.
fio --name=reread --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bsrange=4k-128k \
	--iodepth=16 --size=32M --verify=crc32c --verify_only=1 >/tmp/fio2.log 2>&1 ||
	{ cat /tmp/fio2.log; die "data read back after the moves does not verify"; }
server_epoch=$("$QBD_SERVER" info pool/moving --json --server $A | sed 's/.*"epoch":\([0-9]*\).*/\1/')
wait_for 60 bash -c "\"$QBD\" -i pool/moving | grep -q 'epoch: *$server_epoch\$'" ||
	{ "$QBD" -i pool/moving; die "the device did not reach the servers' epoch $server_epoch"; }
dmesg >/tmp/dmesg.txt
grep -q "asking userspace to remap" /tmp/dmesg.txt || die "the driver never asked for a remap"

# Every shard on B: after the remap the connections to A, which the map no
# longer names, are released; a shard moved back connects them again.
states_of() {
	"$QBD" -i pool/moving --json |
		jq -r --arg a "$1" '[.connections[] | select(.address == $a) | .state] | unique | join(",")'
}
for s in $(seq 0 7); do # 32M in 4M shards
	out=$("$QBD_SERVER" move pool/moving $s $B --server $A 2>&1) ||
		grep -q "already" <<<"$out" || die "moving shard $s to B failed: $out"
done
"$QBD" -r pool/moving >/dev/null || die "remap after the moves to B failed"
[ "$(states_of $A)" = released ] || {
	dmesg | tail -n 8
	"$QBD" -i pool/moving
	die "connections to A after it lost every shard: $(states_of $A)"
}
dd if="$dev" of=/dev/null bs=1M count=8 iflag=direct status=none || die "reads with A released failed"
"$QBD_SERVER" move pool/moving 0 $A --server $A >/dev/null || die "moving shard 0 back to A failed"
"$QBD" -r pool/moving >/dev/null || die "remap after the move back failed"
[ "$(states_of $A)" = live ] || die "connections to A after it got a shard back: $(states_of $A)"
fio --name=reread --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bsrange=4k-128k \
	--iodepth=16 --size=32M --verify=crc32c --verify_only=1 >/tmp/fio3.log 2>&1 ||
	{ cat /tmp/fio3.log; die "data read back after A was released and revived does not verify"; }
"$QBD" -u pool/moving
