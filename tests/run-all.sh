#!/usr/bin/env bash
# Every test: userspace unit tests, the suites in tests/suites/ (each an
# executable printing "<suite>: N passed, N failed" last), and the guest
# scenarios.  Ends with one line "N passed, N failed"; non-zero on failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
total_passed=0
total_failed=0

run_suite() {
	local name=$1
	shift
	echo "=== $name"
	local out rc last started=$SECONDS
	out=$("$@" 2>&1)
	rc=$?
	echo "$out"
	# For CI's time budget: where the minutes go.
	echo "=== $name took $((SECONDS - started)) s"
	last=$(echo "$out" | grep -E '^[a-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$last" ]; then
		echo "$name: no summary line: counted as 1 failed"
		total_failed=$((total_failed + 1))
		return
	fi
	local p f
	p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$last")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$last")
	# A suite that failed without counting a failure still failed.
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
}

run_suite unit "$top/tests/run-unit.sh"
for s in "$top"/tests/suites/*.sh; do
	[ -x "$s" ] || continue
	run_suite "$(basename "$s" .sh)" "$s"
done
run_suite vm "$top/tests/vm/run.sh"
# Every scenario again on 6.12 (scripts/kernel.sh's matrix); the debug
# lane (tests/suites/debug-kernel.sh) covers 7.3.
run_suite vm-6.12 bash -c 'set -o pipefail; "$1" --kernel 6.12 | sed "s/^vm:/vm-6.12:/"' _ "$top/tests/vm/run.sh"

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
