#!/bin/bash
# One map stuck connecting (its server accepts connections and never
# answers HELLO, so each handshake waits out its 5 s timeout) holds up no
# other device: another device's `qbd -i`, /proc/qbdstat and unmap finish
# while it waits, and the stuck map then fails leaving no device.
# timeout: 240
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
trap 'kill "${blackhole:-}" 2>/dev/null || true; cleanup' EXIT
qbd_load_module
# A good volume on its own server.
start_server good 127.0.0.1:7802
QBD_CTL=127.0.0.1:7802 create_volume pool/good 16M
printf 'servers = 127.0.0.1:7802\nhost_id = %s\nkey_file = %s\n' "$QBD_HOST_ID" "$QBD_HOST_KEY" >/tmp/good.conf
good=$("$QBD" -m pool/good -c /tmp/good.conf)
# The control server sends clients of pool/stuck to 127.0.0.1:7801, where
# the listener never reads.
hostile_volume pool/stuck
python3 -c 'import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7801))
s.listen(64)
time.sleep(600)' &
blackhole=$!
wait_for 60 port_open 127.0.0.1 7801 || die "the silent listener did not start"
# Four connections, 5 s each: the map stays in the kernel for 20 s.
"$QBD" -m pool/stuck --no-wait -o nr_hw_queues=4 >/tmp/stuck.out 2>&1 &
stuck=$!
sleep 2
kill -0 "$stuck" 2>/dev/null || { cat /tmp/stuck.out; die "the stuck map ended early"; }
start=$SECONDS
"$QBD" -i pool/good >/dev/null || die "qbd -i of the other device failed"
cat /proc/qbdstat >/dev/null
"$QBD" -u pool/good || die "unmap of the other device failed"
took=$((SECONDS - start))
echo "qbd -i, /proc/qbdstat and unmap of the other device took $took s"
kill -0 "$stuck" 2>/dev/null || die "the stuck map was no longer stuck when the others finished"
[ "$took" -lt 8 ] || die "the other device waited $took s for the stuck map"
wait "$stuck" && die "a map whose server never answers succeeded"
cat /tmp/stuck.out
[ -z "$(ls /sys/block | grep qbd)" ] || die "the failed map left a device"
