#!/bin/bash
# A timeout resets only the connections that still hold an unanswered
# piece of the request: with one of two replica servers stopped, a write's
# piece to the live server is answered, and its connection keeps its IO
# (it is not torn down and re-established) while the stopped server's
# connection is reset.  Once the server runs again the write completes.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'kill -CONT "${SERVER_PIDS[b]:-}" 2>/dev/null || true; cleanup' EXIT
A=127.0.0.1:7800 B=127.0.0.1:7801
qbd_load_module
start_server a $A --peer $B
start_server b $B --peer $A
write_conf $A $B
QBD_CTL=$A create_volume pool/scope 16M --shard-size 16M --replicas 2
dev=$("$QBD" -m pool/scope -o io_timeout=2,nr_hw_queues=1)
dd if=/dev/urandom of="$dev" bs=4k count=1 oflag=direct status=none
# reconnects of the connections to ADDR, from qbd -i --json.
reconnects() {
	"$QBD" -i pool/scope --json |
		jq --arg a "$1" '[.connections[] | select(.address == $a) | .reconnects] | add'
}
[ "$(reconnects $A)" = 0 ] && [ "$(reconnects $B)" = 0 ] || die "reconnects before the test"
kill -STOP "${SERVER_PIDS[b]}"
dd if=/dev/urandom of="$dev" bs=4k count=1 seek=1 oflag=direct status=none &
writer=$!
# Three timeouts' worth: each resets the connection to the stopped server.
sleep 7
kill -0 "$writer" 2>/dev/null || die "the write finished while a replica was stopped"
timeouts=$(awk -v d="$(basename "$dev")" '$1 == d { print $13 }' /proc/qbdstat)
echo "timeouts so far: $timeouts; reconnects to A: $(reconnects $A)"
kill -CONT "${SERVER_PIDS[b]}"
wait "$writer" || die "the write failed once the server ran again"
[ "$(reconnects $A)" = 0 ] || die "the live server's connection was reset by another server's timeout"
wait_for 30 test "$(reconnects $B)" -ge 1 || die "the stopped server's connection was never reset"
"$QBD" -u pool/scope
