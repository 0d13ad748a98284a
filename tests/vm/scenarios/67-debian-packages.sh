#!/bin/bash
# The Debian packages of build/deb/ (make deb; tests/vm/run.sh makes them
# when they are missing) install with apt as on a host: dkms builds qbd.ko
# and qbd_rdma.ko for the running kernel at install, modprobe loads them,
# qbd-server's user qbd, data directory and configuration are in place
# and it serves as qbd.  Purging the three leaves nothing of them: no file
# of theirs, no module, no dkms tree, no user, no unit link, no udev rule.
# Under TCG the install takes about 5 minutes, nearly all of it dkms
# compiling the module (timings in the console log).
# timeout: 1200
. "$QBD_ROOT/tests/vm/lib.sh"

# Once, on the machine's own kernel, whose headers are installed as a
# host's would be: dkms for every kernel of the matrix is
# tests/suites/packaging.sh's, and this scenario is the longest there is.
[ "$(uname -r)" = "$("$QBD_ROOT/scripts/kernel.sh" release 6.1)" ] ||
	skip "the packages are installed on 6.1 only (dkms on $(uname -r) is tests/suites/packaging.sh's)"
version=$(tr -d '[:space:]' <"$QBD_ROOT/VERSION")
arch=$(dpkg --print-architecture)
k=$(uname -r)
pkgs=(qbd-dkms qbd-tools qbd-server)
debs=("$QBD_ROOT/build/deb/qbd-dkms_${version}_all.deb"
	"$QBD_ROOT/build/deb/qbd-tools_${version}_$arch.deb"
	"$QBD_ROOT/build/deb/qbd-server_${version}_$arch.deb")
for d in "${debs[@]}"; do
	[ -r "$d" ] || die "no $d: make deb (tests/vm/run.sh makes it when this scenario is planned)"
done
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 && die "$p is installed on the host's root already: dpkg --purge $p there"
done
[ ! -e /var/lib/dkms/qbd ] || die "/var/lib/dkms/qbd exists before the install (is tests/suites/packaging.sh running?)"
lsmod | grep -q '^qbd_rdma ' && rmmod qbd_rdma
lsmod | grep -q '^qbd ' && rmmod qbd
modinfo -k "$k" qbd >/dev/null 2>&1 && die "a qbd module is installed for $k already: $(modinfo -k "$k" -F filename qbd)"


# Speed only, nothing of what is tested changes: under TCG each of the
# thirty-odd compiles of the dkms build reads its kernel headers over 9p
# anew (the guest mounts the host's root uncached), and that is about half
# of the build's time.  Touched, the headers, kbuild and cc1 are copied
# once into the overlay's tmpfs and read from memory from then on.  And
# man-db's index, rebuilt after install and purge (a minute each), is no
# part of the test: its trigger skips it without this file.
build=$(readlink -f "/lib/modules/$k/build")
cc1=$(gcc -print-prog-name=cc1)
start=$SECONDS
find "$build" "${build%-amd64}-common/include" "${build%-amd64}-common/arch/x86/include" \
	"$(readlink -f "$build/scripts")/.." "$cc1" "$(dirname "$cc1")/include" -type f \
	-exec touch -a -h {} + 2>/dev/null || true
echo "67-debian-packages: kernel headers and cc1 copied into the guest's memory in $((SECONDS - start)) s"
man_db_auto=/var/lib/man-db/auto-update
man_db_was=
if [ -e "$man_db_auto" ]; then
	man_db_was=1
	rm -f "$man_db_auto"
fi

# If the scenario stops half way, later ones must not find the packages.
purge_all() {
	dpkg --purge --force-all "${pkgs[@]}" >/dev/null 2>&1 || true
	dkms remove -m qbd -v "$version" --all >/dev/null 2>&1 || true
}
server_pid=
finish() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	lsmod | grep -q '^qbd_rdma ' && rmmod qbd_rdma
	lsmod | grep -q '^qbd ' && rmmod qbd
	purge_all
	if [ -n "$man_db_was" ]; then touch "$man_db_auto"; fi
}
trap finish EXIT

# What is there before: the packages' own paths (a directory such as
# /usr/sbin stays), and every name under the places their scripts write.
for d in "${debs[@]}"; do
	dpkg-deb -c "$d" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' | grep -v '^/*$'
done | sort -u >/tmp/pkg-paths
while read -r p; do
	if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi
done </tmp/pkg-paths >/tmp/pkg-paths-before
# dpkg's and apt's own records, and dkms's signing key (made once per
# machine, for every dkms module, and kept), change by design.
snapshot() {
	find /etc /var/lib "/lib/modules/$k" /usr/src -maxdepth 6 2>/dev/null |
		grep -Ev '^/var/lib/(dpkg|apt)/|^/etc/(passwd|group|shadow|gshadow)-$|^/var/lib/dkms/mok\.(key|pub)$|^/etc/ld\.so\.cache$' |
		sort
}
snapshot >/tmp/snapshot-before

# --- install -------------------------------------------------------------------
# The guest has no network: what the packages depend on is installed on
# the host's root already, and apt has nothing to fetch (its --no-download
# refuses local .deb files: "Pathname to install is not absolute").
# apt's output goes to the console as it comes, each line with the
# seconds since the start: under TCG the dkms build is most of the time.
export DEBIAN_FRONTEND=noninteractive
start=$SECONDS
stamped() {
	local line
	while IFS= read -r line; do
		printf '  [%4d s] %s\n' $((SECONDS - start)) "$line"
	done
}
if ! apt-get install -y "${debs[@]}" 2>&1 | stamped; then
	die "apt-get install of the three packages failed"
fi
echo "67-debian-packages: apt-get install (dkms build for $k included) took $((SECONDS - start)) s"
for p in "${pkgs[@]}"; do
	[ "$(dpkg-query -W -f='${Status} ${Version}' "$p")" = "install ok installed $version" ] ||
		die "$p is not installed at $version: $(dpkg-query -W -f='${Status} ${Version}' "$p")"
done

# dkms built and installed both modules for this kernel.
dkms status -m qbd -v "$version" -k "$k" | grep -q ': installed' ||
	die "dkms status: $(dkms status -m qbd)"
file=$(modinfo -k "$k" -F filename qbd) || die "modinfo finds no qbd for $k"
case $file in
"/lib/modules/$k/updates/dkms/qbd.ko"*) ;;
*) die "qbd for $k is $file, not dkms's" ;;
esac
[ "$(modinfo -k "$k" -F version qbd)" = "$version" ] || die "qbd.ko is not version $version"
modinfo -k "$k" -F vermagic qbd | grep -q "^$k " || die "qbd.ko is not built for $k"
modinfo -k "$k" qbd_rdma >/dev/null || die "modinfo finds no qbd_rdma for $k"
modprobe qbd || die "modprobe qbd failed"
[ -c /dev/qbdctl ] || die "/dev/qbdctl did not appear"
[ "$(cat /sys/module/qbd/version)" = "$version" ] || die "the loaded qbd is not $version"
/usr/sbin/qbd -v | grep -q "qbd.ko $version" || die "qbd -v does not report qbd.ko $version: $(/usr/sbin/qbd -v)"
modprobe qbd_rdma || die "modprobe qbd_rdma failed"
modprobe -r qbd_rdma qbd || die "modprobe -r qbd_rdma qbd failed"

# qbd-tools: rules and units as the tree has them, the boot unit enabled.
for r in "$QBD_ROOT"/udev/*.rules; do
	cmp -s "$r" "/lib/udev/rules.d/${r##*/}" || die "/lib/udev/rules.d/${r##*/} is not udev/${r##*/}"
done
for u in "$QBD_ROOT"/systemd/*; do
	cmp -s "$u" "/lib/systemd/system/${u##*/}" || die "/lib/systemd/system/${u##*/} is not systemd/${u##*/}"
done
[ -L /etc/systemd/system/multi-user.target.wants/qbd-mapall.service ] || die "qbd-mapall.service is not enabled"
for m in /usr/share/man/man8/qbd.8.gz /usr/share/man/man5/qbd.conf.5.gz; do
	[ -e "$m" ] || die "$m is missing"
done

# qbd-server: a system user, its data directory, the configuration as a
# conffile, the unit enabled; it serves the shipped configuration as qbd.
uid=$(id -u qbd) || die "no user qbd"
[ "$uid" -lt 1000 ] || die "qbd is not a system user (uid $uid)"
getent group qbd >/dev/null || die "no group qbd"
[ "$(stat -c '%U %G %a' /var/lib/qbd-server)" = "qbd qbd 700" ] ||
	die "/var/lib/qbd-server is $(stat -c '%U %G %a' /var/lib/qbd-server), not qbd qbd 700"
cmp -s "$QBD_ROOT/server/qbd-server.conf" /etc/qbd/qbd-server.conf || die "/etc/qbd/qbd-server.conf is not the tree's"
dpkg-query -W -f='${Conffiles}' qbd-server | grep -q '^ /etc/qbd/qbd-server.conf ' ||
	die "/etc/qbd/qbd-server.conf is not a conffile"
[ -L /etc/systemd/system/multi-user.target.wants/qbd-server.service ] || die "qbd-server.service is not enabled"
runuser -u qbd -- /usr/sbin/qbd-server init --config /etc/qbd/qbd-server.conf ||
	die "qbd-server init as qbd failed"
runuser -u qbd -- /usr/sbin/qbd-server serve --config /etc/qbd/qbd-server.conf >/tmp/qbd-server.log 2>&1 &
server_pid=$!
wait_for 60 port_open 127.0.0.1 7800 || { cat /tmp/qbd-server.log; die "qbd-server as qbd did not listen on 127.0.0.1:7800"; }
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=
[ -n "$(find /var/lib/qbd-server -mindepth 1 -user qbd | head -n 1)" ] || die "qbd-server wrote nothing in /var/lib/qbd-server"

# --- purge ---------------------------------------------------------------------
dpkg -L "${pkgs[@]}" | grep -vx '/\.' | sort -u >/tmp/pkg-listed
start=$SECONDS
if ! apt-get purge -y "${pkgs[@]}" 2>&1 | stamped; then
	die "apt-get purge failed"
fi
echo "67-debian-packages: apt-get purge took $((SECONDS - start)) s"
left=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 && left+=("package $p: $(dpkg-query -W -f='${Status}' "$p")")
done
# Every path dpkg listed, unless it was there before.
while read -r p; do
	[ -e "$p" ] || [ -L "$p" ] || continue
	grep -qxF "$p" /tmp/pkg-paths-before || left+=("$p")
done < <(sort -u /tmp/pkg-listed /tmp/pkg-paths)
modinfo -k "$k" qbd >/dev/null 2>&1 && left+=("module qbd: $(modinfo -k "$k" -F filename qbd)")
modinfo -k "$k" qbd_rdma >/dev/null 2>&1 && left+=("module qbd_rdma: $(modinfo -k "$k" -F filename qbd_rdma)")
getent passwd qbd >/dev/null && left+=("user qbd")
getent group qbd >/dev/null && left+=("group qbd")
for p in /var/lib/dkms/qbd "/usr/src/qbd-$version" /etc/qbd/qbd-server.conf /var/lib/qbd-server \
	/var/lib/private/qbd-server /lib/udev/rules.d/60-qbd.rules /lib/systemd/system/qbd-server.service \
	/lib/systemd/system/qbd-mapall.service /etc/systemd/system/multi-user.target.wants/qbd-server.service \
	/etc/systemd/system/multi-user.target.wants/qbd-mapall.service; do
	if [ -e "$p" ] || [ -L "$p" ]; then left+=("$p"); fi
done
# Nothing new under /etc, /var/lib, the kernel's modules or /usr/src.
snapshot >/tmp/snapshot-after
while read -r p; do
	left+=("new since the install: $p")
done < <(comm -13 /tmp/snapshot-before /tmp/snapshot-after)
if [ ${#left[@]} -gt 0 ]; then
	printf '  left: %s\n' "${left[@]}"
	die "the purge left ${#left[@]} things behind (above)"
fi
# Nothing of the host's went either.
gone=$(comm -23 /tmp/snapshot-before /tmp/snapshot-after | head -n 5)
[ -z "$gone" ] || die "the install and purge removed what was there before: $gone"
