#!/bin/bash
# Under the debug kernel: failslab aimed at qbd's map path (the mapping
# task only), fail_make_request aimed at a qbd disk, and fail_io_timeout
# (completions dropped as if lost).  Maps either work or fail cleanly
# leaving no device; injected IO errors reach the application as errors;
# a lost completion is found by the timeout and completes; nothing oopses,
# leaks or hangs.
# timeout: 600
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
fs=/sys/kernel/debug/failslab
fmr=/sys/kernel/debug/fail_make_request
fit=/sys/kernel/debug/fail_io_timeout
[ -d "$fs" ] && [ -d "$fmr" ] && [ -d "$fit" ] ||
	skip "this kernel has no failslab/fail_make_request/fail_io_timeout: run with --debug-kernel"
trap 'echo 0 >"$fs/probability"; echo 0 >"$fmr/probability"; echo 0 >"$fit/probability"; cleanup' EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/fault 32M

# Slab failures only for tasks that ask for them: the qbd tool below.
echo 1 >"$fs/task-filter"
echo 20 >"$fs/probability"
echo -1 >"$fs/times"
echo 0 >"$fs/verbose"
ok=0
failed=0
for i in $(seq 30); do
	if bash -c 'echo 1 >/proc/self/make-it-fail; exec "$0" -m pool/fault --no-wait' "$QBD" \
		>/dev/null 2>&1; then
		ok=$((ok + 1))
		udevadm settle   # udev probes the new disk; let it close it first
		"$QBD" -u pool/fault || die "unmap after a map under failslab failed"
	else
		failed=$((failed + 1))
		[ -z "$(ls /sys/block | grep qbd)" ] || die "a map failed by failslab left a device"
	fi
done
echo 0 >"$fs/probability"
echo "maps under failslab: $ok worked, $failed failed cleanly"

dev=$("$QBD" -m pool/fault)
echo 1 >"/sys/block/$(basename "$dev")/make-it-fail"
echo 30 >"$fmr/probability"
echo -1 >"$fmr/times"
echo 0 >"$fmr/verbose"
errors=0
for i in $(seq 50); do
	dd if=/dev/urandom of="$dev" bs=4k count=1 seek=$i oflag=direct status=none 2>/dev/null ||
		errors=$((errors + 1))
done
echo 0 >"$fmr/probability"
echo "writes failed by fail_make_request: $errors of 50"
[ "$errors" -gt 0 ] || die "fail_make_request injected nothing"
dd if=/dev/urandom of="$dev" bs=4k count=16 oflag=direct status=none || die "IO after injection failed"
echo 0 >"/sys/block/$(basename "$dev")/make-it-fail"
"$QBD" -u pool/fault

# Every completion of the disk dropped once each (fail_io_timeout): the
# timeout must find the request answered and complete it, not wait for a
# reply that already came.
dev=$("$QBD" -m pool/fault -o io_timeout=2)
echo 1 >"/sys/block/$(basename "$dev")/io-timeout-fail"
echo 100 >"$fit/probability"
echo 4 >"$fit/times"
echo 0 >"$fit/verbose"
dd if=/dev/urandom of="$dev" bs=4k count=4 oflag=direct status=none &
ddpid=$!
dd_done() { ! kill -0 "$ddpid" 2>/dev/null; }
wait_for 60 dd_done || die "a request whose completion was dropped never completed"
wait "$ddpid" || die "a request whose completion was dropped failed"
echo 0 >"$fit/probability"
echo 0 >"/sys/block/$(basename "$dev")/io-timeout-fail"
"$QBD" -u pool/fault
