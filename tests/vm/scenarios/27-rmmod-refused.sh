#!/bin/bash
# rmmod is refused while a device is mapped; after unmap it works.
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
