#!/bin/bash
# The test Ceph cluster runs in the guest, as the rbd scenarios need it:
# tests/ceph/cluster.sh starts a monitor and three memstore OSDs on the
# guest's tmpfs, an image written with rbd reads back the same bytes, an OSD
# killed and started again rejoins, and stop leaves no daemon and no
# directory.
# once: the test Ceph cluster itself, userspace only
# timeout: 600
. "$QBD_ROOT/tests/vm/lib.sh"
trap stop_ceph EXIT
start_ceph
"$CEPH_CLUSTER" status --dir "$CEPH_DIR" | grep -q "up: 3 of 3 OSDs up" || die "not every OSD is up"
head -c 16M /dev/urandom >/tmp/ceph-image
rbd import --no-progress /tmp/ceph-image "$CEPH_POOL/round-trip"
rbd export --no-progress "$CEPH_POOL/round-trip" - | cmp - /tmp/ceph-image ||
	die "the image read back differs from what was written"
"$CEPH_CLUSTER" kill-osd 2 --dir "$CEPH_DIR"
rbd export --no-progress "$CEPH_POOL/round-trip" - | cmp - /tmp/ceph-image ||
	die "with osd.2 down the image reads back different"
"$CEPH_CLUSTER" start-osd 2 --dir "$CEPH_DIR"
stop_ceph
[ ! -e "$CEPH_DIR" ] || die "$CEPH_DIR is still there after stop"
# Zombies do not count: PID 1 reaps them in its own time.
left=$(ps -eo stat=,pid=,comm= | awk '$1 !~ /^Z/ && $3 ~ /^ceph-(mon|osd)$/')
[ -z "$left" ] || die "ceph daemons still run after stop: $left"
