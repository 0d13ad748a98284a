#!/usr/bin/env bash
# Runs the kernel's checkpatch.pl --strict over the driver and the shared
# ABI headers, one verdict per file, and prints "checkpatch: N passed, N failed".
# checkpatch.pl comes from the newest kernel of the matrix
# (scripts/kernel.sh source 7.3), which holds the newest rules.
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
if ! src=$("$top/scripts/kernel.sh" source 7.3); then
	echo "checkpatch: no 7.3 source tree (scripts/kernel.sh source 7.3 failed)" >&2
	echo "checkpatch: 0 passed, 1 failed"
	exit 1
fi

cd "$top"
passed=0
failed=0
check() {
	local f=$1
	shift
	if out=$(perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse "$@" -f "$f" 2>&1) &&
		! grep -qE ': (ERROR|WARNING|CHECK):' <<<"$out"; then
		passed=$((passed + 1))
	else
		grep -E ': (ERROR|WARNING|CHECK):' <<<"$out" || echo "$out"
		echo "FAIL checkpatch $f"
		failed=$((failed + 1))
	fi
}
for f in $(git ls-files "module/*.c" "module/*.h"); do
	check "$f"
done
# The ABI headers are compiled by userspace too, where BIT() does not
# exist and _Static_assert is spelled as the C standard spells it.
for f in $(git ls-files "include/*.h"); do
	check "$f" --ignore BIT_MACRO,CAMELCASE
done
# No file checked means the list of files is wrong, not that all is well.
[ "$passed" -gt 0 ] || failed=$((failed + 1))
echo "checkpatch: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
