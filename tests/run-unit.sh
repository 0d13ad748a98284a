#!/usr/bin/env bash
# Userspace unit tests through ctest (every gtest case is a ctest test).
# Last line: "unit: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(ctest --test-dir "$top/build" --output-on-failure -j2 2>&1)
rc=$?
echo "$out" | grep -vE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' || true
summary=$(echo "$out" | sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1 \2/p' | tail -n 1)
if [ -z "$summary" ]; then
	echo "unit: 0 passed, 1 failed"
	exit 1
fi
read -r failed total <<<"$summary"
echo "unit: $((total - failed)) passed, $failed failed"
[ "$rc" -eq 0 ]
