#!/bin/bash
# Runs in the guest, chrooted into its root (the host's root under a tmpfs
# overlay), before systemd boots it as PID 1 (init.sh with qbd.init=systemd):
# installs qbd as its packages install it, leaves systemd nothing of the
# host's own services to start, and has the scenario of the plan prepare
# what the boot is to find.  The scenario then runs as the unit
# qbd-test.service once the system is up, powers the guest off, and the
# shutdown hook qbd-test.shutdown reports it: "QBDTEST END" with its
# status, which its checks and its shutdown checks left on the scratch
# disk /dev/vda.
set -euo pipefail
exec </dev/console >/dev/console 2>&1
trap 'echo "systemd-prep.sh: line $LINENO failed: $BASH_COMMAND"' ERR
arg() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
QBD_ROOT=$(arg qbd.root)
QBD_KO=$(arg qbd.ko)
modules=$(arg qbd.modules)
name=$(head -n 1 "$(arg qbd.plan)")
export QBD_ROOT PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo "QBDTEST BEGIN $name"
k=$(uname -r)

# The guest kernel's modules, writable: qbd.ko goes where a package puts
# it, and depmod finds it.
mkdir -p /.qbd-modules
mount -t tmpfs tmpfs /.qbd-modules
mkdir -p /.qbd-modules/u /.qbd-modules/w
mount -t overlay overlay -o "lowerdir=$modules,upperdir=/.qbd-modules/u,workdir=/.qbd-modules/w" /lib/modules
install -D -m 0644 "$QBD_KO" "/lib/modules/$k/updates/qbd.ko"
[ -e "$(dirname "$QBD_KO")/qbd_rdma.ko" ] &&
	install -m 0644 "$(dirname "$QBD_KO")/qbd_rdma.ko" "/lib/modules/$k/updates/qbd_rdma.ko"
depmod -a "$k"
# The userspace as "make install" put it (run.sh staged it on the host).
cp -a "$QBD_ROOT/build/vm/systemd-root/." /

# None of the host's own services (databases, Ceph, timers, gettys): only
# systemd's and qbd's.  Its fstab names disks the guest does not have.
find /etc/systemd/system -mindepth 1 -maxdepth 1 -name '*.wants' -exec rm -rf {} +
rm -f /etc/systemd/system/default.target /etc/rc[0-6S].d/[SK]*
ln -sf /dev/null /etc/systemd/system/serial-getty@ttyS0.service
ln -sf /dev/null /etc/systemd/system/console-getty.service
: >/etc/fstab
# The host may be a container; the guest is not (systemd would take it for
# one, and its fstab generator ignores block devices in containers).
rm -f /.dockerenv /run/.containerenv
# remote-fs.target as Debian enables it: it pulls in the _netdev mounts.
systemctl enable remote-fs.target qbd-server.service qbd-mapall.service

# The scenario's own preparations, then its unit and the shutdown hook.
bash "$QBD_ROOT/tests/vm/scenarios/$name.sh" prepare
limit=$(sed -n 's/^# timeout: *//p' "$QBD_ROOT/tests/vm/scenarios/$name.sh" | head -n 1)
install -D -m 0755 "$QBD_ROOT/tests/vm/scenarios/$name.sh" /usr/local/libexec/qbd-test/scenario
cat >/etc/systemd/system/qbd-test.service <<UNIT
[Unit]
Description=qbd guest scenario $name
After=multi-user.target remote-fs.target

[Service]
Type=oneshot
ExecStart=/usr/local/libexec/qbd-test/scenario check
TimeoutStartSec=${limit:-600}
# Passed or not, the guest powers off and the shutdown hook reports.
ExecStopPost=/bin/systemctl --no-block poweroff

[Install]
WantedBy=multi-user.target
UNIT
systemctl enable qbd-test.service
hook=/usr/lib/systemd/system-shutdown/qbd-test.shutdown
mkdir -p "$(dirname "$hook")"
cat >"$hook" <<HOOK
#!/bin/sh
# Last of all, after every unit stopped: the verdicts on /dev/vda.
v=\$(dd if=/dev/vda bs=1024 count=1 2>/dev/null | tr -d '\\000')
echo "\$v" | sed 's/^/verdict: /' >/dev/console
rc=1
case "\$v" in *check=0*) case "\$v" in *shutdown=0*) rc=0 ;; esac ;; esac
echo "QBDTEST END $name \$rc \$(cut -d. -f1 /proc/uptime)" >/dev/console
HOOK
chmod 0755 "$hook"
echo "systemd-prep: qbd installed, $name prepared; booting systemd"
