# Helpers for guest scenarios; each scenario sources this first.
# shellcheck shell=bash
set -euo pipefail

QBD_ROOT=${QBD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
QBD_KO=${QBD_KO:-$QBD_ROOT/module/qbd.ko}
QBD=$QBD_ROOT/build/cmd/qbd
QBD_SERVER=$QBD_ROOT/build/server/qbd-server
SCENARIO=$(basename "$0" .sh)
declare -A SERVER_PIDS=()

die() {
	echo "FAILED: $*" >&2
	exit 1
}

# Exit as skipped, saying why.
skip() {
	echo "QBDTEST SKIP $SCENARIO $*"
	exit 77
}

# Run a command that must fail.
expect_fail() {
	if "$@"; then
		die "expected failure: $*"
	fi
	return 0
}

# wait_for SECONDS COMMAND...: poll until the command succeeds.  The
# deadline is on the clock: under TCG a poll round (a fork or two) takes
# far longer than its 0.1 s sleep, and counting rounds made a 60 s wait
# last minutes.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# kernel_said GREP-ARGS...: a line of the kernel log matches.  Never
# "dmesg | grep -q" under pipefail: grep leaves at its first match, dmesg,
# still writing, dies of SIGPIPE, and the pipeline fails although the
# line is there.
kernel_said() { grep -q "$@" <<<"$(dmesg)"; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

_have_server() { [ -x "$QBD_SERVER" ]; }
_have_qbd() { [ -x "$QBD" ]; }
require_userspace() {
	_have_server || skip "build/server/qbd-server is not built"
	_have_qbd || skip "build/cmd/qbd is not built"
}

qbd_load_module() {
	lsmod | grep -q '^qbd ' || insmod "$QBD_KO"
	[ -c /dev/qbdctl ] || die "/dev/qbdctl did not appear"
}

# A process that opened a disk just before its unmap (udev's blkid) holds
# the module until it closes: allow it a moment.
qbd_unload_module() {
	lsmod | grep -q '^qbd_rdma ' && { wait_for 30 rmmod qbd_rdma || rmmod qbd_rdma; }
	lsmod | grep -q '^qbd ' || return 0
	wait_for 30 rmmod qbd || rmmod qbd
}

# Authentication is on in the guest as on a real host: the servers
# start_server starts know this host (QBD_HOST_ID) by the key QBD_KEYS
# (server side) and QBD_HOST_KEY (this host's) hold, made by ensure_keys
# with qbd-server add-host, and write_conf names them in qbd.conf.
# QBD_ADMIN_AUTH is what a qbd-server volume command needs for --server.
# A scenario whose peer cannot authenticate (a hostile server, a probe)
# sets NO_KEYS=1 before start_server and write_conf.
QBD_HOST_ID=guest
QBD_KEYS=/tmp/qbd-keys/server.keys
QBD_HOST_KEY=/tmp/qbd-keys/host.key
QBD_ADMIN_AUTH=(--host-id "$QBD_HOST_ID" --key-file "$QBD_HOST_KEY")
# Made once per boot, and again if a scenario left them changed.
ensure_keys() {
	[ -s "$QBD_HOST_KEY" ] && grep -qxF "$QBD_HOST_ID $(cat "$QBD_HOST_KEY")" "$QBD_KEYS" 2>/dev/null &&
		return 0
	rm -f "$QBD_KEYS" "$QBD_HOST_KEY"
	mkdir -p -m 700 "$(dirname "$QBD_KEYS")"
	(umask 077 && "$QBD_SERVER" add-host "$QBD_HOST_ID" --keys-file "$QBD_KEYS" >"$QBD_HOST_KEY")
}
_auth_args() {
	if [ "${NO_KEYS:-0}" = 1 ]; then
		echo --allow-unauthenticated
	else
		ensure_keys
		echo --keys-file "$QBD_KEYS"
	fi
}

# start_server NAME HOST:PORT [serve options...]: a qbd-server with its own
# data directory, running in the background (in the current network
# namespace, or in $NETNS when set).
start_server() {
	local name=$1 addr=$2
	shift 2
	local dir=/tmp/qbd-server-$name ns=() auth
	[ -n "${NETNS:-}" ] && ns=(ip netns exec "$NETNS")
	read -ra auth <<<"$(_auth_args)"
	mkdir -p "$dir"
	"$QBD_SERVER" init --data-dir "$dir" >/dev/null
	"${ns[@]}" "$QBD_SERVER" serve --data-dir "$dir" --listen "$addr" "${auth[@]}" "$@" \
		>>"$dir.log" 2>&1 &
	SERVER_PIDS[$name]=$!
	wait_for 30 "${ns[@]}" bash -c "exec 3<>/dev/tcp/${addr%:*}/${addr##*:}" ||
		{ cat "$dir.log" >&2; die "qbd-server $name did not listen on $addr"; }
}

stop_server() {
	local name=$1 sig=${2:-TERM}
	local pid=${SERVER_PIDS[$name]:-}
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "SERVER_PIDS[$name]"
}

# create_volume POOL/VOLUME SIZE [options...] on the server at $QBD_CTL.
# Hostile-peer scenarios: a control server that sends clients of a 16 MiB,
# one-shard VOLUME to 127.0.0.1:7801, where start_hostile starts
# qbd-hostile-server in MODE (its pid in HOSTILE_PID; cleanup stops it).
HOSTILE=$QBD_ROOT/build/tests/peers/qbd-hostile-server
HOSTILE_PID=
require_hostile() { [ -x "$HOSTILE" ] || skip "qbd-hostile-server is not built"; }
hostile_volume() {
	# The hostile server proves no key: the host has none for this test.
	NO_KEYS=1
	start_server ctl 127.0.0.1:7800 --advertise 127.0.0.1:7801
	write_conf 127.0.0.1:7800
	create_volume "$1" 16M --shard-size 16M
}
start_hostile() {
	local mode=$1
	shift
	"$HOSTILE" --port 7801 --size $((16 << 20)) --shard-size $((16 << 20)) --mode "$mode" "$@" \
		2>/dev/null &
	HOSTILE_PID=$!
	wait_for 30 port_open 127.0.0.1 7801 || die "hostile server did not start"
}
stop_hostile() {
	[ -n "$HOSTILE_PID" ] || return 0
	kill "$HOSTILE_PID" 2>/dev/null || true
	wait "$HOSTILE_PID" 2>/dev/null || true
	HOSTILE_PID=
}

# RDMA scenarios: rdma_cm and soft-RoCE (skip without them), qbd.ko and
# qbd_rdma.ko loaded, the kernel log of earlier scenarios cleared.
require_rdma() {
	modprobe crc32_generic 2>/dev/null || true
	modprobe rdma_cm || skip "rdma_cm is not available in this kernel"
	modprobe rdma_rxe || skip "rdma_rxe is not available in this kernel"
	qbd_load_module
	insmod "$(dirname "$QBD_KO")/qbd_rdma.ko" || die "qbd_rdma.ko does not load"
	dmesg -C
}

# A veth pair qh (10.98.0.1) - qs (10.98.0.2) in this namespace with an rxe
# device on each end; the server's address in S, written to qbd.conf.  The
# caller's EXIT trap deletes qh.
rxe_veth_pair() {
	ip link add qh type veth peer name qs
	ip addr add 10.98.0.1/24 dev qh
	ip addr add 10.98.0.2/24 dev qs
	ip link set qh up
	ip link set qs up
	rdma link add rxe_h type rxe netdev qh || die "cannot add the rxe link on qh"
	rdma link add rxe_s type rxe netdev qs || die "cannot add the rxe link on qs"
	S=10.98.0.2:7800
	write_conf $S
}

# The crc32c mismatches the driver counted on a device.
crc_errors() { cat "/sys/block/$(basename "$1")/qbd/crc_errors"; }

# expect_crc_read_fails SECS DEV DD-ARGS...: with a server that spoils
# every payload's crc32c, a read of DEV fails with EIO within SECS once
# the driver's 1 + 3 tries are spent, hands no data over, and is counted
# and logged.
expect_crc_read_fails() {
	local secs=$1 dev=$2
	shift 2
	rm -f /tmp/back
	timeout "$secs" dd if="$dev" of=/tmp/back iflag=direct status=none "$@" 2>/tmp/err &&
		die "bad-crc: a read succeeded although every reply was corrupt"
	grep -q "Input/output error" /tmp/err || die "bad-crc: the read did not fail with EIO: $(cat /tmp/err)"
	[ ! -s /tmp/back ] || die "bad-crc: corrupt data reached the application"
	[ "$(crc_errors "$dev")" -ge 4 ] || die "bad-crc: $(crc_errors "$dev") mismatches, not 1 + 3 tries"
	kernel_said "crc32c mismatch.*out of retries" || die "bad-crc: no log line for the failed read"
}

create_volume() {
	local auth=("${QBD_ADMIN_AUTH[@]}")
	[ "${NO_KEYS:-0}" = 1 ] && auth=()
	"$QBD_SERVER" create "$@" --server "${QBD_CTL:-127.0.0.1:7800}" "${auth[@]}" >/dev/null
}

# write_conf HOST:PORT...: /etc/qbd/qbd.conf naming the control servers,
# and this host's id and key (unless NO_KEYS=1).
write_conf() {
	mkdir -p /etc/qbd
	local IFS=,
	echo "servers = $*" >/etc/qbd/qbd.conf
	[ "${NO_KEYS:-0}" = 1 ] && return 0
	ensure_keys
	printf 'host_id = %s\nkey_file = %s\n' "$QBD_HOST_ID" "$QBD_HOST_KEY" >>/etc/qbd/qbd.conf
}

# The device a mapped volume got, from its udev link.
dev_of() { readlink -f "/dev/qbd/$1"; }

# Unmount whatever a failed scenario left mounted from a qbd disk: a
# mount holds qbd.ko, and the next scenario would find it still loaded.
# guest.sh runs it between scenarios too.
unmount_qbd() {
	local mnt
	awk '$1 ~ "^/dev/qbd" { print $2 }' /proc/mounts | sort -r | while read -r mnt; do
		echo "unmount_qbd: $mnt was left mounted"
		umount "$mnt" 2>/dev/null || umount -l "$mnt"
	done
}

# Unmount, unmap everything, stop servers, unload: scenarios end clean.
cleanup() {
	local d
	stop_hostile
	unmount_qbd || true
	for d in /sys/block/qbd*; do
		[ -e "$d" ] || continue
		"$QBD" -u "/dev/$(basename "$d")" --force >/dev/null 2>&1 || true
	done
	for name in "${!SERVER_PIDS[@]}"; do
		stop_server "$name" KILL
	done
	qbd_unload_module || true
}

# Ceph scenarios: the test cluster of tests/ceph/cluster.sh (one monitor,
# three memstore OSDs on 127.0.0.1) on the guest's /tmp tmpfs.  start_ceph
# [cluster.sh start options...] exports CEPH_CONF, CEPH_KEYRING, CEPH_POOL
# and CEPH_ARGS, so rbd and librbd programs find it; trap stop_ceph (with
# cleanup) on EXIT.  A memstore OSD holds its data in RAM: 256 MiB each by
# default here, within the guest's 2 GB.
CEPH_CLUSTER=$QBD_ROOT/tests/ceph/cluster.sh
CEPH_DIR=/tmp/qbd-ceph
require_ceph() {
	if ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null; then
		skip "ceph-mon and ceph-osd are not installed (scripts/install-deps.sh)"
	fi
}
start_ceph() {
	require_ceph
	# A scenario killed by its timeout leaves the daemons (they run in
	# their own session) and the directory: not the next one's problem.
	"$CEPH_CLUSTER" stop --dir "$CEPH_DIR"
	"$CEPH_CLUSTER" start --dir "$CEPH_DIR" --osd-mb 256 "$@" >/dev/null ||
		die "the Ceph cluster did not start"
	set -a
	# shellcheck disable=SC1091
	. "$CEPH_DIR/env"
	set +a
}
stop_ceph() { "$CEPH_CLUSTER" stop --dir "$CEPH_DIR"; }

# start_gateway NAME HOST:PORT [serve options...]: a qbd-server with the
# rbd backend serving the test cluster's pool, advertising HOST:PORT
# (after start_ceph).
start_gateway() {
	local name=$1 addr=$2 conf=/tmp/qbd-gateway.conf
	shift 2
	cat >"$conf" <<-EOF
		backend = rbd
		ceph_conf = $CEPH_CONF
		ceph_keyring = $CEPH_KEYRING
		pools = $CEPH_POOL
	EOF
	start_server "$name" "$addr" --config "$conf" --advertise "$addr" "$@"
}
