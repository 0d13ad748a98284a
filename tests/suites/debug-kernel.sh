#!/usr/bin/env bash
# The debug-kernel lane: KUnit suites and the data-path and failure
# scenarios under KASAN, lockdep, kmemleak and fault injection.  Under
# TCG with KASAN each scenario takes several times its plain time, so the
# lane keeps what only it can check: KUnit, the fault injection, and the
# data path, the hostile server and the ioctl fuzzer under KASAN.  The
# others run in the 6.1 and 6.12 lanes (22-ext4, 28-zero-copy, 40, 41, 48
# and 49 ran here until CI's time budget needed their 8 minutes).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$("$top/tests/vm/run.sh" --debug-kernel 05-kunit 10-module 20-map 43-hostile 44-ioctl 46-fault \
	2>&1) && rc=0 || rc=$?
echo "$out"
echo "$out" | tail -n 1 | sed 's/^vm:/debug-kernel:/'
exit "$rc"
