#!/bin/bash
# Beyond the give-up time IO fails with EIO instead of hanging; the device
# still unmaps (forced, with the server gone, within the timeout) and the
# module unloads.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/gone 64M
dev=$("$QBD" -m pool/gone -o giveup_timeout=5,io_timeout=5)
stop_server a KILL
start=$(date +%s)
expect_fail dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct 2>/tmp/err
took=$(($(date +%s) - start))
cat /tmp/err
echo "IO failed after $took s"
grep -qi "input/output error" /tmp/err || die "not EIO"
[ "$took" -lt 30 ] || die "IO took $took s to fail with a 5 s give-up time"
[ "$(cat "/sys/block/$(basename "$dev")/qbd/state")" = failed ] || die "state is not failed"
# An opener holds the device while the server is gone: only --force unmaps.
exec 3<"$dev"
expect_fail "$QBD" -u pool/gone 2>/dev/null
start=$(date +%s)
"$QBD" -u pool/gone --force
exec 3<&-
[ $(($(date +%s) - start)) -lt 15 ] || die "forced unmap was slow"
[ ! -e "$dev" ] || die "device still there"
qbd_unload_module
