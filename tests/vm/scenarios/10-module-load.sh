#!/bin/bash
# Loading qbd.ko creates /dev/qbdctl, /proc/qbdstat with its header and
# /sys/module/qbd/version; qbd -v reports the loaded module's version;
# unloading removes them all.
. "$QBD_ROOT/tests/vm/lib.sh"
_have_qbd || skip "build/cmd/qbd is not built"
trap cleanup EXIT

qbd_load_module
[ -c /dev/qbdctl ] || die "/dev/qbdctl is not a character device"
head -n 1 /proc/qbdstat | grep -q '^dev pool/volume state rd_ops' || die "no header in /proc/qbdstat"
want=$(cat "$QBD_ROOT/VERSION")
[ "$(cat /sys/module/qbd/version)" = "$want" ] || die "module version is not $want"
"$QBD" -v | tee /dev/stderr | grep -q "qbd.ko $want" || die "qbd -v does not report qbd.ko $want"
"$QBD" -h | grep -q -- "--map" || die "qbd -h lists no --map"

qbd_unload_module
[ ! -e /dev/qbdctl ] || die "/dev/qbdctl still there after rmmod"
[ ! -e /proc/qbdstat ] || die "/proc/qbdstat still there after rmmod"
"$QBD" -v | grep -q "not loaded" || die "qbd -v does not say the module is not loaded"
