#!/usr/bin/env bash
# qbd.ko builds for every kernel of the matrix (scripts/kernel.sh), W=1,
# with no compiler or modpost warning (scripts/build-module.sh fails on
# one): one verdict per kernel, "kernels: N passed, N failed" last.
set -uo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
passed=0
failed=0
for series in $("$top/scripts/kernel.sh" list | awk '{print $1}'); do
	if out=$("$top/scripts/build-module.sh" "$series" 2>&1); then
		echo "PASS kernels: $series ($(modinfo -F vermagic "$(tail -n 1 <<<"$out")/qbd.ko" | cut -d' ' -f1))"
		passed=$((passed + 1))
	else
		echo "$out" | tail -n 30
		echo "FAIL kernels: $series"
		failed=$((failed + 1))
	fi
done
[ "$passed" -gt 0 ] || failed=$((failed + 1))
echo "kernels: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
