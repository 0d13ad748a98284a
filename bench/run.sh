#!/usr/bin/env bash
# One command: boots one guest and runs the same fio jobs against qbd over
# TCP, nbd, nvme-tcp, qbd over RDMA, nvme-rdma (both on soft-RoCE) and
# null_blk (the local ceiling), each backed by a file of the same size on
# tmpfs, and qbd through a qbd-server gateway, krbd and rbd-nbd, each on an
# RBD image of that size on a Ceph cluster in the same guest; writes
# bench/results/results.json and bench/results/results.md with the ratios
# qbd/nbd, qbd/nvme-tcp, qbd-rdma/nvme-rdma, qbd-rbd/krbd and
# qbd-rbd/rbd-nbd.  QBD_BENCH_RESULTS=NAME writes NAME.{json,md} instead
# (a run of some targets, beside the full run's).
#
#   bench/run.sh [seconds per job] [target...]
#   QBD_BENCH_JOBS=rand-read-4k-qd1,... bench/run.sh 8 qbd-tcp nvme-tcp
# runs a subset (targets: null_blk qbd-tcp nbd nvme-tcp qbd-rdma nvme-rdma
# qbd-rbd krbd rbd-nbd, and qbd-tcp-nocrc and qbd-rdma-nocrc: mapped with
# crc32c=no, whose ratios to qbd-tcp and qbd-rdma are what the end-to-end
# checksums cost).
# KVER=6.12 bench/run.sh boots that kernel of scripts/kernel.sh's matrix and
# writes bench/results/results-6.12.{json,md} beside 6.1's results.{json,md}.
# Each job runs QBD_BENCH_REPEAT times (3); the figures are the medians.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export QBD_BENCH_RUNTIME=${1:-10}
export QBD_BENCH_REPEAT=${QBD_BENCH_REPEAT:-3}
shift || true
if [ $# -gt 0 ]; then
	QBD_BENCH_TARGETS=$(IFS=,; echo "$*")
	export QBD_BENCH_TARGETS
fi
mkdir -p "$top/bench/results"
if [ -n "${QBD_BENCH_LOG:-}" ]; then
	# Format a saved run again (its console log).
	out=$(tr -d '\r' <"$QBD_BENCH_LOG" | sed -n 's/^QBDBENCH //p')
else
	make -C "$top" -s all >/dev/null
	out=$(QBD_VM_TIMEOUT=3600 "$top/tests/vm/run.sh" --bench 2>&1 | tee /dev/stderr | tr -d '\r' |
		sed -n 's/^QBDBENCH //p')
fi
[ -n "$out" ] || { echo "bench: no results" >&2; exit 1; }
series=$("$top/scripts/kernel.sh" list | awk -v r="$("$top/scripts/kernel.sh" release "${KVER:-}")" '$2 == r {print $1}')
suffix=
[ "$series" = 6.1 ] || suffix=-$series
name=${QBD_BENCH_RESULTS:-results}
json=$top/bench/results/$name$suffix.json
echo "$out" | jq -s --arg date "$(date -u +%FT%TZ)" --arg kernel "$("$top/scripts/kernel.sh" release "${KVER:-}")" --arg runtime "$QBD_BENCH_RUNTIME" --arg repeat "$QBD_BENCH_REPEAT" '
	def get($r; $t; $j; $f): ($r | map(select(.target == $t and .job == $j)) | .[0][$f]) // null;
	def ratio(a; b): if a != null and b != null and b != 0 then (a / b * 100 | round / 100) else null end;
	. as $r |
	{date: $date, kernel: $kernel, seconds_per_job: ($runtime | tonumber), runs_per_job: ($repeat | tonumber), results: $r,
	 ratios: [ ($r | map(.job) | unique | map(select(. != null)))[] as $j |
		{job: $j,
		 metric: (if ($j | test("qd1")) then "p99_us" elif ($j | test("seq")) then "mbps" else "iops" end)} |
		. + {qbd_over_nbd: ratio(get($r; "qbd-tcp"; .job; .metric); get($r; "nbd"; .job; .metric)),
		     qbd_over_nvme_tcp: ratio(get($r; "qbd-tcp"; .job; .metric); get($r; "nvme-tcp"; .job; .metric)),
		     qbd_rdma_over_nvme_rdma: ratio(get($r; "qbd-rdma"; .job; .metric); get($r; "nvme-rdma"; .job; .metric)),
		     qbd_rbd_over_krbd: ratio(get($r; "qbd-rbd"; .job; .metric); get($r; "krbd"; .job; .metric)),
		     qbd_rbd_over_rbd_nbd: ratio(get($r; "qbd-rbd"; .job; .metric); get($r; "rbd-nbd"; .job; .metric)),
		     crc32c_on_over_off: ratio(get($r; "qbd-tcp"; .job; .metric); get($r; "qbd-tcp-nocrc"; .job; .metric)),
		     rdma_crc32c_on_over_off: ratio(get($r; "qbd-rdma"; .job; .metric); get($r; "qbd-rdma-nocrc"; .job; .metric))} ]}' >"$json"
md=$top/bench/results/$name$suffix.md
{
	echo "# qbd benchmark ($(jq -r .date "$json"), Linux $(jq -r .kernel "$json"), median of $QBD_BENCH_REPEAT runs of $QBD_BENCH_RUNTIME s per job, TCG guest)"
	echo
	echo "| target | job | IOPS | MB/s | p50 us | p99 us | clat p99 us | CPU us/IO |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	jq -r '.results[] | select(.error == null and .iops != null) |
		"| \(.target) | \(.job) | \(.iops | round) | \(.mbps * 10 | round / 10) | \(.p50_us | round) | \(.p99_us | round) | \(.clat_p99_us // null | if . == null then "-" else round end) | \(.cpu_us_per_io | round) |"' "$json"
	echo
	jq -r '[.results[] | .server_args // empty] | unique | .[] | "qbd-server ran with `\(.)`.\n"' "$json"
	echo "p50 and p99 are fio's total latency, from submitting an IO to its completion;"
	echo "clat p99 is the part after io_submit returned, which misses whatever a driver"
	echo "does inside the submission."
	echo
	echo "Ratios (QD1 jobs compare p99 latency, lower is better; others throughput, higher is better):"
	echo
	echo "| job | metric | qbd/nbd | qbd/nvme-tcp | qbd-rdma/nvme-rdma | qbd-rbd/krbd | qbd-rbd/rbd-nbd | tcp crc32c on/off | rdma crc32c on/off |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	jq -r '.ratios[] | "| \(.job) | \(.metric) | \(.qbd_over_nbd) | \(.qbd_over_nvme_tcp) | \(.qbd_rdma_over_nvme_rdma) | \(.qbd_rbd_over_krbd) | \(.qbd_rbd_over_rbd_nbd) | \(.crc32c_on_over_off) | \(.rdma_crc32c_on_over_off) |"' "$json"
} >"$md"
cat "$md"
