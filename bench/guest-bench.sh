#!/usr/bin/env bash
# Runs inside the guest: the same fio jobs against each target, every one
# backed by a file of the same size on tmpfs, so the driver and network
# path is what differs.  Writes one JSON object per (target, job) line to
# $QBD_BENCH_OUT.
#
#   guest-bench.sh [target...]
#   targets: null_blk qbd-tcp nbd nvme-tcp qbd-rdma nvme-rdma
#            qbd-rbd krbd rbd-nbd (the last three: an RBD image of the same
#            size on a Ceph cluster in this guest, through a qbd-server
#            gateway, the kernel's rbd.ko, and rbd-nbd)
#            qbd-tcp-nocrc, qbd-rdma-nocrc (mapped with crc32c=no)
# With no argument, the targets come from $QBD_BENCH_TARGETS (comma
# separated), else all of them; $QBD_BENCH_JOBS (comma separated job names)
# picks jobs the same way.  Each job runs $QBD_BENCH_REPEAT times (3) and
# is recorded as the median.  Sourced, it only defines the functions.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${QBD_BENCH_OUT:-/tmp/bench.jsonl}
runtime=${QBD_BENCH_RUNTIME:-10}
repeat=${QBD_BENCH_REPEAT:-3}
size_mb=${QBD_BENCH_SIZE_MB:-512}
store=/dev/shm/qbd-bench
# How qbd-server serves: polling for a QD1 client's next request (see
# qbd-server(8) --busy-poll); recorded with each qbd result.
qbd_server_args=(--busy-poll 1000)
mkdir -p "$store"

log() { echo "bench: $*" >&2; }

wait_port() {
	local port=$1 i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- targets: setup prints the device, teardown undoes it -----------------

setup_null_blk() {
	modprobe null_blk queue_mode=2 gb=$((size_mb / 1024 + 1)) bs=512 nr_devices=1 \
		submit_queues="$(nproc)" hw_queue_depth=128
	echo /dev/nullb0
}
teardown_null_blk() { rmmod null_blk; }

setup_nbd() {
	truncate -s "${size_mb}M" "$store/nbd.img"
	cat >"$store/nbd.conf" <<CONF
[generic]
allowlist = true
[bench]
exportname = $store/nbd.img
multifile = false
CONF
	nbd-server -C "$store/nbd.conf" >/dev/null 2>&1
	wait_port 10809
	modprobe nbd nbds_max=1
	nbd-client -N bench -C "$(nproc)" 127.0.0.1 10809 /dev/nbd0 >/dev/null
	echo /dev/nbd0
}
teardown_nbd() {
	nbd-client -d /dev/nbd0 >/dev/null 2>&1 || true
	pkill -x nbd-server || true
	rmmod nbd || true
	# The store is a tmpfs of half the guest's memory: what one target
	# wrote must not leave the next one without space.
	rm -f "$store/nbd.img" "$store/nbd.conf"
}

nvmet=/sys/kernel/config/nvmet
nqn=nqn.2026-11.io.qbd:bench
# The kernel target on port $1 over transport $2 at $3, serving a file on
# tmpfs, and the host connected to it; prints the namespace's device.
setup_nvmet() {
	local port=$1 trtype=$2 addr=$3 i dev
	truncate -s "${size_mb}M" "$store/nvme-$trtype.img"
	modprobe nvmet
	modprobe "nvmet_$trtype"
	modprobe "nvme_$trtype"
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	mkdir "$nvmet/subsystems/$nqn"
	echo 1 >"$nvmet/subsystems/$nqn/attr_allow_any_host"
	mkdir "$nvmet/subsystems/$nqn/namespaces/1"
	echo "$store/nvme-$trtype.img" >"$nvmet/subsystems/$nqn/namespaces/1/device_path"
	# tmpfs has no O_DIRECT: the file backend must use the page cache.
	echo 1 >"$nvmet/subsystems/$nqn/namespaces/1/buffered_io"
	echo 1 >"$nvmet/subsystems/$nqn/namespaces/1/enable"
	mkdir "$nvmet/ports/$port"
	echo "$trtype" >"$nvmet/ports/$port/addr_trtype"
	echo ipv4 >"$nvmet/ports/$port/addr_adrfam"
	echo "$addr" >"$nvmet/ports/$port/addr_traddr"
	echo 4420 >"$nvmet/ports/$port/addr_trsvcid"
	ln -s "$nvmet/subsystems/$nqn" "$nvmet/ports/$port/subsystems/$nqn"
	nvme connect -t "$trtype" -a "$addr" -s 4420 -n "$nqn" >/dev/null
	for i in $(seq 50); do
		dev=$(ls /dev/nvme*n1 2>/dev/null | head -n 1 || true)
		[ -n "$dev" ] && break
		sleep 0.1
	done
	[ -n "$dev" ] && echo "$dev"
}
teardown_nvmet() {
	local port=$1 trtype=$2
	nvme disconnect -n "$nqn" >/dev/null || true
	rm -f "$nvmet/ports/$port/subsystems/$nqn"
	rmdir "$nvmet/ports/$port" || true
	echo 0 >"$nvmet/subsystems/$nqn/namespaces/1/enable" || true
	rmdir "$nvmet/subsystems/$nqn/namespaces/1" "$nvmet/subsystems/$nqn" || true
	rm -f "$store/nvme-$trtype.img"
}
setup_nvme_tcp() { setup_nvmet 1 tcp 127.0.0.1; }
teardown_nvme_tcp() { teardown_nvmet 1 tcp; }

# Soft-RoCE on a veth end in this namespace (the 6.1 rxe driver receives
# only in the initial one): RDMA targets and their clients meet on
# 10.98.0.2 through rxe's loopback, as the TCP targets meet on 127.0.0.1.
rdma_addr=10.98.0.2
setup_rxe() {
	rdma link show 2>/dev/null | grep -q rxe_bench && return 0
	modprobe crc32_generic 2>/dev/null || true
	modprobe rdma_rxe && modprobe rdma_cm || return 1
	ip link add qbh type veth peer name qbs
	ip addr add 10.98.0.1/24 dev qbh
	ip addr add "$rdma_addr/24" dev qbs
	ip link set qbh up
	ip link set qbs up
	rdma link add rxe_bench type rxe netdev qbs
}

setup_nvme_rdma() { setup_rxe && setup_nvmet 2 rdma "$rdma_addr"; }
teardown_nvme_rdma() { teardown_nvmet 2 rdma; }

# qbd authenticates as it does by default (the cost is in the handshake
# only): the server knows this host "bench" by a key, and qbd.conf (written
# by qbd_conf SERVER) names it.
bench_keys=$store/keys
ensure_bench_keys() {
	[ -s "$bench_keys/host.key" ] && return 0
	mkdir -p -m 700 "$bench_keys"
	(umask 077 && "$top/build/server/qbd-server" add-host bench --keys-file "$bench_keys/server.keys" \
		>"$bench_keys/host.key")
}
qbd_conf() {
	mkdir -p /etc/qbd
	printf 'servers = %s\nhost_id = bench\nkey_file = %s\n' "$1" "$bench_keys/host.key" \
		>/etc/qbd/qbd.conf
}

# qbd-server on tmpfs, one volume, mapped over $1 (tcp or rdma) at $2,
# with the map options $3 if given.
setup_qbd() {
	local transport=$1 addr=$2 opts=${3:-} server=$top/build/server/qbd-server qbd=$top/build/cmd/qbd
	local extra=()
	lsmod | grep -q '^qbd ' || insmod "$QBD_KO"
	if [ "$transport" = rdma ]; then
		lsmod | grep -q '^qbd_rdma ' || insmod "$(dirname "$QBD_KO")/qbd_rdma.ko"
		extra=(--rdma)
	fi
	rm -rf "$store/qbd"
	ensure_bench_keys
	"$server" init --data-dir "$store/qbd" >/dev/null
	"$server" serve --data-dir "$store/qbd" --listen "$addr:7800" --keys-file "$bench_keys/server.keys" \
		"${extra[@]}" "${qbd_server_args[@]}" >"$store/qbd-server.log" 2>&1 &
	local i
	for i in $(seq 100); do
		grep -q "listening${extra:+ with rdma}" "$store/qbd-server.log" 2>/dev/null && break
		sleep 0.1
	done
	"$server" create bench/vol "${size_mb}M" --server "$addr:7800" --host-id bench \
		--key-file "$bench_keys/host.key" >/dev/null
	qbd_conf "$addr:7800"
	"$qbd" -m "$transport://bench/vol" --no-wait ${opts:+-o "$opts"}
}
teardown_qbd() {
	"$top/build/cmd/qbd" -u bench/vol >/dev/null || true
	pkill -f "qbd-server serve" || true
	sleep 1
	rm -rf "$store/qbd"
}
# The test cluster of tests/ceph/cluster.sh (one monitor, three memstore
# OSDs, a pool of size 2), started before the targets when one of them is
# an RBD one (in this shell: setup runs in a subshell, and its environment
# would be lost) and stopped when the benchmark ends; each target gets an
# image of its own, removed after it.
ceph_dir=/tmp/qbd-bench-ceph
start_bench_ceph() {
	[ -e "$ceph_dir/env" ] && return 0
	"$top/tests/ceph/cluster.sh" start --dir "$ceph_dir" --osd-mb $((size_mb * 3 / 4)) >/dev/null ||
		return 1
	set -a
	# shellcheck disable=SC1091
	. "$ceph_dir/env"
	set +a
}
stop_bench_ceph() { [ ! -e "$ceph_dir" ] || "$top/tests/ceph/cluster.sh" stop --dir "$ceph_dir"; }
setup_rbd_image() {
	[ -n "${CEPH_POOL:-}" ] || return 1
	rbd create "$CEPH_POOL/$1" --size "${size_mb}M"
}

# qbd over TCP to a qbd-server gateway (the rbd backend, librbd's cache off,
# as it always runs) serving the image.
setup_qbd_rbd() {
	local server=$top/build/server/qbd-server qbd=$top/build/cmd/qbd i
	setup_rbd_image qbd-rbd || return 1
	lsmod | grep -q '^qbd ' || insmod "$QBD_KO"
	cat >"$store/gateway.conf" <<CONF
backend = rbd
ceph_conf = $CEPH_CONF
ceph_keyring = $CEPH_KEYRING
pools = $CEPH_POOL
CONF
	ensure_bench_keys
	"$server" serve --config "$store/gateway.conf" --listen 127.0.0.1:7800 \
		--keys-file "$bench_keys/server.keys" "${qbd_server_args[@]}" >"$store/qbd-server.log" 2>&1 &
	for i in $(seq 100); do
		grep -q "listening" "$store/qbd-server.log" 2>/dev/null && break
		sleep 0.1
	done
	qbd_conf 127.0.0.1:7800
	"$qbd" -m "tcp://$CEPH_POOL/qbd-rbd" --no-wait
}
teardown_qbd_rbd() {
	"$top/build/cmd/qbd" -u "$CEPH_POOL/qbd-rbd" >/dev/null || true
	pkill -f "qbd-server serve" || true
	sleep 1
	rbd rm --no-progress "$CEPH_POOL/qbd-rbd" >/dev/null 2>&1 || true
}

# The same kernel's rbd.ko (krbd), over msgr2 in crc mode as qbd's TCP is
# not encrypted either.
setup_krbd() {
	setup_rbd_image krbd || return 1
	modprobe rbd || return 1
	rbd device map -o ms_mode=crc "$CEPH_POOL/krbd"
}
teardown_krbd() {
	rbd device unmap "$CEPH_POOL/krbd" >/dev/null 2>&1 || true
	rbd rm --no-progress "$CEPH_POOL/krbd" >/dev/null 2>&1 || true
}

# rbd-nbd with librbd's cache off, as the gateway runs (with it on, an
# acknowledged write would be in the client's memory, not in RADOS).
setup_rbd_nbd() {
	setup_rbd_image rbd-nbd || return 1
	modprobe nbd nbds_max=2 || return 1
	rbd-nbd map --rbd-cache=false "$CEPH_POOL/rbd-nbd"
}
teardown_rbd_nbd() {
	rbd-nbd unmap "$CEPH_POOL/rbd-nbd" >/dev/null 2>&1 || true
	sleep 1
	rmmod nbd 2>/dev/null || true
	rbd rm --no-progress "$CEPH_POOL/rbd-nbd" >/dev/null 2>&1 || true
}

setup_qbd_tcp() { setup_qbd tcp 127.0.0.1; }
teardown_qbd_tcp() { teardown_qbd; }
# qbd-tcp without its end-to-end crc32c: what the checksums cost.
setup_qbd_tcp_nocrc() { setup_qbd tcp 127.0.0.1 crc32c=no; }
teardown_qbd_tcp_nocrc() { teardown_qbd; }
setup_qbd_rdma() { setup_rxe && setup_qbd rdma "$rdma_addr"; }
teardown_qbd_rdma() { teardown_qbd; }
setup_qbd_rdma_nocrc() { setup_rxe && setup_qbd rdma "$rdma_addr" crc32c=no; }
teardown_qbd_rdma_nocrc() { teardown_qbd; }

# --- jobs ------------------------------------------------------------------

# name rw bs iodepth numjobs
jobs=(
	"rand-read-4k-qd1 randread 4k 1 1"
	"rand-write-4k-qd1 randwrite 4k 1 1"
	"rand-read-4k-qd32 randread 4k 32 2"
	"rand-write-4k-qd32 randwrite 4k 32 2"
	"seq-read-128k read 128k 8 1"
	"seq-write-128k write 128k 8 1"
)

cpu_ticks() { awk '/^cpu /{print $2+$3+$4+$6+$7+$8}' /proc/stat; }

# One fio run of a job: a JSON object with its figures.  Latency is fio's
# total latency, from the submission of an IO to its completion: a driver
# that does the round trip inside io_submit (nvme-tcp over loopback often
# does) shows almost none of it in the completion latency (clat) alone,
# which is kept as clat_p50_us/clat_p99_us.
run_fio() {
	local target=$1 dev=$2 name=$3 rw=$4 bs=$5 qd=$6 nj=$7 before after
	before=$(cpu_ticks)
	fio --name="$name" --filename="$dev" --direct=1 --ioengine=libaio --rw="$rw" --bs="$bs" \
		--iodepth="$qd" --numjobs="$nj" --size="$((size_mb / 2))M" --runtime="$runtime" \
		--time_based --group_reporting --lat_percentiles=1 --output-format=json >"$store/fio.json" 2>/dev/null ||
		return 1
	after=$(cpu_ticks)
	jq -c --arg target "$target" --arg job "$name" --argjson ticks "$((after - before))" \
		--argjson hz "$(getconf CLK_TCK)" --arg server_args "${qbd_server_args[*]}" '
		.jobs[0] as $j |
		($j.read.total_ios + $j.write.total_ios) as $ios |
		(if $j.read.total_ios > 0 then $j.read else $j.write end) as $d |
		{target: $target, job: $job,
		 iops: ($j.read.iops + $j.write.iops),
		 mbps: (($j.read.bw_bytes + $j.write.bw_bytes) / 1e6),
		 p50_us: ($d.lat_ns.percentile["50.000000"] / 1000),
		 p99_us: ($d.lat_ns.percentile["99.000000"] / 1000),
		 clat_p50_us: ($d.clat_ns.percentile["50.000000"] / 1000),
		 clat_p99_us: ($d.clat_ns.percentile["99.000000"] / 1000),
		 cpu_us_per_io: (if $ios > 0 then ($ticks / $hz * 1e6 / $ios) else null end)} +
		(if ($target | startswith("qbd")) then {server_args: $server_args} else {} end)' \
		"$store/fio.json"
}

# A job run $repeat times, recorded as the median of each figure: under TCG
# one run of a few seconds can be off by a third either way.
run_job() {
	local i
	: >"$store/runs.jsonl"
	for i in $(seq "$repeat"); do
		run_fio "$@" >>"$store/runs.jsonl" || return 1
	done
	[ -s "$store/runs.jsonl" ] || return 1
	jq -c -s '
		def median: map(select(. != null)) | sort |
			if length == 0 then null else .[(length - 1) / 2 | floor] end;
		. as $runs | $runs[0] + {runs: ($runs | length)} +
		(["iops", "mbps", "p50_us", "p99_us", "clat_p50_us", "clat_p99_us", "cpu_us_per_io"] |
		 map({(.): ([$runs[][.]] | median)}) | add)' "$store/runs.jsonl" >>"$out"
}

[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0

: >"$out"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || IFS=, read -r -a targets <<<"${QBD_BENCH_TARGETS:-}"
[ ${#targets[@]} -gt 0 ] || targets=(null_blk qbd-tcp nbd nvme-tcp qbd-rdma nvme-rdma qbd-rbd krbd rbd-nbd)
picked=()
IFS=, read -r -a picked <<<"${QBD_BENCH_JOBS:-}"
if [[ " ${targets[*]} " =~ \ (qbd-rbd|krbd|rbd-nbd)\  ]]; then
	trap stop_bench_ceph EXIT
	start_bench_ceph || log "the Ceph cluster did not start: the RBD targets fail"
fi
for t in "${targets[@]}"; do
	fn=${t//-/_}
	log "setting up $t"
	if ! dev=$("setup_$fn"); then
		log "$t: setup failed, skipped"
		echo "{\"target\":\"$t\",\"error\":\"setup failed\"}" >>"$out"
		"teardown_$fn" >/dev/null 2>&1 || true
		continue
	fi
	for j in "${jobs[@]}"; do
		# shellcheck disable=SC2086
		set -- $j
		[ ${#picked[@]} -eq 0 ] || [[ " ${picked[*]} " == *" $1 "* ]] || continue
		log "$t: $1 on $dev"
		run_job "$t" "$dev" "$@" || echo "{\"target\":\"$t\",\"job\":\"$1\",\"error\":\"fio failed\"}" >>"$out"
	done
	"teardown_$fn" >/dev/null 2>&1 || true
done
log "results in $out"
# For the host: one marked line per result.
sed 's/^/QBDBENCH /' "$out"
