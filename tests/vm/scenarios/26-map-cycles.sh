#!/bin/bash
# 50 map/unmap cycles leave no device, no connection and no growth in slab
# usage; map right after unmap works every time.
# timeout: 900
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/cycle 32M
slab() { awk '/^Slab:/{print $2}' /proc/meminfo; }
"$QBD" -m pool/cycle >/dev/null && "$QBD" -u pool/cycle
sync; echo 3 >/proc/sys/vm/drop_caches
before=$(slab)
for i in $(seq 50); do
	dev=$("$QBD" -m pool/cycle --no-wait) || die "map $i failed"
	dd if="$dev" of=/dev/null bs=64k count=4 iflag=direct status=none
	"$QBD" -u pool/cycle || die "unmap $i failed"
done
[ -z "$(ls /sys/block | grep qbd)" ] || die "devices left behind"
# The close handshake is the network's own pace: the server may not have
# read the last FIN yet.  A connection that still stands later is left.
no_conns() { ! ss -tn | grep -q ':7800 '; }
wait_for 10 no_conns || { ss -tn; die "connections left behind"; }
sync; echo 3 >/proc/sys/vm/drop_caches
after=$(slab)
echo "slab before $before kB, after $after kB"
[ $((after - before)) -lt 2048 ] || die "slab grew by $((after - before)) kB over 50 cycles"
