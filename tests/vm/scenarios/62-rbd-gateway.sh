#!/bin/bash
# qbd-server as a gateway to Ceph RBD images, two gateways (a and b) in
# front of the test cluster, every volume an image with both as its paths.
# Each case is reported on its own:
#   ext4           fio verify on a mapped image; mkfs.ext4, files, remount,
#                  fsck; the image read with rbd holds what the device wrote
#   resize-online  qbd -z under a mounted ext4, resize2fs grows it, and the
#                  other gateway sees the new size
#   osd-kill       an OSD killed during fio verify: no error reaches fio,
#                  and the pool is clean again once the OSD is back
#   gateway-kill   kill -9 of the active gateway during fio verify: IO moves
#                  to the other gateway and verify passes
#   stale-writes   Ceph's fence: gateway a, the active path and holder of
#                  the image's exclusive lock, stalls a write (--fault
#                  stall-write) and is cut off from the host (its address
#                  made unreachable) but not from Ceph; the write times out
#                  and is resent through b, which breaks a's lock
#                  (blocklisting a), and new data goes over it.  When the
#                  stall ends a hands the stale write to librbd: Ceph
#                  refuses it, the new data stays (read through the device
#                  and with rbd) and a ends the connection unanswered
#   unmap-dead     unmap with every gateway dead finishes at once
# once: the gateway, userspace; the driver failover it relies on is 61-path-failover, in every lane
# timeout: 1500
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
require_ceph
# Gateway a on a loopback address of its own (any of 127/8 is on lo),
# which stale-writes cuts the host off from while a still reaches Ceph on
# 127.0.0.1: connects and packets to it fail (EHOSTUNREACH).
declare -A GW_ADDR=([a]=127.0.0.2:7800 [b]=127.0.0.1:7801)
cut_off_a() { ip route add unreachable "${GW_ADDR[a]%:*}/32" table local; }
reconnect_a() { ip route del unreachable "${GW_ADDR[a]%:*}/32" table local 2>/dev/null || true; }
trap 'reconnect_a; cleanup; stop_ceph' EXIT
qbd_load_module
start_ceph
write_conf "${GW_ADDR[a]}" "${GW_ADDR[b]}"
QBD_CTL=${GW_ADDR[a]}
P=$CEPH_POOL
# Failover after 5 s without an answer; nothing gives up meanwhile.
MAP_OPTS=io_timeout=5,giveup_timeout=300

gw_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $st != Z* ]]
}

# Both gateways running (again) before each case.
ensure_gateways() {
	local name pid
	for name in a b; do
		pid=${SERVER_PIDS[$name]:-}
		if [ -n "$pid" ] && gw_alive "$pid"; then
			kill -CONT "$pid"
			continue
		fi
		[ -n "$pid" ] && { wait "$pid" 2>/dev/null || true; }
		unset "SERVER_PIDS[$name]"
		start_gateway "$name" "${GW_ADDR[$name]}"
	done
}

# The gateway (a or b) the device's IO goes to.
active_gateway() {
	local addr name
	addr=$(cat "/sys/block/$(basename "$1")/qbd/active_path")
	for name in a b; do
		[ "${GW_ADDR[$name]}" = "$addr" ] && { echo "$name"; return; }
	done
	die "active path $addr is neither gateway"
}

# The first BYTES of an image, read by rbd (a Ceph client of its own).
image_head() {
	rbd export --no-progress "$1" /tmp/image >/dev/null
	head -c "$2" /tmp/image
	rm -f /tmp/image
}

# fio verify in the background, rate-limited so it still runs when the
# case breaks something; check_fio waits for it and wants no error.
start_fio() {
	fio --name=rbd --filename="$1" --direct=1 --ioengine=libaio --rw=randwrite \
		--bsrange=4k-64k --iodepth=8 --size="$2" --rate=2m --verify=crc32c \
		--verify_fatal=1 --verify_backlog=128 >/tmp/fio.log 2>&1 &
	fio_pid=$!
	sleep 4
	kill -0 "$fio_pid" || { cat /tmp/fio.log; die "fio was done too soon"; }
}
check_fio() {
	wait "$fio_pid" || { cat /tmp/fio.log; die "fio verify failed"; }
	grep -q "err= 0" /tmp/fio.log || { cat /tmp/fio.log; die "fio saw errors"; }
}

case_ext4() {
	create_volume "$P/ext4" 128M
	local dev
	dev=$("$QBD" -m "$P/ext4" -o "$MAP_OPTS")
	fio --name=rbd --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite \
		--bs=64k --iodepth=8 --size=16M --verify=crc32c --verify_fatal=1 \
		>/tmp/fio.log 2>&1 || { cat /tmp/fio.log; die "fio verify failed"; }
	# What the device holds is what the image holds.
	head -c 16M "$dev" | md5sum >/tmp/dev.md5
	image_head "$P/ext4" 16M | md5sum | cmp -s - /tmp/dev.md5 ||
		die "the image read with rbd differs from the device"
	mkfs.ext4 -q -F "$dev"
	mkdir -p /mnt/rbd
	mount "$dev" /mnt/rbd
	head -c 8M /dev/urandom >/mnt/rbd/data
	cp /mnt/rbd/data /tmp/data
	mkdir /mnt/rbd/dir && touch /mnt/rbd/dir/f{1..50}
	umount /mnt/rbd
	mount "$dev" /mnt/rbd
	cmp /mnt/rbd/data /tmp/data || die "a file changed across a remount"
	[ "$(ls /mnt/rbd/dir | wc -l)" = 50 ] || die "files lost across a remount"
	umount /mnt/rbd
	fsck.ext4 -fn "$dev" >/tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; die "fsck found errors"; }
	"$QBD" -u "$P/ext4"
}

case_resize_online() {
	create_volume "$P/grow" 64M
	local dev before after
	dev=$("$QBD" -m "$P/grow" -o "$MAP_OPTS")
	mkfs.ext4 -q -F "$dev"
	mkdir -p /mnt/rbd
	mount "$dev" /mnt/rbd
	head -c 4M /dev/urandom >/mnt/rbd/data
	before=$(df -k --output=size /mnt/rbd | tail -n 1)
	"$QBD" -z "$P/grow" -k 192M
	[ "$(blockdev --getsize64 "$dev")" = $((192 << 20)) ] ||
		die "the device is $(blockdev --getsize64 "$dev") bytes after qbd -z"
	resize2fs "$dev" >/tmp/resize.log 2>&1 || { cat /tmp/resize.log; die "resize2fs failed"; }
	after=$(df -k --output=size /mnt/rbd | tail -n 1)
	[ "$after" -gt $((before * 2)) ] || die "ext4 is $after kB after growing, was $before"
	"$QBD_SERVER" info "$P/grow" --server "${GW_ADDR[b]}" "${QBD_ADMIN_AUTH[@]}" | grep -Eq "^size: +$((192 << 20)) " ||
		die "gateway b does not see the new size"
	umount /mnt/rbd
	fsck.ext4 -fn "$dev" >/tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; die "fsck found errors"; }
	"$QBD" -u "$P/grow"
}

case_osd_kill() {
	create_volume "$P/osd" 128M
	local dev
	dev=$("$QBD" -m "$P/osd" -o "$MAP_OPTS")
	start_fio "$dev" 24M
	"$CEPH_CLUSTER" kill-osd 1 --dir "$CEPH_DIR"
	check_fio
	"$CEPH_CLUSTER" start-osd 1 --dir "$CEPH_DIR"
	"$CEPH_CLUSTER" wait-clean --dir "$CEPH_DIR" --timeout 240 ||
		die "the pool did not recover once the OSD was back"
	"$QBD" -u "$P/osd"
}

case_gateway_kill() {
	create_volume "$P/gw" 128M
	local dev first
	dev=$("$QBD" -m "$P/gw" -o "$MAP_OPTS")
	start_fio "$dev" 24M
	first=$(active_gateway "$dev")
	stop_server "$first" KILL
	check_fio
	[ "$(active_gateway "$dev")" != "$first" ] || die "IO did not leave gateway $first"
	"$QBD" -u "$P/gw"
}

# Gateway a's stalled write must be fenced by Ceph, not by a itself: the
# host is cut off from a during the stall, so no newer OPEN reaches a and
# its session fence (server/fence.h) cannot refuse the write first.
case_stale_writes() {
	create_volume "$P/stale" 64M
	local dev old_pid from_a from_b peer started stall_s=25
	# 64 KiB at 1 MiB, in the RBD object a's first write made.
	local blk=16 off=$((16 << 16))
	local log_a=/tmp/qbd-server-a.log log_b=/tmp/qbd-server-b.log
	# Gateway a again, holding the first WRITE at OFF for the stall.
	old_pid=${SERVER_PIDS[a]}
	stop_server a KILL
	gone() { ! gw_alive "$old_pid"; }
	wait_for 30 gone || die "gateway a did not die"
	# This shell's gateway a is not run_case's: it goes with the case.
	trap 'reconnect_a; stop_server a KILL' EXIT
	from_a=$(wc -l <"$log_a")
	from_b=$(wc -l <"$log_b")
	new_a() { tail -n +"$((from_a + 1))" "$log_a"; }
	new_b() { tail -n +"$((from_b + 1))" "$log_b"; }
	start_gateway a "${GW_ADDR[a]}" --fault "stall-write=$off:$((stall_s * 1000))"
	dev=$("$QBD" -m "$P/stale" -o "$MAP_OPTS")
	# a's first write makes it the image's writer (the lock is taken then).
	head -c 64k /dev/urandom >/tmp/first
	dd if=/tmp/first of="$dev" bs=64k oflag=direct status=none
	[ "$(active_gateway "$dev")" = a ] || die "IO goes to gateway $(active_gateway "$dev"), not a"
	grep -q "rbd: $P/stale: took the exclusive lock" <(new_a) ||
		{ new_a; die "gateway a did not take the exclusive lock at its first write"; }
	head -c 64k /dev/zero | tr '\0' '\252' >/tmp/old
	head -c 64k /dev/zero | tr '\0' '\125' >/tmp/new
	# Old data (0xaa), held by a, answered once b has it.
	dd if=/tmp/old of="$dev" bs=64k seek=$blk oflag=direct status=none &
	local dd_pid=$!
	stalled() { new_a | grep -q "stalling a write"; }
	wait_for 30 stalled || { new_a; die "gateway a did not stall the write"; }
	cut_off_a
	started=$(date -d "$(new_a | grep -m 1 "stalling a write" | cut -c 1-19)" +%s)
	peer=$(grep -m 1 "stalling a write" <(new_a) | sed -E 's/.*qbd-server: ([^ ]+): stalling.*/\1/')
	wait "$dd_pid" || die "the stalled write failed instead of moving to gateway b"
	[ "$(active_gateway "$dev")" = b ] || die "IO did not move to gateway b"
	grep -q "rbd: $P/stale: broke the lock of" <(new_b) ||
		{ new_b; die "gateway b did not break gateway a's lock"; }
	# New data (0x55) over it, through b, while a still holds the old.
	dd if=/tmp/new of="$dev" bs=64k seek=$blk oflag=direct status=none
	[ "$(date +%s)" -lt $((started + stall_s)) ] ||
		die "the new data was written after a's stall was over: the case tested nothing"
	# Once the stall is over a's thread hands the stale write to librbd;
	# the refusal ends the connection (server/connection.cc, run_batch).
	refused() { new_a | grep -q "$peer: closing connection: another gateway took the volume over"; }
	local left=$((started + stall_s + 1 - $(date +%s)))
	[ "$left" -le 0 ] || sleep "$left"
	wait_for 30 refused || true
	# check_block HOW: /tmp/back, the block read HOW, is the new data.
	check_block() {
		cmp -s /tmp/back /tmp/new && return
		new_a
		cmp -s /tmp/back /tmp/old &&
			die "gateway a's stale write landed over the new data (read $1)"
		die "the block holds neither the new nor the old data (read $1)"
	}
	dd if="$dev" of=/tmp/back bs=64k skip=$blk count=1 iflag=direct status=none
	check_block "through the device"
	image_head "$P/stale" $((off + (64 << 10))) | tail -c 64k >/tmp/back
	check_block "with rbd"
	if new_a | grep -q "$peer: closing connection: a newer connection of its client took over"; then
		die "gateway a's own session fence refused the stale write, not Ceph: the host reached a"
	fi
	refused || { new_a; die "gateway a's log does not show its stale write refused"; }
	reconnect_a
	"$QBD" -u "$P/stale"
}

case_unmap_dead() {
	create_volume "$P/dead" 64M
	local dev start took
	dev=$("$QBD" -m "$P/dead" -o "$MAP_OPTS")
	dd if=/dev/zero of="$dev" bs=1M count=4 oflag=direct status=none
	stop_server a KILL
	stop_server b KILL
	start=$(date +%s)
	timeout 60 "$QBD" -u "$P/dead" || die "unmap with every gateway dead failed"
	took=$(($(date +%s) - start))
	[ "$took" -le 10 ] || die "unmap with every gateway dead took $took s"
	[ ! -e "$dev" ] || die "$dev is still there"
}

failed=0
run_case() {
	local name=$1 rc
	ensure_gateways
	set +e
	(set -e; "case_${name//-/_}")
	rc=$?
	set -e
	if [ $rc -eq 0 ]; then
		echo "QBDTEST CASE PASS $name"
	else
		echo "QBDTEST CASE FAIL $name"
		failed=1
	fi
	# What a failed case left behind is not the next one's problem.
	unmount_qbd
	for d in /sys/block/qbd*; do
		[ -e "$d" ] && "$QBD" -u "/dev/$(basename "$d")" --force >/dev/null 2>&1
	done
	true
}
for c in ext4 resize-online osd-kill gateway-kill stale-writes unmap-dead; do
	run_case "$c"
done
[ $failed -eq 0 ] || die "a case failed"
