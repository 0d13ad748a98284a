#!/usr/bin/env bash
# The test Ceph cluster (tests/ceph/cluster.sh) that the rbd backend's tests
# and the guest scenarios stand on: it starts, refuses a second start in the
# same directory, serves RBD reads and writes, keeps writing while an OSD is
# killed, takes the OSD back and recovers onto it, runs beside a second
# cluster, fails a broken start cleanly, and stops leaving nothing behind.
set -uo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
cluster=$top/tests/ceph/cluster.sh
dir=$top/build/ceph-suite
other=$top/build/ceph-suite-2
work=$(mktemp -d)
log=$work/log
passed=0
failed=0

check() {
	local what=$1
	shift
	if "$@" >"$log" 2>&1; then
		passed=$((passed + 1))
	else
		tail -n 30 "$log"
		echo "FAIL ceph-cluster: $what"
		failed=$((failed + 1))
	fi
}

finish() {
	"$cluster" stop --dir "$dir" >/dev/null 2>&1
	"$cluster" stop --dir "$other" >/dev/null 2>&1
	rm -rf "$work"
}
trap finish EXIT

# Live ceph-mon/ceph-osd processes started with DIR's ceph.conf.
daemons_of() {
	local p
	for p in /proc/[0-9]*; do
		case $(cat "$p/comm" 2>/dev/null) in ceph-mon | ceph-osd) ;; *) continue ;; esac
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF "$1/ceph.conf" && echo "${p#/proc/}"
	done
}

started() {
	"$cluster" start --dir "$dir" >"$work/env.out" 2>"$work/start.err" || { cat "$work/start.err"; return 1; }
	cat "$work/env.out"
	grep -qx "CEPH_CONF=$dir/ceph.conf" "$dir/env" &&
		grep -qx "CEPH_POOL=qbd" "$dir/env" && cmp -s "$dir/env" "$work/env.out"
}

second_start_refused() {
	local out
	if out=$("$cluster" start --dir "$dir" 2>&1); then
		echo "a second start in $dir succeeded"
		return 1
	fi
	echo "$out"
	grep -q "already running" <<<"$out" && osds_up 3
}

# osds_up N: status reports N of the 3 OSDs up.
osds_up() {
	local out
	out=$("$cluster" status --dir "$dir") || return 1
	echo "$out"
	grep -q "up: $1 of 3 OSDs up" <<<"$out"
}

# round_trip IMAGE FILE: rbd import then export give the same bytes.
round_trip() {
	rbd import --no-progress "$2" "qbd/$1" &&
		rbd export --no-progress "qbd/$1" "$work/$1.out" &&
		cmp "$2" "$work/$1.out"
}

# An rbd import paced to last about five seconds; osd.1 is killed a second
# in.  The import must be running when the OSD dies, finish while the OSD is
# still down, and the image read back must be what was written.
writes_survive_kill() {
	local pid rc
	(
		for i in $(seq 0 47); do
			dd if="$work/big" bs=1M skip="$i" count=1 status=none
			sleep 0.1
		done
	) | timeout 120 rbd import --no-progress - qbd/during-kill &
	pid=$!
	sleep 1
	kill -0 "$pid" || { echo "the import ended before the kill"; return 1; }
	"$cluster" kill-osd 1 --dir "$dir" || return 1
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || { echo "rbd import failed ($rc) after the kill"; return 1; }
	osds_up 2 || { echo "osd.1 came back by itself"; return 1; }
	rbd export --no-progress qbd/during-kill - | cmp - "$work/big"
}

# After osd.1 was backfilled, losing osd.0 and then osd.2 (one at a time,
# the other back and clean in between) loses nothing: every PG has a
# complete copy on osd.1 or on the one left.  A killed memstore OSD comes
# back empty, so this reads data that recovery wrote.
recovered_copies_serve() {
	local victim
	for victim in 0 2; do
		"$cluster" kill-osd "$victim" --dir "$dir" || return 1
		rbd export --no-progress qbd/during-kill - | cmp - "$work/big" || return 1
		rbd export --no-progress qbd/degraded - | cmp - "$work/small" || return 1
		"$cluster" start-osd "$victim" --dir "$dir" || return 1
		"$cluster" wait-clean --dir "$dir" --timeout 120 || return 1
	done
}

start_osd_rejoins() {
	"$cluster" start-osd 1 --dir "$dir" && osds_up 3
}

second_cluster_beside() {
	local port_a port_b
	"$cluster" start --dir "$other" --osds 2 >/dev/null || return 1
	port_a=$(grep -o 'v2:127.0.0.1:[0-9]*' "$dir/ceph.conf")
	port_b=$(grep -o 'v2:127.0.0.1:[0-9]*' "$other/ceph.conf")
	echo "first $port_a, second $port_b"
	[ "$port_a" != "$port_b" ] || return 1
	CEPH_ARGS="--conf $other/ceph.conf --keyring $other/ceph.client.admin.keyring" \
		rbd create qbd/only-in-second --size 4M || return 1
	rbd ls qbd | grep -qx only-in-second && { echo "the image is in the first cluster too"; return 1; }
	"$cluster" stop --dir "$other" || return 1
	[ ! -e "$other" ] && [ -z "$(daemons_of "$other")" ] && osds_up 3
}

stopped_clean() {
	"$cluster" stop --dir "$dir" || return 1
	local left
	left=$(daemons_of "$dir")
	[ -z "$left" ] || { echo "still running: $left"; return 1; }
	[ ! -e "$dir" ] || { echo "$dir is still there"; return 1; }
}

# Nothing under the system's Ceph directories changed since the suite began
# (a daemon with a default path would write there).
nothing_outside() {
	local changed
	changed=$(find /etc/ceph /var/log/ceph /var/lib/ceph /run/ceph /var/run/ceph \
		-newer "$work/marker" 2>/dev/null)
	[ -z "$changed" ] || { echo "written outside the cluster's directory: $changed"; return 1; }
}

# A start whose OSDs cannot start fails, says why, and leaves nothing.
broken_start_cleans_up() {
	local out
	mkdir -p "$work/bin"
	printf '#!/bin/sh\necho "ceph-osd refuses for the test" >&2\nexit 1\n' >"$work/bin/ceph-osd"
	chmod +x "$work/bin/ceph-osd"
	if out=$(PATH=$work/bin:$PATH "$cluster" start --dir "$dir" 2>&1); then
		echo "start succeeded without ceph-osd"
		return 1
	fi
	echo "$out"
	grep -q "ceph-osd refuses for the test" <<<"$out" || { echo "no log tail"; return 1; }
	[ -z "$(daemons_of "$dir")" ] && [ ! -e "$dir" ]
}

touch "$work/marker"
head -c 48M /dev/urandom >"$work/big"
head -c 8M /dev/urandom >"$work/small"
"$cluster" stop --dir "$dir" >/dev/null 2>&1
check "start" started
# The start time, for the log: the goal is well under 30 s.
sed -n 's/^cluster.sh: /ceph-cluster: /p' "$work/start.err" 2>/dev/null
# shellcheck disable=SC1091
set -a && . "$dir/env" && set +a
check "a second start in the same directory is refused" second_start_refused
check "status: 3 of 3 OSDs up" osds_up 3
check "rbd import/export round trip" round_trip plain "$work/small"
check "writes go on while an OSD is killed" writes_survive_kill
check "writes with an OSD down round-trip" round_trip degraded "$work/small"
check "start-osd: the OSD rejoins" start_osd_rejoins
check "the pool recovers onto the returned OSD" "$cluster" wait-clean --dir "$dir" --timeout 120
check "recovered copies serve reads" recovered_copies_serve
check "a second cluster runs beside the first" second_cluster_beside
check "stop leaves no daemon and no directory" stopped_clean
check "stop again does nothing and succeeds" "$cluster" stop --dir "$dir"
check "a broken start stops what it started" broken_start_cleans_up
check "nothing written outside the cluster's directory" nothing_outside
echo "ceph-cluster: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
