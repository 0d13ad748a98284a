#!/bin/busybox sh
# /init of the test initramfs: mount the host root read-only over 9p with a
# tmpfs overlay, chroot into it and hand over to tests/vm/guest.sh.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do
	insmod "/lib/modules/$m" || echo "init: insmod $m failed"
done
arg() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
root=$(arg qbd.root)
init=$(arg qbd.init)
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 host /lower || {
	echo "init: cannot mount the host root over 9p"
	echo o >/proc/sysrq-trigger
}
mount -t tmpfs -o size=1200m tmpfs /upper
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
if [ "$init" = systemd ]; then
	# A host as systemd boots it: qbd installed into the root as its
	# package installs it, then systemd as PID 1.
	if ! chroot /newroot /bin/bash "$root/tests/vm/systemd-prep.sh"; then
		echo "init: systemd-prep.sh failed"
		echo o >/newroot/proc/sysrq-trigger
		sleep 30
	fi
	exec switch_root /newroot /lib/systemd/systemd
fi
exec chroot /newroot /bin/bash "$root/tests/vm/guest.sh"
