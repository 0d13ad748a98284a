#!/bin/bash
# Per-host keys through the driver (issue #22): a host maps with its key;
# a wrong key, an unknown host and a revoked one are refused by the tool;
# the driver refuses, at its next reconnect, a server that cannot prove the
# host's key (another key, or no keys at all: an impostor at the address),
# and a server refuses the host once its key is revoked.  Putting the real
# keys back lets the driver reconnect with nothing lost.
# timeout: 400
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap cleanup EXIT
qbd_load_module
dmesg -C
# Keys of this scenario's own, changed below without touching the others'.
QBD_KEYS=/tmp/qbd-keys-64/server.keys
QBD_HOST_KEY=/tmp/qbd-keys-64/host.key
QBD_ADMIN_AUTH=(--host-id "$QBD_HOST_ID" --key-file "$QBD_HOST_KEY")
rm -rf /tmp/qbd-keys-64
start_server k 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/keyed 64M --shard-size 16M
cp "$QBD_KEYS" /tmp/keys.good
# The keys file is changed on purpose below: not made again.
ensure_keys() { :; }

# The tool: only this host with its own key gets an answer.
conf_as() { # HOST-ID KEY-FILE
	printf 'servers = 127.0.0.1:7800\nhost_id = %s\nkey_file = %s\n' "$1" "$2" >/etc/qbd/qbd.conf
}
(umask 077 && echo "not-the-key-of-this-host" >/tmp/wrong.key)
conf_as "$QBD_HOST_ID" /tmp/wrong.key
expect_fail "$QBD" -m pool/keyed 2>/tmp/err
grep -q "prove" /tmp/err || { cat /tmp/err; die "a wrong key was not named as the cause"; }
conf_as stranger "$QBD_HOST_KEY"
expect_fail "$QBD" -m pool/keyed 2>/tmp/err
grep -q "no key for host stranger" /tmp/err || { cat /tmp/err; die "an unknown host was not named"; }
chmod 644 /tmp/wrong.key
conf_as "$QBD_HOST_ID" /tmp/wrong.key
expect_fail "$QBD" -m pool/keyed 2>/tmp/err
grep -q "/tmp/wrong.key" /tmp/err || { cat /tmp/err; die "a world-readable key file was read"; }
ls /sys/block | grep -q '^qbd' && die "a refused map left a device behind"

write_conf 127.0.0.1:7800
dev=$("$QBD" -m pool/keyed -o giveup_timeout=300,reconnect_delay_ms=100)
grep -q "opened pool/keyed for host $QBD_HOST_ID" /tmp/qbd-server-k.log ||
	die "the server does not say which host opened the volume"
head -c 4M /dev/urandom >/tmp/data
dd if=/tmp/data of="$dev" bs=1M oflag=direct status=none

opens() { grep -c "opened pool/keyed" /tmp/qbd-server-k.log || true; }
# restart [NO_KEYS]: the server again, with the keys file as it
# now is (or none), its connections from the driver broken by the restart.
restart() {
	stop_server k KILL
	NO_KEYS=${1:-0} start_server k 127.0.0.1:7800
}
refused_reconnects() { dmesg | grep -c "reconnect .* failed: -13" || true; }
more_refused_than() { [ "$(refused_reconnects)" -gt "$1" ]; }
expect_refused() { # BEFORE OPENS WHY
	local before=$1 opened=$2
	wait_for 60 more_refused_than "$before" ||
		{ dmesg | tail -20; die "$3: the driver's reconnects were not refused"; }
	[ "$(opens)" = "$opened" ] || die "$3: the volume was opened"
}

# 1. Revoked: the server refuses the host at its next connection.
"$QBD_SERVER" remove-host "$QBD_HOST_ID" --keys-file "$QBD_KEYS"
n=$(refused_reconnects) o=$(opens)
restart
expect_refused "$n" "$o" "revoked"
grep -q "refused HELLO: host $QBD_HOST_ID has no key" /tmp/qbd-server-k.log ||
	die "the server does not say it refused the revoked host"

# 2. Another key for the host: the server cannot prove this host's key.
(umask 077 && echo "$QBD_HOST_ID some-other-key-for-the-guest" >"$QBD_KEYS")
n=$(refused_reconnects) o=$(opens)
restart
expect_refused "$n" "$o" "another key"

# 3. An impostor with no keys at the server's address.
n=$(refused_reconnects) o=$(opens)
restart 1
expect_refused "$n" "$o" "a server without keys"

# The real keys back: the driver reconnects, and the data is all there.
cp /tmp/keys.good "$QBD_KEYS"
restart
cmp <(dd if="$dev" bs=1M count=4 iflag=direct status=none) /tmp/data ||
	die "the data read back after the reconnect differs"
"$QBD" -u pool/keyed
