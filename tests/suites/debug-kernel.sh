#!/usr/bin/env bash
# The debug-kernel lane: KUnit suites and the data-path and failure
# scenarios under KASAN, lockdep, kmemleak and fault injection.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$("$top/tests/vm/run.sh" --debug-kernel 05-kunit 10-module 20-map 22-ext4 28-zero-copy 48-early 40-server 41-giveup \
	43-hostile 44-ioctl 46-fault 49-ghost 2>&1) && rc=0 || rc=$?
echo "$out"
echo "$out" | tail -n 1 | sed 's/^vm:/debug-kernel:/'
exit "$rc"
