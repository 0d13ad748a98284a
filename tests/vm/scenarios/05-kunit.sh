#!/bin/bash
# The KUnit suites built into qbd.ko (protocol, shards, throttle, ioctl
# validation) pass; each case counts as a test.  Needs a kernel with KUnit:
# run under tests/vm/run.sh --debug-kernel.
# timeout: 300
. "$QBD_ROOT/tests/vm/lib.sh"
grep -qw kunit_run_tests /proc/kallsyms ||
	skip "this kernel has no KUnit (Debian's does not): run with --debug-kernel"
trap cleanup EXIT
dmesg -C
qbd_load_module
# KTAP: suites at depth 0, cases at 4 spaces, parameters at 8.
ktap=$(dmesg | sed -n 's/^\[ *[0-9.]*\] //p')
echo "$ktap" | grep -E '^ *(ok|not ok|# )' >&2
fails=0
cases=0
while read -r line; do
	name=$(sed -E 's/^ *(not ok|ok) [0-9]+ //' <<<"$line")
	cases=$((cases + 1))
	if [[ $line =~ ^\ *not\ ok ]]; then
		echo "QBDTEST CASE FAIL $name"
		fails=$((fails + 1))
	else
		echo "QBDTEST CASE PASS $name"
	fi
done < <(grep -E '^    (ok|not ok) ' <<<"$ktap")
[ "$cases" -gt 0 ] || die "no KUnit results in the kernel log"
[ "$fails" -eq 0 ] || die "$fails KUnit cases failed"
