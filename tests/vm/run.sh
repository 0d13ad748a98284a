#!/usr/bin/env bash
# Runs the guest scenarios of tests/vm/scenarios (or --demo) inside
# qemu-system-x86_64 (TCG) booting a Debian or debug kernel, with the host's
# root file system mounted read-only over 9p under a tmpfs overlay, so the
# freshly built qbd.ko, qbd, qbd-server and every host tool are there.
#
#   tests/vm/run.sh [--demo] [--kernel K] [--debug-kernel] [--timeout SECS] [-v] [SCENARIO...]
#
# The guest boots Debian's kernel K of scripts/kernel.sh's matrix (a series
# such as 6.12, or a release), with qbd.ko built for it under build/kernels/;
# without --kernel, the kernel of KVER (default 6.1) with the checkout's own
# module/qbd.ko, as "make" built it.
#
# Each scenario is reported as PASS, FAIL (reason), SKIP (reason) or XFAIL;
# a kernel oops, BUG, WARNING, lockdep, KASAN, kmemleak or hung-task report
# during a scenario fails it.  The last line is
# "vm: N passed, N failed, N skipped"; the exit status is non-zero on failure.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
vmdir=$top/build/vm
mkdir -p "$vmdir/logs"

demo=0
bench=0
once_skipped=()
declare -A once_reason
debug=0
verbose=0
kernel_arg=
# One boot runs every scenario of a lane: about 25 minutes under TCG.
timeout=${QBD_VM_TIMEOUT:-2700}
scenarios=()
while [ $# -gt 0 ]; do
	case $1 in
	--demo) demo=1 ;;
	--bench) demo=1; bench=1 ;;
	--debug-kernel) debug=1 ;;
	--kernel) kernel_arg=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	-v) verbose=1 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) scenarios+=("$1") ;;
	esac
	shift
done

# --- kernel, modules and qbd.ko for the guest --------------------------------
if [ $debug -eq 1 ]; then
	kdir=$("$top/scripts/build-debug-kernel.sh")
	kernel=$kdir/bzImage
	kver=$(cat "$kdir/build/include/config/kernel.release")
	guest_modules=$kdir/lib/modules
	# qbd.ko for the debug kernel, with its KUnit suites.
	kodir=$("$top/scripts/build-module.sh" "$(cat "$kdir/series")" "$kdir/build")
	initrd_modules=()
else
	kver=$("$top/scripts/kernel.sh" release "${kernel_arg:-${KVER:-}}")
	kernel=$("$top/scripts/kernel.sh" image "$kver")
	guest_modules=$("$top/scripts/kernel.sh" modules "$kver")
	if [ -n "$kernel_arg" ]; then
		kodir=$("$top/scripts/build-module.sh" "$kver")
	else
		kodir=$top/module
		built_for=$(modinfo -F vermagic "$kodir/qbd.ko" 2>/dev/null | cut -d' ' -f1)
		[ "$built_for" = "$kver" ] ||
			{ echo "run.sh: module/qbd.ko is built for '${built_for:-nothing}', not $kver: run make KVER=$kver" >&2; exit 1; }
	fi
	initrd_modules=(virtio_pci 9pnet_virtio 9p overlay)
fi
qbd_ko=$kodir/qbd.ko
[ -r "$kernel" ] || { echo "run.sh: no kernel at $kernel" >&2; exit 1; }
[ -r "$qbd_ko" ] || { echo "run.sh: $qbd_ko missing: run make first" >&2; exit 1; }

# --- initramfs: busybox, the modules that mount the host root, /init -----------
initrd=$vmdir/initrd-$kver.gz
stamp=$( (echo "$kver $guest_modules ${initrd_modules[*]}"; cat "$top/tests/vm/init.sh") | sha256sum | cut -c1-16)
if [ ! -e "$initrd" ] || [ "$(cat "$initrd.stamp" 2>/dev/null)" != "$stamp" ]; then
	stage=$vmdir/initrd.d
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,proc,sys,lower,upper,newroot,lib/modules}
	cp /bin/busybox "$stage/bin/busybox"
	: >"$stage/lib/modules/order"
	for m in "${initrd_modules[@]}"; do
		for ko in $(modprobe -d "$(dirname "$(dirname "$guest_modules")")" -S "$kver" --show-depends "$m" |
			awk '/^insmod/{print $2}'); do
			# busybox's insmod takes no compressed module (6.12's are .ko.xz).
			b=$(basename "$ko" .xz)
			[ -e "$stage/lib/modules/$b" ] && continue
			case $ko in
			*.xz) xz -dc "$ko" >"$stage/lib/modules/$b" ;;
			*) cp "$ko" "$stage/lib/modules/$b" ;;
			esac
			echo "$b" >>"$stage/lib/modules/order"
		done
	done
	cp "$top/tests/vm/init.sh" "$stage/init"
	chmod +x "$stage/init"
	(cd "$stage" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$initrd"
	echo "$stamp" >"$initrd.stamp"
fi

# --- plan and boot -----------------------------------------------------------
if [ $bench -eq 1 ]; then
	plan=(bench)
elif [ $demo -eq 1 ]; then
	plan=(demo)
elif [ ${#scenarios[@]} -gt 0 ]; then
	plan=()
	for s in "${scenarios[@]}"; do
		f=$(ls "$top/tests/vm/scenarios/"*"$s"*.sh 2>/dev/null | head -n 1 || true)
		[ -n "$f" ] || { echo "run.sh: no scenario matches $s" >&2; exit 2; }
		plan+=("$(basename "$f" .sh)")
	done
else
	plan=()
	for f in "$top/tests/vm/scenarios/"*.sh; do
		plan+=("$(basename "$f" .sh)")
	done
fi

# Scenarios marked "# once: REASON" test what no kernel changes (userspace
# only): they run in the default lane, not again in a --kernel one.
if [ $demo -eq 0 ] && [ -n "$kernel_arg" ] && [ ${#scenarios[@]} -eq 0 ]; then
	others=()
	for name in "${plan[@]}"; do
		why=$(sed -n 's/^# once: *//p' "$top/tests/vm/scenarios/$name.sh" | head -n 1)
		if [ -n "$why" ]; then
			once_skipped+=("$name")
			once_reason[$name]=$why
		else
			others+=("$name")
		fi
	done
	plan=("${others[@]}")
fi

# Scenarios marked "# init: systemd" boot alone, with systemd as PID 1
# (init.sh, systemd-prep.sh), from the userspace "make install" puts in
# place, staged here for the guest to copy into its root.
systemd_plan=()
if [ $demo -eq 0 ]; then
	others=()
	for name in "${plan[@]}"; do
		if grep -q '^# init: systemd' "$top/tests/vm/scenarios/$name.sh"; then
			systemd_plan+=("$name")
		else
			others+=("$name")
		fi
	done
	plan=("${others[@]}")
fi
if [ ${#systemd_plan[@]} -gt 0 ]; then
	rm -rf "$vmdir/systemd-root"
	DESTDIR=$vmdir/systemd-root cmake --install "$top/build" --prefix /usr >/dev/null ||
		echo "run.sh: cmake --install failed: ${systemd_plan[*]} will fail" >&2
fi

# A scenario that installs the Debian packages takes them from build/deb/:
# made here, on the host, when they are missing (tests/suites/debian-packages.sh
# makes them afresh in make check).
for name in "${plan[@]}"; do
	case $name in
	*debian-packages*)
		v=$(tr -d '[:space:]' <"$top/VERSION")
		[ -e "$top/build/deb/qbd-dkms_${v}_all.deb" ] ||
			make -C "$top" -s deb >&2 || echo "run.sh: make deb failed: $name will fail" >&2
		;;
	esac
done

results=$vmdir/results.txt
: >"$results"
passed=0
failed=0
skipped=0
report() {
	echo "$1 $2${3:+ ($3)}"
	echo "$1 $2${3:+ ($3)}" >>"$results"
	case $1 in
	PASS | XFAIL) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
}

# Kernel messages that fail the scenario they appear in.
bad='Oops|BUG:|WARNING:|Call Trace:|general protection fault|possible circular locking|possible recursive locking|suspicious RCU|KASAN:|UBSAN:|unreferenced object|blocked for more than|hung_task|Kernel panic|INFO: task .* blocked'

boot() {
	local log=$1
	shift
	local planfile=$vmdir/plan.$$
	printf '%s\n' "$@" >"$planfile"
	# A scratch disk (/dev/vda in the guest) for data that must not live
	# in the guest's memory, such as a server's volumes under swap tests.
	local scratch=$vmdir/scratch.$$.img
	rm -f "$scratch"
	truncate -s 4G "$scratch"
	local append="console=ttyS0 panic=-1 oops=panic loglevel=5 qbd.root=$top qbd.plan=$planfile qbd.ko=$qbd_ko qbd.modules=$guest_modules${BOOT_APPEND:+ $BOOT_APPEND}"
	# ACPI interprets _PRT for every PCI interrupt: under TCG with lockdep
	# and KASAN that outlasts its 30 s loop limit and virtio loses its IRQ.
	[ $debug -eq 1 ] && append="$append kmemleak=on acpi=noirq"
	[ -n "${QBD_BENCH_RUNTIME:-}" ] && append="$append qbd.benchsecs=$QBD_BENCH_RUNTIME"
	[ -n "${QBD_BENCH_TARGETS:-}" ] && append="$append qbd.benchtargets=$QBD_BENCH_TARGETS"
	[ -n "${QBD_BENCH_JOBS:-}" ] && append="$append qbd.benchjobs=$QBD_BENCH_JOBS"
	[ -n "${QBD_BENCH_REPEAT:-}" ] && append="$append qbd.benchrepeat=$QBD_BENCH_REPEAT"
	# The benchmark's Ceph cluster holds its objects in memory.
	local mem=2G
	[ $bench -eq 1 ] && mem=4G
	local qemu=(qemu-system-x86_64 -accel tcg,thread=multi -smp 2 -m $mem -nographic -no-reboot
		-kernel "$kernel" -initrd "$initrd" -append "$append"
		-virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap"
		-drive "file=$scratch,if=virtio,format=raw,cache=unsafe"
		-nic none)
	if [ $verbose -eq 1 ] || [ $demo -eq 1 ]; then
		timeout --kill-after=10 "$timeout" "${qemu[@]}" </dev/null 2>&1 | tee "$log" | tr -d '\r' |
			grep --line-buffered -v '^QBDTEST ' || true
	else
		timeout --kill-after=10 "$timeout" "${qemu[@]}" </dev/null >"$log" 2>&1 &
		local pid=$! waited=0
		# A guest that has not reached its first scenario by now is stuck
		# booting: stop it instead of waiting out the whole timeout.
		while kill -0 "$pid" 2>/dev/null; do
			if [ $waited -ge 420 ] && ! grep -qa '^QBDTEST' "$log"; then
				kill "$pid" 2>/dev/null || true
				break
			fi
			sleep 5
			waited=$((waited + 5))
		done
		wait "$pid" 2>/dev/null || true
	fi
	rm -f "$planfile" "$scratch"
}

# Judge the scenarios of one boot's log; those it never started are left
# in the array unfinished.
judge() {
	local log=$1
	shift
	local name section rc reason
	unfinished=()
	for name in "$@"; do
		if ! grep -q "^QBDTEST BEGIN $name\$" <(tr -d '\r' <"$log"); then
			unfinished+=("$name")
			continue
		fi
		section=$(tr -d '\r' <"$log" | sed -n "/^QBDTEST BEGIN $name\$/,/^QBDTEST END $name /p")
		rc=$(sed -n "s/^QBDTEST END $name \([0-9]*\).*/\1/p" <<<"$section")
		# Seconds it took (the guest's clock), for CI's time budget.
		secs=$(sed -n "s/^QBDTEST END $name [0-9]* \([0-9]*\)$/\1/p" <<<"$section")
		reason=$(sed -n "s/^QBDTEST SKIP $name //p" <<<"$section" | head -n 1)
		xfail=0
		grep -q '^# expect: fail' "$top/tests/vm/scenarios/$name.sh" 2>/dev/null && xfail=1
		kernel_bad=$(grep -E "$bad" <<<"$section" | head -n 1 || true)
		# Sub-cases a scenario reports itself (KUnit cases): one test each.
		while read -r verdict case; do
			report "$verdict" "$name/$case"
		done < <(sed -n 's/^QBDTEST CASE \(PASS\|FAIL\) /\1 /p' <<<"$section")
		if [ -z "$rc" ]; then
			report FAIL "$name" "guest died or timed out in it: see $log"
			continue
		fi
		if [ -n "$kernel_bad" ]; then
			if [ $xfail -eq 1 ]; then
				report XFAIL "$name" "failed as expected: kernel said: $kernel_bad"
			else
				report FAIL "$name" "kernel: $kernel_bad"
			fi
		elif [ "$rc" = 77 ]; then
			report SKIP "$name" "$reason"
		elif [ "$rc" != 0 ]; then
			if [ $xfail -eq 1 ]; then
				report XFAIL "$name" "failed as expected with status $rc"
			else
				# The scenario's own last word (die's FAILED: line)
				# goes into the report, so a CI log says why.
				said=$(sed -n 's/^FAILED: //p' <<<"$section" | tail -n 1)
				report FAIL "$name" "exit status $rc${said:+ ($said)}: see $log"
			fi
		elif [ $xfail -eq 1 ]; then
			report FAIL "$name" "unexpected pass"
		else
			report PASS "$name" "${secs:+$secs s}"
		fi
	done
}

for name in "${once_skipped[@]}"; do
	report SKIP "$name" "once: ${once_reason[$name]}; it ran in the default lane"
done
remaining=("${plan[@]}")
boots=0
for name in "${systemd_plan[@]}"; do
	boots=$((boots + 1))
	log=$vmdir/logs/$(date +%Y%m%d-%H%M%S)-$boots.log
	BOOT_APPEND="qbd.init=systemd systemd.unit=multi-user.target systemd.show_status=1" \
		boot "$log" "$name"
	judge "$log" "$name"
	[ ${#unfinished[@]} -eq 0 ] || report FAIL "$name" "guest did not boot: see $log"
done
while [ ${#remaining[@]} -gt 0 ]; do
	boots=$((boots + 1))
	log=$vmdir/logs/$(date +%Y%m%d-%H%M%S)-$boots.log
	start=$(date +%s)
	boot "$log" "${remaining[@]}"
	[ $verbose -eq 1 ] && echo "boot $boots took $(($(date +%s) - start)) s" >&2
	judge "$log" "${remaining[@]}"
	[ ${#unfinished[@]} -eq 0 ] && break
	if [ ${#unfinished[@]} -eq ${#remaining[@]} ]; then
		# Not one scenario started: the boot itself failed.
		for name in "${unfinished[@]}"; do
			report FAIL "$name" "guest did not boot: see $log"
		done
		break
	fi
	remaining=("${unfinished[@]}")
done
[ $demo -eq 1 ] && exit $((failed > 0))
echo "vm: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
