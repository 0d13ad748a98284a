#!/bin/bash
# A volume served by two servers has two paths, and all of its IO goes to
# one.  Kill -9 the active one during fio verify: what was in flight is
# sent again on the other path, IO stays there, verify passes and no error
# reaches fio; the dead server coming back does not take the IO back.
# Then the second dies and IO moves back to the first.  (Two file-backend
# servers share one data directory here only so that both paths reach the
# same data: the rbd backend is what serves one image from many gateways.)
# timeout: 500
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800 --advertise 127.0.0.1:7800
ln -sfn /tmp/qbd-server-a /tmp/qbd-server-b
start_server b 127.0.0.1:7801 --advertise 127.0.0.1:7801
write_conf 127.0.0.1:7800 127.0.0.1:7801
create_volume pool/paths 256M
dev=$("$QBD" -m pool/paths)
sys=/sys/block/$(basename "$dev")/qbd
"$QBD" -i pool/paths >/tmp/info
grep -q 127.0.0.1:7800 /tmp/info && grep -q 127.0.0.1:7801 /tmp/info ||
	{ cat /tmp/info; die "qbd -i does not show both paths"; }
[ "$(cat "$sys/active_path")" = 127.0.0.1:7800 ] || die "IO does not start on the first path"

# Rate-limited so that it is still writing when each server dies.
run_fio() {
	fio --name=paths --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite \
		--bsrange=4k-128k --iodepth=16 --size=48M --rate=6m --verify=crc32c \
		--verify_fatal=1 --verify_backlog=256 >/tmp/fio.log 2>&1 &
	fio_pid=$!
	sleep 3
	kill -0 "$fio_pid" || die "fio was done before a server was killed"
}
check_fio() {
	wait "$fio_pid" || { cat /tmp/fio.log; die "fio verify failed across a path failover"; }
	grep -q "err= 0" /tmp/fio.log || { cat /tmp/fio.log; die "fio saw errors"; }
}

run_fio
stop_server a KILL
check_fio
[ "$(cat "$sys/active_path")" = 127.0.0.1:7801 ] || die "IO did not move to the second path"
[ "$(cat "$sys/state")" = live ] || die "state is $(cat "$sys/state") with a live path"

# The first server is back: IO stays where it is.
start_server a 127.0.0.1:7800 --advertise 127.0.0.1:7800
dd if="$dev" of=/dev/null bs=1M count=16 iflag=direct status=none
[ "$(cat "$sys/active_path")" = 127.0.0.1:7801 ] || die "IO moved back while its path was live"

# A path reconnects in its own time: wait until the first is live again.
path_live() { "$QBD" -i pool/paths | grep 127.0.0.1:7800 | grep -qw live; }
wait_for 30 path_live || { "$QBD" -i pool/paths; die "the first path did not come back"; }
run_fio
stop_server b KILL
check_fio
[ "$(cat "$sys/active_path")" = 127.0.0.1:7800 ] || die "IO did not move back to the first path"
awk -v d="$(basename "$dev")" '$1 == d { exit !($12 == 0) }' /proc/qbdstat ||
	{ cat /proc/qbdstat; die "errors counted"; }
"$QBD" -u pool/paths
