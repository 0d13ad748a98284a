#!/bin/bash
# The driver's events over generic netlink, as "qbd --events" prints them
# (one JSON line each): with the server killed, the volume's connections
# report connection_lost, then gave_up once the give-up time has passed,
# then connection_restored when the server is back; an online grow reports
# resized with the new size.  In that order, for this volume, each line
# valid JSON of schema version 1.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
require_userspace
events_pid=
stop_events() {
	[ -n "$events_pid" ] && kill "$events_pid" 2>/dev/null
	wait "$events_pid" 2>/dev/null || true
	events_pid=
}
trap 'stop_events; cleanup' EXIT
qbd_load_module
start_server a 127.0.0.1:7800
write_conf 127.0.0.1:7800
create_volume pool/events 64M

"$QBD" -e -V >/tmp/events.json 2>/tmp/events.err &
events_pid=$!
wait_for 10 grep -q "listening to qbd.ko's events" /tmp/events.err ||
	{ cat /tmp/events.err; die "qbd -e did not start listening"; }
dev=$("$QBD" -m pool/events -o giveup_timeout=4,reconnect_delay_ms=200)
disk=$(basename "$dev")

stop_server a KILL
gave_up() { grep -q '"event":"gave_up"' /tmp/events.json; }
wait_for 60 gave_up || { cat /tmp/events.json; die "no gave_up event while the server was down"; }
start_server a 127.0.0.1:7800
restored() { grep -q '"event":"connection_restored"' /tmp/events.json; }
wait_for 60 restored || { cat /tmp/events.json; die "no connection_restored once the server was back"; }
"$QBD" -z pool/events -k 96M
resized() { grep -q '"event":"resized"' /tmp/events.json; }
wait_for 30 resized || { cat /tmp/events.json; die "no resized event after qbd -z"; }
stop_events
"$QBD" -u pool/events
cat /tmp/events.json

# Every line is JSON of this schema, naming this volume; the events come
# in the order they happened.
python3 - "$disk" /tmp/events.json <<'PY' || die "the events are not as expected (above)"
import json, sys
disk, path = sys.argv[1], sys.argv[2]
events = [json.loads(line) for line in open(path)]
assert events, "no events"
for e in events:
    assert e["version"] == 1, e
    assert e["dev"] == "/dev/" + disk and e["pool"] == "pool" and e["volume"] == "events", e
    assert isinstance(e["time_ms"], int), e
names = [e["event"] for e in events]
print("events:", " ".join(names))
assert names[0] == "connection_lost", names
first = {n: names.index(n) for n in set(names)}
assert first["connection_lost"] < first["gave_up"] < first["connection_restored"] < first["resized"], names
assert all(e["address"] == "127.0.0.1:7800" for e in events if e["event"] != "resized"), names
assert [e["size"] for e in events if e["event"] == "resized"] == [96 << 20], names
assert names[-1] == "resized", names
PY
