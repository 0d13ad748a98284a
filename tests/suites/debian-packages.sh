#!/usr/bin/env bash
# The Debian packages and the release build of the userspace:
# - VERSION, debian/changelog and dkms.conf agree, and scripts/version.sh
#   notices when they do not;
# - "make deb" builds qbd-dkms, qbd-tools and qbd-server (dpkg-buildpackage
#   -us -uc -b in a copy of the tree) into build/deb/, leaving nothing in
#   the tree (debian/ as checked in) or beside it; each package is VERSION
#   and holds exactly its files; the package build has no -Werror;
# - the userspace builds with QBD_BUILD_TESTS=OFF and QBD_RDMA=OFF where
#   GTest and rdma-core cannot be found, has no test target, links no
#   rdma-core, and its "qbd-server serve --rdma" says RDMA was not built in;
#   the developer build (the Makefile's) has -Werror and the tests;
# - "make install DESTDIR=..." then "make uninstall DESTDIR=..." leaves
#   nothing, and keeps a configuration file changed since.
# tests/vm/scenarios/67-debian-packages.sh installs the packages in a guest.
# Prints "debian-packages: N passed, N failed" last.
set -uo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
debs=$top/build/deb
passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/log

ok() { passed=$((passed + 1)); }
fail() {
	echo "FAIL debian-packages: $*"
	failed=$((failed + 1))
}
# check WHAT COMMAND...: COMMAND's output is shown only when it fails.
check() {
	local what=$1
	shift
	if "$@" >"$log" 2>&1; then ok; else
		tail -n 30 "$log"
		fail "$what"
	fi
}
# same WHAT EXPECTED_FILE ACTUAL_FILE: two sorted lists are equal.
same() {
	if diff -u "$2" "$3" >"$log"; then ok; else
		cat "$log"
		fail "$1"
	fi
}
finish() {
	echo "debian-packages: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

for tool in dpkg-buildpackage dh dh_dkms git; do
	command -v "$tool" >/dev/null || {
		fail "$tool is missing: run scripts/install-deps.sh"
		finish
	}
done
version=$(tr -d '[:space:]' <"$top/VERSION")

# --- versions ---------------------------------------------------------------
check "VERSION, debian/changelog and dkms.conf agree" "$top/scripts/version.sh" check
check "debian/changelog (as dpkg reads it) is VERSION" \
	test "$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)" = "$version"
# A copy whose VERSION moved on alone is refused, and "set" mends it.
mkdir -p "$work/v/scripts" "$work/v/debian"
cp "$top/scripts/version.sh" "$work/v/scripts/"
cp "$top/dkms.conf" "$work/v/"
cp "$top/debian/changelog" "$top/debian/control" "$work/v/debian/"
echo 99.1.0 >"$work/v/VERSION"
if "$work/v/scripts/version.sh" check >/dev/null 2>&1; then
	fail "version.sh check passed with VERSION 99.1.0 and changelog $version"
else ok; fi
check "version.sh set mends all three" "$work/v/scripts/version.sh" set 99.1.0
check "version.sh set wrote dkms.conf" grep -qx 'PACKAGE_VERSION="99.1.0"' "$work/v/dkms.conf"
check "version.sh set wrote debian/changelog" \
	test "$(dpkg-parsechangelog -l "$work/v/debian/changelog" -S Version)" = 99.1.0

# --- the packages -----------------------------------------------------------
# What an in-tree dpkg-buildpackage leaves: debian/'s build files, the
# packages beside the checkout, obj-*/.
leftovers() {
	git -C "$top" ls-files --others -- debian
	ls -d "$top"/obj-* "$top"/../*.deb "$top"/../*.changes "$top"/../*.buildinfo 2>/dev/null
	git -C "$top" status --porcelain -- debian
}
leftovers >"$work/before"
start=$SECONDS
check "make deb" make -C "$top" -s deb
echo "debian-packages: make deb took $((SECONDS - start)) s"
cp "$log" "$work/deb.out"
leftovers >"$work/after"
same "the tree and its parent are as before the package build" "$work/before" "$work/after"

arch=$(dpkg --print-architecture)
declare -A file=([qbd-dkms]=$debs/qbd-dkms_${version}_all.deb
	[qbd-tools]=$debs/qbd-tools_${version}_$arch.deb
	[qbd-server]=$debs/qbd-server_${version}_$arch.deb)
for p in qbd-dkms qbd-tools qbd-server; do
	if [ ! -r "${file[$p]}" ]; then
		fail "${file[$p]} was not built"
		continue
	fi
	ok
	check "$p is version $version" test "$(dpkg-deb -f "${file[$p]}" Version)" = "$version"
	check "$p is package $p" test "$(dpkg-deb -f "${file[$p]}" Package)" = "$p"
	dpkg-deb -c "${file[$p]}" | awk '$1 !~ /^d/ { sub("^\\./", "", $6); print $6 }' | sort >"$work/$p.files"
done

# qbd-dkms: dkms.conf, VERSION, and module/ and include/ as git has them.
src=usr/src/qbd-$version
{
	echo "$src/dkms.conf"
	echo "$src/VERSION"
	git -C "$top" ls-files module include | grep -E '(\.[ch]|/Kbuild|/Makefile)$' | sed "s|^|$src/|"
	printf '%s\n' usr/share/doc/qbd-dkms/changelog.gz usr/share/doc/qbd-dkms/copyright
} | sort >"$work/qbd-dkms.want"
[ -e "$work/qbd-dkms.files" ] && same "qbd-dkms's files" "$work/qbd-dkms.want" "$work/qbd-dkms.files"
# qbd-tools: qbd, every rule of udev/ and unit of systemd/, two man pages,
# the bash completion.
{
	echo usr/sbin/qbd
	echo usr/share/bash-completion/completions/qbd
	for f in "$top"/udev/*.rules; do echo "lib/udev/rules.d/${f##*/}"; done
	for f in "$top"/systemd/*; do echo "lib/systemd/system/${f##*/}"; done
	printf '%s\n' usr/share/man/man8/qbd.8.gz usr/share/man/man5/qbd.conf.5.gz \
		usr/share/doc/qbd-tools/changelog.gz usr/share/doc/qbd-tools/copyright
} | sort >"$work/qbd-tools.want"
[ -e "$work/qbd-tools.files" ] && same "qbd-tools's files" "$work/qbd-tools.want" "$work/qbd-tools.files"
# qbd-server: the server, its unit, configuration, man page and completion.
printf '%s\n' usr/sbin/qbd-server lib/systemd/system/qbd-server.service etc/qbd/qbd-server.conf \
	usr/share/bash-completion/completions/qbd-server \
	usr/share/man/man8/qbd-server.8.gz usr/share/doc/qbd-server/changelog.gz \
	usr/share/doc/qbd-server/copyright usr/share/doc/qbd-server/examples/qbd-server.conf |
	sort >"$work/qbd-server.want"
[ -e "$work/qbd-server.files" ] && same "qbd-server's files" "$work/qbd-server.want" "$work/qbd-server.files"

# Maintainer scripts and control files.
for p in qbd-dkms qbd-server qbd-tools; do
	[ -r "${file[$p]}" ] && dpkg-deb -e "${file[$p]}" "$work/$p.control"
done
if [ -d "$work/qbd-server.control" ]; then
	c=$work/qbd-server.control
	check "qbd-server's conffile is /etc/qbd/qbd-server.conf" grep -qx /etc/qbd/qbd-server.conf "$c/conffiles"
	check "qbd-server's postinst adds the system user qbd" grep -Pzq 'adduser --system [^\n]*(\\\n[^\n]*)* qbd\n' "$c/postinst"
	check "qbd-server's postrm removes qbd and its data on purge" bash -c \
		"grep -q 'deluser --system --quiet qbd' '$c/postrm' && grep -q 'rm -rf /var/lib/qbd-server' '$c/postrm'"
	check "qbd-server's unit runs as qbd" bash -c \
		"dpkg-deb --fsys-tarfile '${file[qbd-server]}' | tar -xO ./lib/systemd/system/qbd-server.service | grep -qx User=qbd"
	check "qbd-server depends on adduser" bash -c "dpkg-deb -f '${file[qbd-server]}' Depends | grep -q adduser"
fi
if [ -d "$work/qbd-dkms.control" ]; then
	check "qbd-dkms's postinst has dkms build qbd $version" \
		grep -q "^DKMS_VERSION=$version" "$work/qbd-dkms.control/postinst"
	check "qbd-dkms's prerm removes it from dkms" grep -q 'dkms remove' "$work/qbd-dkms.control/prerm"
	check "qbd-dkms depends on dkms" bash -c "dpkg-deb -f '${file[qbd-dkms]}' Depends | grep -q '^dkms'"
	check "qbd-dkms's dkms.conf is the tree's" cmp "$top/dkms.conf" \
		<(dpkg-deb --fsys-tarfile "${file[qbd-dkms]}" | tar -xO "./$src/dkms.conf")
fi
# The release build: warnings stay warnings (dpkg-buildflags' own
# -Werror=format-security aside).
if [ -r "$debs/build.log" ]; then
	check "the package build compiled C++" grep -q 'c++ .* -c ' "$debs/build.log"
	if grep -E -- '-Werror( |$)' "$debs/build.log" | head -n 3 >"$log" && [ -s "$log" ]; then
		cat "$log"
		fail "the package build has -Werror"
	else ok; fi
fi

# --- the userspace without GTest and rdma-core -------------------------------
# pkg-config sees every module but rdma-core's, and CMake may not find GTest.
pc=$work/pkgconfig
mkdir -p "$pc"
IFS=: read -ra pcdirs <<<"$(pkg-config --variable pc_path pkg-config)"
for d in "${pcdirs[@]}"; do
	for f in "$d"/*.pc; do
		[ -e "$f" ] || continue
		case ${f##*/} in libibverbs.pc | librdmacm.pc) continue ;; esac
		[ -e "$pc/${f##*/}" ] || ln -s "$f" "$pc/${f##*/}"
	done
done
export PKG_CONFIG_LIBDIR=$pc PKG_CONFIG_PATH=
check "pkg-config finds no libibverbs now" bash -c '! pkg-config --exists libibverbs librdmacm'
build=$work/build
flags="-DQBD_DEVELOPER=OFF -DQBD_BUILD_TESTS=OFF -DQBD_RDMA=OFF -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON"
start=$SECONDS
check "make userspace with QBD_BUILD_TESTS=OFF QBD_RDMA=OFF" \
	make -C "$top" -s userspace BUILD="$build" CMAKE_FLAGS="$flags"
echo "debian-packages: the userspace without tests and RDMA built in $((SECONDS - start)) s"
if [ -x "$build/server/qbd-server" ] && [ -x "$build/cmd/qbd" ]; then
	ok
	check "no test target" bash -c "! cmake --build '$build' --target help | grep -E '_tests|qbd-hostile-server|qbd-rdma-probe'"
	check "ctest has no test" bash -c "ctest --test-dir '$build' -N | grep -qx 'Total Tests: 0'"
	readelf -d "$build/server/qbd-server" | grep NEEDED >"$work/needed"
	check "qbd-server links libraries" grep -q libc.so "$work/needed"
	check "qbd-server links no rdma-core" bash -c "! grep -e libibverbs -e librdmacm '$work/needed'"
	check "no -Werror and no RDMA listener compiled" bash -c \
		"! grep -q -e '-Werror' -e 'rdma_listener.cc' '$build/compile_commands.json'"
	"$build/server/qbd-server" init --data-dir "$work/data" >/dev/null 2>&1
	port=$((20000 + RANDOM % 20000))
	out=$(timeout 20 "$build/server/qbd-server" serve --data-dir "$work/data" --listen "127.0.0.1:$port" \
		--rdma 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && grep -q -- '--rdma: RDMA support was not built in' <<<"$out"; then ok; else
		echo "$out"
		fail "qbd-server serve --rdma without RDMA: status $rc, not 1 with 'RDMA support was not built in'"
	fi
else
	fail "the userspace without tests and RDMA has no qbd or qbd-server"
fi
unset PKG_CONFIG_LIBDIR PKG_CONFIG_PATH

# The developer build: what "make" runs has -Werror and the tests.
check "make userspace is the developer build" bash -c \
	"make -C '$top' -n userspace BUILD=x | grep -q -- '-DQBD_DEVELOPER=ON -DQBD_BUILD_TESTS=ON'"
dev=$work/dev
check "the developer build configures" \
	cmake -S "$top" -B "$dev" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQBD_DEVELOPER=ON -DQBD_BUILD_TESTS=ON
check "the developer build has -Werror" grep -q -- '-Werror' "$dev/compile_commands.json"
check "the developer build has the tests" bash -c "cmake --build '$dev' --target help | grep -q qbd_server_tests"

# --- make install, make uninstall --------------------------------------------
dest=$work/dest
mkdir -p "$dest"
kver=$("$top/scripts/kernel.sh" release 6.1)
check "make install DESTDIR" make -C "$top" -s install BUILD="$build" CMAKE_FLAGS="$flags" DESTDIR="$dest"
for f in usr/sbin/qbd usr/sbin/qbd-server etc/qbd/qbd-server.conf "lib/modules/$kver/updates/qbd.ko" \
	usr/lib/systemd/system/qbd-server.service usr/share/man/man8/qbd.8; do
	check "make install put $f" test -e "$dest/$f"
done
check "make uninstall DESTDIR" make -C "$top" -s uninstall BUILD="$build" DESTDIR="$dest"
if [ -z "$(find "$dest" -mindepth 1 | head -n 1)" ]; then ok; else
	find "$dest" -mindepth 1 | head -n 20
	fail "make uninstall left files or directories in DESTDIR"
fi
# A configuration file changed since the install is kept.
check "make install DESTDIR, again" make -C "$top" -s install BUILD="$build" CMAKE_FLAGS="$flags" DESTDIR="$dest"
echo "# changed here" >>"$dest/etc/qbd/qbd-server.conf"
check "make uninstall DESTDIR, again" make -C "$top" -s uninstall BUILD="$build" DESTDIR="$dest"
check "make uninstall kept the changed qbd-server.conf" test -e "$dest/etc/qbd/qbd-server.conf"
check "and nothing else" test "$(find "$dest" -type f | wc -l)" -eq 1

finish
