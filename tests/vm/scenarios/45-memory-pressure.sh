#!/bin/bash
# Writing through the page cache while most of the guest's memory is taken
# does not deadlock: the socket work runs in noreclaim scope.
# timeout: 400
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'rm -f /dev/shm/hog || true; cleanup' EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/mem 512M
dev=$("$QBD" -m pool/mem)
mount -o remount,size=95% /dev/shm
free_mb=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
# tmpfs pages cannot be reclaimed without swap.  The server keeps its data
# on tmpfs in this guest too, so leave room for the 200 MiB it will store
# and let the page cache of the device fight over the rest.
head -c $(((free_mb - 450) << 20)) /dev/zero >/dev/shm/hog
free -m
timeout 240 dd if=/dev/urandom of="$dev" bs=1M count=200 status=none || die "buffered write stalled or failed"
timeout 120 sync || die "sync stalled"
rm -f /dev/shm/hog
dd if="$dev" of=/dev/null bs=1M count=200 iflag=direct status=none
