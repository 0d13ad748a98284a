#!/usr/bin/env bash
# A throwaway Ceph cluster for the tests, from Debian's ceph-mon and ceph-osd:
# one monitor and N memstore OSDs on 127.0.0.1, no mgr, no systemd, every file
# it makes under one directory.
#
#   cluster.sh start [--dir DIR] [--osds N] [--osd-mb MB]
#   cluster.sh stop [--dir DIR]
#   cluster.sh kill-osd I [--dir DIR]
#   cluster.sh start-osd I [--dir DIR]
#   cluster.sh status [--dir DIR]
#   cluster.sh wait-clean [--dir DIR] [--timeout SECS]
#
# DIR defaults to $repo/build/ceph.  start writes DIR/ceph.conf,
# DIR/ceph.client.admin.keyring and DIR/env (CEPH_CONF, CEPH_KEYRING,
# CEPH_POOL, CEPH_ARGS and an export line: `. DIR/env` and rbd, ceph and
# librbd programs find the cluster) and prints the env lines on stdout; the
# pool "qbd" is replicated, size 2, min_size 1, and ready for RBD images.
# stop kills -9 the daemons of DIR (a throwaway cluster: a clean stop of a
# memstore OSD writes its data out, seconds for nothing) and removes DIR.
# kill-osd kills -9 one OSD, start-osd starts it again and waits until it is
# up; wait-clean waits until every PG is active+clean (recovery finished).
#
# Without a mgr, mgr commands (ceph pg stat, ceph df) hang for ever: every
# ceph call here is under timeout, and readiness is a real RBD write.
set -euo pipefail

top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
self=$(readlink -f "$0")
# A sourced DIR/env must not leak into the daemons: CEPH_ARGS would hand
# them the admin keyring.
unset CEPH_ARGS CEPH_CONF CEPH_KEYRING

usage() {
	sed -n '/^#   cluster.sh/s/^#   //p' "$self" >&2
	exit 2
}

say() { echo "cluster.sh: $*" >&2; }
die() {
	say "$*"
	exit 1
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
dir=$top/build/ceph
osds=3
osd_mb=512
osd_id=
wait_secs=120
while [ $# -gt 0 ]; do
	case $1 in
	--dir) dir=${2:?--dir needs a directory}; shift ;;
	--osds) osds=${2:?--osds needs a number}; shift ;;
	--osd-mb) osd_mb=${2:?--osd-mb needs a size in MiB}; shift ;;
	--timeout) wait_secs=${2:?--timeout needs seconds}; shift ;;
	[0-9]*) osd_id=$1 ;;
	*) usage ;;
	esac
	shift
done
dir=$(readlink -m "$dir")
conf=$dir/ceph.conf
admin=$dir/ceph.client.admin.keyring

ceph_() { timeout "${CEPH_TIMEOUT:-30}" ceph --conf "$conf" --keyring "$admin" "$@"; }
rbd_() { timeout "${CEPH_TIMEOUT:-60}" rbd --conf "$conf" --keyring "$admin" "$@"; }

# The pids of ceph-mon and ceph-osd processes started with -c DIR/ceph.conf:
# the pid files, and /proc for a daemon that died before writing its pid file
# or that was started by hand.  No other process is ever named.
daemon_pids() {
	local p comm
	for p in /proc/[0-9]*; do
		comm=$(cat "$p/comm" 2>/dev/null) || continue
		case $comm in ceph-mon | ceph-osd) ;; *) continue ;; esac
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF "$conf" || continue
		alive "${p#/proc/}" && echo "${p#/proc/}"
	done
}

# Running and not a zombie (PID 1 here reaps late).
alive() {
	local state
	state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# The pid of daemon NAME (mon.a, osd.0) of DIR, if it runs.
daemon_pid() {
	local pid
	pid=$(cat "$dir/run/$1.pid" 2>/dev/null) || return 1
	alive "$pid" && tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$conf" &&
		echo "$pid"
}

# kill -9 PIDS and wait until every one is gone.
kill_wait() {
	local pid left deadline=$((SECONDS + 30))
	[ $# -gt 0 ] || return 0
	kill -9 "$@" 2>/dev/null || true
	while :; do
		left=0
		for pid in "$@"; do alive "$pid" && left=1; done
		[ $left -eq 0 ] && return 0
		[ $SECONDS -lt $deadline ] || die "daemons $* did not exit after kill -9"
		sleep 0.05
	done
}

# Run a command silently; show what it said when it fails.
quiet() {
	local out
	out=$("$@" 2>&1) || { echo "$out" >&2; say "failed: $*"; return 1; }
}

log_tail() {
	local f
	for f in "$dir"/log/*; do
		[ -s "$f" ] || continue
		echo "--- $f (last 15 lines)" >&2
		tail -n 15 "$f" >&2
	done
}

stop_cluster() {
	# shellcheck disable=SC2046
	kill_wait $(daemon_pids)
	rm -rf "$dir"
}

# A free v2/v1 port pair for the monitor: several clusters (the suite, the
# gtests, another checkout) can run at once, so 3300/6789 may be taken.  The
# OSDs take free ports of ms_bind_port_min..max themselves.
free_port_pair() {
	local p used
	used=$(ss -Hltn 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
	for ((p = 3300; p < 3900; p += 2)); do
		grep -qx -e "$p" -e "$((p + 1))" <<<"$used" || { echo $p; return 0; }
	done
	return 1
}

write_conf() {
	local fsid=$1 port=$2
	cat >"$conf" <<EOF
# Written by tests/ceph/cluster.sh for a throwaway test cluster.
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$port,v1:127.0.0.1:$((port + 1))
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $admin
run dir = $dir/run
crash dir = $dir/crash
osd objectstore = memstore
memstore device bytes = $((osd_mb << 20))
# One host: replicas go to different OSDs, not hosts; it must be set
# before the monitor's mkfs, which writes the default crush rule.
osd crush chooseleaf type = 0
osd pool default size = 2
osd pool default min size = 1
osd pool default pg autoscale mode = off
mon allow pool delete = true
# Replicated pools only: the erasure-code plugins that the daemons preload
# by default crash in jerasure's SIMD set-up on qemu's default CPU (TCG).
osd erasure code plugins =
# Map changes (new OSDs, the pool, PG creation) are proposed at once, not
# batched for a second each: start is seconds faster.
paxos propose interval = 0.05
mon warn on pool no redundancy = false
auth allow insecure global id reclaim = false
# A killed OSD is seen within a few seconds, not 20: one reporter suffices
# (all OSDs share a host, the default subtree), and the read lease
# (0.8 x grace) that stalls IO after a kill is short.
osd heartbeat interval = 1
osd heartbeat grace = 4
mon osd min down reporters = 1
mon osd reporter subtree level = osd
# The monitor stops at 5% free space on its filesystem by default: in a
# guest that is a small tmpfs shared with everything else.
mon data avail warn = 1
mon data avail crit = 0

[mon]
mon data = $dir/mon
keyring = $dir/mon/keyring
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
mon cluster log file = $dir/log/cluster.log

[osd]
osd data = $dir/osd\$id
keyring = $dir/osd\$id/keyring
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
# Not the machine's host name: a guest's may not be a valid crush name.
crush location = root=default host=qbd-test
EOF
}

# spawn NAME DAEMON ARGS...: start a daemon (it forks into the background)
# with only stdin, stdout and stderr open: an inherited descriptor would keep
# the caller's pipe (a $(...), a test harness) or this script's lock open for
# the daemon's whole life.
spawn() {
	local name=$1
	shift
	(
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		exec "$@" </dev/null >>"$dir/log/$name.out" 2>&1
	)
}

# Start OSD I from its data directory; wait until it runs.
run_osd() {
	local i=$1
	spawn "osd.$i" ceph-osd -c "$conf" -i "$i" ||
		die "ceph-osd -i $i did not start: $(tail -n 5 "$dir/log/osd.$i.out")"
}

osd_up() {
	ceph_ osd dump 2>/dev/null | grep -q "^osd\.$1 up "
}

make_osd() {
	local i=$1 uuid secret
	uuid=$(cat /proc/sys/kernel/random/uuid)
	secret=$(ceph-authtool --gen-print-key)
	mkdir -p "$dir/osd$i"
	echo "{\"cephx_secret\": \"$secret\"}" | quiet ceph_ osd new "$uuid" "$i" -i -
	ceph-authtool --create-keyring "$dir/osd$i/keyring" --name "osd.$i" --add-key "$secret" >/dev/null
	ceph-osd -c "$conf" -i "$i" --mkfs --osd-uuid "$uuid" >>"$dir/log/osd.$i.out" 2>&1 ||
		die "ceph-osd -i $i --mkfs failed"
	run_osd "$i"
}

start_failed() {
	local rc=$?
	if [ $rc -ne 0 ]; then
		say "start failed"
		log_tail
		stop_cluster
	fi
	exit $rc
}

start_cluster() {
	local t0 pids=() p i port fsid
	t0=$(date +%s.%N)
	[ "$osds" -ge 2 ] || die "--osds must be at least 2 (the pool has size 2)"
	[ ${#dir} -le 80 ] || die "$dir: too long for the admin sockets under it (80 characters at most)"
	if [ -n "$(daemon_pids)" ]; then
		die "a cluster is already running in $dir (pids $(daemon_pids | tr '\n' ' ')); run: $self stop --dir $dir"
	fi
	rm -rf "$dir"
	mkdir -p "$dir/mon" "$dir/run" "$dir/log" "$dir/crash"
	# On any failure from here: the log tail, then nothing left running.
	trap start_failed EXIT

	ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
	ceph-authtool --create-keyring "$admin" --gen-key -n client.admin \
		--cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
	ceph-authtool "$dir/mon.keyring" --import-keyring "$admin" >/dev/null
	fsid=$(cat /proc/sys/kernel/random/uuid)

	# Choosing a port and binding it is one step for concurrent starts: the
	# lock is on this script itself, so it makes no file.
	exec 9<"$self"
	flock 9
	port=$(free_port_pair) || die "no free port pair in 3300-3899 for the monitor"
	write_conf "$fsid" "$port"
	monmaptool --create --addv a "[v2:127.0.0.1:$port,v1:127.0.0.1:$((port + 1))]" \
		--fsid "$fsid" "$dir/monmap" >/dev/null
	ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring" \
		>>"$dir/log/mon.a.out" 2>&1
	spawn mon.a ceph-mon -c "$conf" -i a || die "ceph-mon did not start"
	for ((i = 0; i < 200; i++)); do
		ss -Hltn "sport = :$port" | grep -q . && break
		[ -n "$(daemon_pids)" ] || die "ceph-mon exited"
		sleep 0.05
	done
	ss -Hltn "sport = :$port" | grep -q . || die "ceph-mon does not listen on 127.0.0.1:$port"
	exec 9<&-

	for ((i = 0; i < osds; i++)); do
		make_osd "$i" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || die "an OSD did not start"; done
	quiet ceph_ osd pool create qbd 16 16 replicated
	quiet rbd_ pool init qbd
	# Ready means a client can write: every PG of the pool is active.
	quiet rbd_ create qbd/cluster-sh-ready --size 4M
	quiet rbd_ bench --io-type write --io-size 4K --io-total 64K qbd/cluster-sh-ready
	quiet rbd_ rm --no-progress qbd/cluster-sh-ready

	cat >"$dir/env" <<EOF
CEPH_CONF=$conf
CEPH_KEYRING=$admin
CEPH_POOL=qbd
CEPH_ARGS="--conf $conf --keyring $admin"
export CEPH_CONF CEPH_KEYRING CEPH_POOL CEPH_ARGS
EOF
	trap - EXIT
	cat "$dir/env"
	say "$(awk -v a="$t0" -v b="$(date +%s.%N)" -v n="$osds" -v p="$port" 'BEGIN {
		printf "1 mon (127.0.0.1:%d) and %d OSDs up in %.1f s", p, n, b - a }')"
}

# "N of M PGs active+clean"; true when all are.  PG states are the mgr's
# to report, and there is none: ask each PG's primary OSD, in one process
# (a ceph CLI per PG is seconds under TCG).
pgs_clean() {
	timeout 60 /usr/bin/python3 - "$conf" "$admin" <<'EOF'
import json, sys
import rados

c = rados.Rados(conffile=sys.argv[1], conf={"keyring": sys.argv[2]})
c.connect(timeout=10)
r, out, err = c.mon_command(json.dumps({"prefix": "osd dump", "format": "json"}), b"")
if r != 0:
    sys.exit("osd dump: " + err)
pgs = ["%d.%x" % (p["pool"], i) for p in json.loads(out)["pools"] for i in range(p["pg_num"])]
states = {}
for pg in pgs:
    q = {"prefix": "query", "pgid": pg, "format": "json"}
    try:
        r, out, err = c.pg_command(pg, json.dumps(q), b"", timeout=5)
        state = json.loads(out)["state"] if r == 0 else "error %d" % r
    except rados.Error as e:
        state = "unanswered (%s)" % type(e).__name__
    states[state] = states.get(state, 0) + 1
clean = states.get("active+clean", 0)
others = ", ".join("%d %s" % (n, s) for s, n in sorted(states.items()) if s != "active+clean")
print("%d of %d PGs active+clean%s" % (clean, len(pgs), "; " + others if others else ""))
sys.exit(0 if clean == len(pgs) else 1)
EOF
}

need_osd_id() {
	[[ $osd_id =~ ^[0-9]+$ ]] || die "$cmd needs an OSD number"
	[ -d "$dir/osd$osd_id" ] || die "$dir has no osd.$osd_id"
}

case $cmd in
start) start_cluster ;;
stop) stop_cluster ;;
kill-osd)
	need_osd_id
	pid=$(daemon_pid "osd.$osd_id") || die "osd.$osd_id is not running"
	kill_wait "$pid"
	;;
start-osd)
	need_osd_id
	! daemon_pid "osd.$osd_id" >/dev/null || die "osd.$osd_id is already running"
	run_osd "$osd_id"
	# Rejoined means marked up in the osdmap again.
	deadline=$((SECONDS + 60))
	until osd_up "$osd_id"; do
		[ $SECONDS -lt $deadline ] || die "osd.$osd_id did not come up: $(tail -n 5 "$dir/log/osd.$osd_id.log")"
		sleep 0.2
	done
	;;
status)
	[ -n "$(daemon_pid mon.a)" ] || { echo "no cluster running in $dir"; exit 1; }
	stat=$(ceph_ osd stat -f json) || { echo "the monitor of $dir does not answer"; exit 1; }
	echo "$stat" | jq -r '"up: \(.num_up_osds) of \(.num_osds) OSDs up, \(.num_in_osds) in (epoch \(.epoch))"'
	;;
wait-clean)
	[ -n "$(daemon_pid mon.a)" ] || die "no cluster running in $dir"
	deadline=$((SECONDS + wait_secs))
	until last=$(pgs_clean 2>&1); do
		[ $SECONDS -lt $deadline ] || die "not clean after $wait_secs s: $last"
		sleep 0.5
	done
	echo "$last"
	;;
*) usage ;;
esac
