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
#   stale-writes   the active gateway stopped (SIGSTOP) with writes in
#                  flight; IO fails over, new data is written over the same
#                  blocks, and once the stopped gateway runs again none of
#                  its stale writes lands (Ceph's exclusive lock fenced it)
#   unmap-dead     unmap with every gateway dead finishes at once
# timeout: 1500
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
require_ceph
trap 'cleanup; stop_ceph' EXIT
qbd_load_module
start_ceph
declare -A GW_ADDR=([a]=127.0.0.1:7800 [b]=127.0.0.1:7801)
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
	"$QBD_SERVER" info "$P/grow" --server "${GW_ADDR[b]}" "${QBD_ADMIN_AUTH[@]}" | grep -q "size $((192 << 20)) " ||
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

case_stale_writes() {
	create_volume "$P/stale" 64M
	local dev first pid
	dev=$("$QBD" -m "$P/stale" -o "$MAP_OPTS")
	# Old data (0xaa) written over and over into the first 8 MiB.
	fio --name=old --filename="$dev" --direct=1 --ioengine=libaio --rw=write --bs=64k \
		--iodepth=8 --size=8M --time_based --runtime=40 --buffer_pattern=0xaa \
		>/tmp/fio.log 2>&1 &
	fio_pid=$!
	sleep 4
	first=$(active_gateway "$dev")
	pid=${SERVER_PIDS[$first]}
	kill -STOP "$pid"
	moved() { [ "$(active_gateway "$dev")" != "$first" ]; }
	wait_for 60 moved || { kill -CONT "$pid"; die "IO did not move off the stopped gateway"; }
	check_fio
	# New data (0x55) over the same blocks, through the other gateway.
	head -c 8M /dev/zero | tr '\0' '\125' >/tmp/new
	dd if=/tmp/new of="$dev" bs=1M oflag=direct conv=fsync status=none
	kill -CONT "$pid"
	# Whatever it still held goes out now, or is refused: give it time.
	sleep 15
	dd if="$dev" bs=1M count=8 iflag=direct status=none | cmp - /tmp/new ||
		die "a stale write of the stopped gateway landed (read through the device)"
	image_head "$P/stale" 8M | cmp - /tmp/new ||
		die "a stale write of the stopped gateway landed (read with rbd)"
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
