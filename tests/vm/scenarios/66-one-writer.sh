#!/bin/bash
# One writer per volume (issue #22 item 4), through the tool and the
# driver, with a second host (web2: qbd-other-host, a data client with a
# key of its own, as another host's driver would be):
# - while this host maps a volume read-write, web2's OPEN is refused;
# - `qbd -u` releases the claim: web2 gets in at once, not after the
#   server's grace period (600 s here);
# - while web2 holds it, this host's map fails naming web2 and saying how
#   to take over, also when asked shared, and leaves no device behind;
# - `-o take_over` maps it and fences web2: web2's next write fails, and
#   none of its writes lands over this host's data;
# - a volume mapped shared shows as shared in qbd -i.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
OTHER_HOST=$QBD_ROOT/build/tests/peers/qbd-other-host
[ -x "$OTHER_HOST" ] || skip "qbd-other-host is not built"
trap 'kill "${web2_pid:-}" 2>/dev/null || true; cleanup' EXIT
qbd_load_module

start_server w 127.0.0.1:7800 --claim-grace 600
write_conf 127.0.0.1:7800
create_volume pool/one 64M
(umask 077 && "$QBD_SERVER" add-host web2 --keys-file "$QBD_KEYS" >/tmp/web2.key)
web2() { # BYTE [--take-over]: web2 writes BYTE over the block at 1 MiB
	"$OTHER_HOST" --server 127.0.0.1:7800 --host-id web2 --key-file /tmp/web2.key \
		--volume pool/one --offset $((1 << 20)) --byte "$@"
}
block_is() { # DEV BYTE: the block at 1 MiB is all BYTE
	cmp -s <(dd if="$1" bs=4k skip=256 count=1 iflag=direct status=none) \
		<(head -c 4096 /dev/zero | tr '\0' "\\$(printf '%03o' "$2")")
}

# 1. This host holds it: web2 is refused.
dev=$("$QBD" -m pool/one)
rc=0
web2 0x11 >/tmp/web2.out 2>&1 || rc=$?
[ "$rc" = 3 ] || { cat /tmp/web2.out; die "web2 was not refused as busy (exit $rc)"; }
grep -q "refused OPEN of pool/one for host web2: held read-write by host $QBD_HOST_ID" \
	/tmp/qbd-server-w.log || die "the server does not log the refusal with the holder"

# 2. Unmapping releases the claim: web2 gets in at once and writes.
"$QBD" -u pool/one
web2 0x22 >/tmp/web2.out 2>&1 &
web2_pid=$!
wait_for 10 grep -q opened /tmp/web2.out || { cat /tmp/web2.out; die "web2 was not let in"; }

# 3. web2 holds it: this host's map fails naming web2, shared too.
for opts in "" "-o shared"; do
	# shellcheck disable=SC2086
	expect_fail "$QBD" -m pool/one $opts 2>/tmp/err
	grep -q "held read-write by host web2 on 127.0.0.1:7800" /tmp/err ||
		{ cat /tmp/err; die "the refusal ($opts) does not name web2"; }
	grep -q "take_over" /tmp/err || { cat /tmp/err; die "the refusal does not say how to take over"; }
done
ls /sys/block | grep -q '^qbd' && die "a refused map left a device behind"

# 4. Take over: web2 is fenced before the map is answered; this host's
# data stays, whatever web2 goes on trying.
dev=$("$QBD" -m pool/one -o take_over) || die "take_over did not map"
grep -q "host $QBD_HOST_ID took pool/one over" /tmp/qbd-server-w.log ||
	die "the server does not log the take-over"
block_is "$dev" 0x22 || die "web2's acknowledged writes are not there"
head -c 4096 /dev/zero | tr '\0' '\063' | dd of="$dev" bs=4k seek=256 oflag=direct status=none
wait_for 10 grep -q "write failed" /tmp/web2.out || { cat /tmp/web2.out; die "web2 still writes"; }
sleep 1
block_is "$dev" 0x33 || die "a write of web2 landed after the take-over"
"$QBD" -u pool/one

# 5. Shared shows in qbd -i.
dev=$("$QBD" -m pool/one -o shared)
"$QBD" -i pool/one | grep -q shared || { "$QBD" -i pool/one; die "qbd -i does not say shared"; }
"$QBD" -u pool/one
