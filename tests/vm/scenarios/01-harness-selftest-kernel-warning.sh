#!/bin/bash
# Harness self-test: a scenario that passes while the kernel logs a
# WARNING must be reported as failed by the kernel-log scan.
# expect: fail
. "$QBD_ROOT/tests/vm/lib.sh"
echo "WARNING: CPU: 0 PID: 1 at qbd-selftest" >/dev/kmsg
