#!/usr/bin/env bash
# Checks every C++ source against the .clang-format at the root, one
# verdict per file, and prints "clang-format: N passed, N failed".  A file
# that fails shows the first lines clang-format would change; run
# clang-format -i on it.
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
cd "$top"
if ! command -v clang-format >/dev/null; then
	echo "clang-format: clang-format is not installed (scripts/install-deps.sh)" >&2
	echo "clang-format: 0 passed, 1 failed"
	exit 1
fi
passed=0
failed=0
for f in $(git ls-files '*.cc' '*.h' ':!module/' ':!include/'); do
	if clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		passed=$((passed + 1))
	else
		clang-format "$f" | diff -u "$f" - | head -n 20 || true
		echo "FAIL clang-format $f"
		failed=$((failed + 1))
	fi
done
# No file checked means the list of files is wrong, not that all is well.
[ "$passed" -gt 0 ] || failed=$((failed + 1))
echo "clang-format: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
