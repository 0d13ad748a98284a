#!/bin/bash
# /dev/qbdctl is for root only, and a bounded loop of random, truncated,
# oversized and hostile ioctls gets every one refused without an oops.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
fuzz=$QBD_ROOT/build/tests/peers/qbd-ioctl-fuzz
[ -x "$fuzz" ] || skip "qbd-ioctl-fuzz is not built"
trap cleanup EXIT
qbd_load_module
[ "$(stat -c %a /dev/qbdctl)" = 600 ] || die "/dev/qbdctl is not mode 600"
expect_fail setpriv --reuid=65534 --regid=65534 --clear-groups "$fuzz" 1 2>/dev/null
"$fuzz" 30000 1
"$fuzz" 30000 2
[ -z "$(ls /sys/block | grep qbd)" ] || die "fuzzing created a device"
