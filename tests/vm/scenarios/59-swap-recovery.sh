#!/bin/bash
# Swap on a qbd device, a process whose memory is three times what its
# cgroup may keep in RAM (memory.max), so that reclaim swaps it out to qbd
# and back in, and the server killed with -9 and restarted in the middle
# of it: the process waits for its pages across the reconnect, neither
# hangs nor is killed for memory, and every page comes back as written.
# The server keeps its volume on the raw scratch disk, outside the
# guest's memory.  (With the whole guest short of memory instead, the
# server in the same guest stalls in reclaim itself: a server on its
# client's host is the one setup this cannot cover.)
# timeout: 600
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
hog_pid=
teardown() {
	if [ -n "$hog_pid" ]; then kill -9 "$hog_pid" 2>/dev/null || true; fi
	swapoff -a 2>/dev/null || true
	cleanup
	rmdir /sys/fs/cgroup/qbd-hog 2>/dev/null || true
}
trap teardown EXIT
modprobe virtio_blk 2>/dev/null || true
wait_for 10 test -b /dev/vda || die "no scratch disk /dev/vda"
mkdir -p /tmp/qbd-server-swap
"$QBD_SERVER" init --data-dir /tmp/qbd-server-swap >/dev/null
"$QBD_SERVER" create pool/swap 1G --device /dev/vda --data-dir /tmp/qbd-server-swap >/dev/null
qbd_load_module
cg=/sys/fs/cgroup
grep -q "^cgroup2 $cg " /proc/mounts || mount -t cgroup2 none $cg
echo +memory >$cg/cgroup.subtree_control
mkdir -p $cg/qbd-hog
echo 200M >$cg/qbd-hog/memory.max
start_server swap 127.0.0.1:7800
write_conf 127.0.0.1:7800
# A short give-up time would fail swap IO while the server is down: the
# default (60 s) is far longer than the outage.
dev=$("$QBD" -m pool/swap)
mkswap "$dev" >/dev/null
swapon "$dev"

# Anonymous memory: 600 MiB in a cgroup that may keep 200 MiB, each MiB
# with its own pattern, written, then read back twice (paging it all in
# and out again).
hog_mb=600
(echo $BASHPID >$cg/qbd-hog/cgroup.procs && exec python3 - "$hog_mb") >/tmp/hog.log 2>&1 <<'PY' &
import sys
n = int(sys.argv[1])
chunks = [bytes([i % 251]) * (1 << 20) for i in range(n)]
print("written", flush=True)
for rnd in range(2):
    for i, c in enumerate(chunks):
        if c != bytes([i % 251]) * (1 << 20):
            print(f"chunk {i} corrupt in round {rnd}", flush=True)
            sys.exit(1)
    print(f"verified round {rnd}", flush=True)
print("OK", flush=True)
PY
hog_pid=$!
# Kill the server once swapping is under way.
swapped() { [ "$(awk '/SwapTotal/ { t = $2 } /SwapFree/ { f = $2 } END { print t - f }' /proc/meminfo)" -gt 102400 ]; }
wait_for 200 swapped || { free -m; cat /tmp/hog.log; die "less than 100 MiB swapped out"; }
free -m
stop_server swap KILL
sleep 3
start_server swap 127.0.0.1:7800
wait "$hog_pid" && rc=0 || rc=$?
hog_pid=
cat /tmp/hog.log
[ "$rc" -eq 0 ] || { dmesg | grep -iE "out of memory|killed process" >&2; die "the swapping process failed ($rc)"; }
grep -qx OK /tmp/hog.log || die "the swapping process did not finish its checks"
kernel_said -iE "out of memory|oom-kill" && die "the OOM killer ran"
free -m
swapoff "$dev"
