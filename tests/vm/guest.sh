#!/bin/bash
# Runs inside the guest as init: prepares a host-like system (tmpfs, udevd
# with qbd's rules, loopback) and runs each scenario of the plan, framed by
# QBDTEST markers on the console for the host to judge.
arg() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
export QBD_ROOT=$(arg qbd.root)
export QBD_KO=$(arg qbd.ko)
export QBD_BENCH_RUNTIME=$(arg qbd.benchsecs)
export QBD_BENCH_TARGETS=$(arg qbd.benchtargets)
export QBD_BENCH_JOBS=$(arg qbd.benchjobs)
export QBD_BENCH_REPEAT=$(arg qbd.benchrepeat)
plan=$(arg qbd.plan)
modules=$(arg qbd.modules)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

exec </dev/null >/dev/console 2>&1
# A checkout under /tmp or /run (a CI clone, say) must stay visible under
# the fresh tmpfs mounted there.
mkdir -p /mnt/qbd-root
mount --bind "$QBD_ROOT" /mnt/qbd-root
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
if [ ! -d "$QBD_ROOT/tests/vm" ]; then
	mkdir -p "$QBD_ROOT"
	mount --bind /mnt/qbd-root "$QBD_ROOT"
fi
mkdir -p /dev/pts /dev/shm /run/udev
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config 2>/dev/null
ln -sf /proc/self/fd /dev/fd
[ "$modules" != /lib/modules ] && mount --bind "$modules" /lib/modules
hostname qbd-guest
ip link set lo up
sysctl -qw kernel.hung_task_timeout_secs=60 2>/dev/null
echo 1 >/proc/sys/kernel/sysrq

# udevd with the project's rules, so device links behave as on a host.
mkdir -p /etc/udev/rules.d
for r in "$QBD_ROOT"/udev/*.rules; do
	[ -e "$r" ] && sed "s|/usr/sbin/qbd|$QBD_ROOT/build/cmd/qbd|g" "$r" >"/etc/udev/rules.d/$(basename "$r")"
done
/lib/systemd/systemd-udevd --daemon --resolve-names=never
udevadm trigger --action=add >/dev/null 2>&1
udevadm settle --timeout=30

# What one scenario leaves behind must not reach the next: servers, devices,
# namespaces, the module.
reset_guest() {
	bash -c '. "$QBD_ROOT/tests/vm/lib.sh" && unmount_qbd'
	pkill -KILL -f 'qbd-server serve|qbd-hostile-server' 2>/dev/null
	for d in /sys/block/qbd*; do
		[ -e "$d" ] && "$QBD_ROOT/build/cmd/qbd" -u "/dev/$(basename "$d")" --force >/dev/null 2>&1
	done
	ip -all netns delete 2>/dev/null
	rm -rf /etc/qbd /tmp/qbd-server-*
	for _ in $(seq 30); do
		lsmod | grep -q '^qbd ' || break
		rmmod qbd_rdma 2>/dev/null
		rmmod qbd 2>/dev/null && break
		sleep 1
	done
	# Say so when the next scenario will find the module still loaded.
	lsmod | grep '^qbd' | sed 's/^/reset_guest: still loaded: /'
}

# Debug kernel: leaks whose allocation went through qbd fail the scenario
# (the harness scans the console for "unreferenced object").  Leaks of
# other subsystems are not ours to judge here.
report_leaks() {
	local k=/sys/kernel/debug/kmemleak
	[ -w "$k" ] || return 0
	echo scan >"$k"
	sleep 1
	echo scan >"$k"
	if grep -q qbd "$k"; then
		cat "$k"
	fi
	echo clear >"$k"
}

cd "$QBD_ROOT"
while read -r name; do
	[ -n "$name" ] || continue
	if [ "$name" = demo ]; then
		script=$QBD_ROOT/tests/vm/demo.sh
	elif [ "$name" = bench ]; then
		script=$QBD_ROOT/bench/guest-bench.sh
	else
		script=$QBD_ROOT/tests/vm/scenarios/$name.sh
	fi
	limit=$(sed -n 's/^# timeout: *//p' "$script" | head -n 1)
	[ "$name" = bench ] && limit=3000
	echo "QBDTEST BEGIN $name"
	started=$SECONDS
	timeout --kill-after=10 "${limit:-600}" bash "$script"
	rc=$?
	reset_guest
	report_leaks
	# Let the kernel finish printing what the scenario caused.
	sleep 1
	echo "QBDTEST END $name $rc $((SECONDS - started))"
done <"$plan"
echo "QBDTEST DONE"
sync
echo o >/proc/sysrq-trigger
sleep 30
