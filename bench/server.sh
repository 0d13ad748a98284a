#!/usr/bin/env bash
# Benchmarks qbd-server alone: a server on 127.0.0.1 with its data on tmpfs,
# a 1 GiB volume, and bench/server_bench.cc driving it over loopback.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-5}
dir=$(mktemp -d /dev/shm/qbd-bench-XXXXXX)
port=7870
"$top/build/server/qbd-server" init --data-dir "$dir"
"$top/build/server/qbd-server" serve --data-dir "$dir" --listen 127.0.0.1:$port 2>/dev/null &
pid=$!
trap 'kill $pid; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
"$top/build/server/qbd-server" create bench/vol 1G --server 127.0.0.1:$port
"$top/build/bench/qbd-server-bench" 127.0.0.1:$port bench/vol "$secs"
