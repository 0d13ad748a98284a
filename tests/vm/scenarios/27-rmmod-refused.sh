#!/bin/bash
# rmmod is refused while a device is mapped, and while an unmapped disk is
# still open; after unmap and the last close it works.
# timeout: 200
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/hold 32M
"$QBD" -m pool/hold >/dev/null
expect_fail rmmod qbd
[ -c /dev/qbdctl ] || die "refused rmmod removed /dev/qbdctl"
"$QBD" -u pool/hold
rmmod qbd
# A forced unmap while the disk is still open: the opener, not the
# unmapped device, now holds the module, and its last close frees the
# device (the driver has no free_disk callback that drops a module
# reference from the module's own code).
qbd_load_module
dev=$("$QBD" -m pool/hold)
exec 3<"$dev"
"$QBD" -u pool/hold --force
expect_fail rmmod qbd
exec 3<&-
wait_for 30 rmmod qbd || die "rmmod failed after the last opener of an unmapped disk closed"
