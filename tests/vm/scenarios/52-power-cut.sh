#!/bin/bash
# A power cut under qbd-server: every write the server acknowledged as
# durable (a FUA write, a write before a FLUSH) survives it, and the test
# can fail.  The volume lives on a null_blk disk with a volatile write
# cache: a plain write waits in the cache, a FLUSH moves the cache to the
# disk's storage, and powering the disk off drops the cache, as a power cut
# does to a real disk's.  The server is killed
# first, so nothing more is flushed; its dirty page cache reaches the disk
# (on the last close of the device, or when the disk goes away) only as
# plain writes, which the cut drops.  qbd-durability writes the patterns
# ("flushed": a write and a FLUSH, "fua": a FUA write, "plain": a write):
#   - a server doing its job keeps "flushed" and "fua", and loses "plain"
#     (if "plain" survived, the rig would not model a power cut at all);
#   - with the same writes, a server started with --fault skip-flush loses
#     "flushed", and one with --fault skip-fua loses "fua": the test
#     catches a server that skips one fdatasync or one RWF_DSYNC.
# Nothing that flushes the disk may come after the pattern a run judges:
# the page cache writes dirty pages back to the disk's cache at any time,
# and a later flush (a FUA write is a write and a flush to the server's
# RWF_DSYNC) would make an unflushed write durable after all.  Hence two
# orders, each run on a sound server and on a faulty one.
# The server's catalog (on tmpfs) is not part of the cut.
# timeout: 240
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
DURABILITY=$QBD_ROOT/build/tests/peers/qbd-durability
[ -x "$DURABILITY" ] || skip "build/tests/peers/qbd-durability is not built"

cfs=/sys/kernel/config
nb=$cfs/nullb/powercut
disk=/tmp/pc-disk # the volume's --device: a link to the disk's node
addr=127.0.0.1:7800

_have_null_blk() { modprobe null_blk nr_devices=0 2>/dev/null; }
_have_nullb_configfs() {
	mountpoint -q "$cfs" || mount -t configfs configfs "$cfs" 2>/dev/null || return 1
	[ -d "$cfs/nullb" ]
}
# A device's attributes, seen on one not powered on yet.
_have_nullb_cache() {
	local a ok=0
	mkdir "$nb" || return 1
	for a in size blocksize memory_backed cache_size power index; do
		[ -e "$nb/$a" ] || ok=1
	done
	rmdir "$nb"
	return $ok
}

# Points $disk at the powered disk: named after its configfs directory
# (newer kernels) or nullbINDEX (older ones), maybe another index after
# a power cut.
link_disk() {
	local name
	name=$(basename "$nb")
	[ -e "/sys/block/$name" ] || name=nullb$(cat "$nb/index")
	wait_for 10 test -b "/dev/$name" || die "/dev/$name did not appear when null_blk was powered on"
	ln -sfn "/dev/$name" "$disk"
}

disk_on() {
	mkdir "$nb"
	echo 32 >"$nb/size" # MiB
	echo 4096 >"$nb/blocksize"
	echo 1 >"$nb/memory_backed"
	echo 64 >"$nb/cache_size" # MiB: more than is ever written, so nothing is evicted
	echo 1 >"$nb/power"
	link_disk
	[ "$(cat "/sys/block/$(basename "$(readlink "$disk")")/queue/write_cache")" = "write back" ] ||
		die "$(readlink "$disk") has no volatile write cache: null_blk ignored cache_size"
}

disk_off() {
	[ -d "$nb" ] || return 0
	echo 0 >"$nb/power"
	rmdir "$nb"
}

# The disk loses its volatile cache and comes back with what its storage
# holds, maybe under another index.
power_cut() {
	echo 0 >"$nb/power"
	echo 1 >"$nb/power"
	link_disk
}

finish() {
	cleanup
	disk_off || true
	modprobe -r null_blk 2>/dev/null || true
}

_have_null_blk || skip "null_blk cannot be loaded in this guest kernel"
_have_nullb_configfs || skip "null_blk has no configfs interface (nullb) in this kernel"
_have_nullb_cache || skip "this null_blk has no memory_backed, cache_size, power or index attribute: it cannot emulate a volatile write cache"
trap finish EXIT

# qbd-durability proves no key: the server lets anyone in.
NO_KEYS=1

# cut FAULT PATTERN...: writes the patterns in this order through a server
# (started with --fault FAULT unless FAULT is -), cuts the power, restarts
# the server and records what survived.
cut() {
	local fault=$1 dir=/tmp/qbd-server-pc
	shift
	local run="$* (${fault/#-/no fault})" opts=()
	[ "$fault" = - ] || opts=(--fault "$fault")
	rm -rf "$dir" "$dir.log"
	disk_on
	mkdir -p "$dir"
	"$QBD_SERVER" init --data-dir "$dir" >/dev/null
	"$QBD_SERVER" create pool/pc 16M --device "$disk" --data-dir "$dir" >/dev/null
	start_server pc "$addr" "${opts[@]}"
	if [ "$fault" != - ]; then
		grep -q -- "--fault $fault" "$dir.log" ||
			{ cat "$dir.log" >&2; die "the server did not take --fault $fault"; }
	fi
	"$DURABILITY" write --server "$addr" --volume pool/pc "$@" ||
		{ cat "$dir.log" >&2; die "$run: writing the patterns failed"; }
	stop_server pc KILL
	power_cut
	start_server pc "$addr"
	"$DURABILITY" check --server "$addr" --volume pool/pc >/tmp/pc-survived ||
		{ cat "$dir.log" >&2; die "$run: reading the patterns back failed"; }
	stop_server pc
	disk_off
	sed "s/^/$run: /" /tmp/pc-survived >&2
	RUN=$run
}

# expect NAME STATE: what became of pattern NAME in the last cut.
expect() {
	local got
	got=$(awk -v n="$1" '$1 == n { print $2 }' /tmp/pc-survived)
	[ "$got" = "$2" ] && return 0
	case $1/$2 in
	plain/zeros) die "$RUN: an unflushed write is '$got' after the cut, not lost: the rig does not model a power cut" ;;
	*/zeros) die "$RUN: the server skipped a step, yet the $1 write is '$got' after the cut: this test cannot catch it" ;;
	*) die "$RUN: a $1 write the server acknowledged is '$got' after a power cut, not intact" ;;
	esac
}

# The FUA write before the flushed one: nothing flushes after "flushed".
cut - fua flushed plain
expect plain zeros
expect flushed intact
expect fua intact
cut skip-flush fua flushed plain
expect flushed zeros
expect fua intact

# The flushed write before the FUA one: nothing flushes after "fua".
cut - flushed fua plain
expect plain zeros
expect flushed intact
expect fua intact
cut skip-fua flushed fua plain
expect fua zeros
expect flushed intact
echo "power cut: flushed and FUA writes survive, an unflushed one is lost; skip-flush and skip-fua are caught" >&2
