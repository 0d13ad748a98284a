#!/usr/bin/env bash
# Builds the request-parsing fuzzer with clang's libFuzzer and runs it for a
# bounded time (QBD_FUZZ_SECONDS, default 60).  Prints "fuzz: N passed,
# N failed" last; a crash fails.
set -uo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
out=$top/build-fuzz
secs=${QBD_FUZZ_SECONDS:-60}
mkdir -p "$out/corpus"
if ! clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I"$top/include" \
	-I"$top/server" "$top/server/fuzz/request_fuzz.cc" "$top/server/request.cc" \
	-o "$out/request_fuzz" 2>"$out/build.log"; then
	cat "$out/build.log"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
if "$out/request_fuzz" -max_total_time="$secs" -print_final_stats=1 "$out/corpus" \
	>"$out/fuzz.log" 2>&1; then
	grep -E "stat::number_of_executed_units|Done" "$out/fuzz.log" | tail -n 2
	echo "fuzz: 1 passed, 0 failed"
else
	tail -n 40 "$out/fuzz.log"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
