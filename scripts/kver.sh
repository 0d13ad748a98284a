#!/usr/bin/env bash
# Prints the kernel release qbd.ko is built for and the guest boots:
# the running kernel when its build directory exists, else the newest
# Debian amd64 kernel whose headers and image are both installed.
set -euo pipefail
if [ -d "/lib/modules/$(uname -r)/build" ] && [ -e "/boot/vmlinuz-$(uname -r)" ]; then
	uname -r
	exit 0
fi
best=""
for d in /usr/src/linux-headers-*-amd64; do
	[ -d "$d" ] || continue
	rel=${d#/usr/src/linux-headers-}
	[ -e "/boot/vmlinuz-$rel" ] || continue
	best=$(printf '%s\n%s\n' "$best" "$rel" | sed '/^$/d' | sort -V | tail -n 1)
done
if [ -z "$best" ]; then
	echo "kver: no installed linux-headers-*-amd64 with a matching linux-image; run scripts/install-deps.sh" >&2
	exit 1
fi
echo "$best"
