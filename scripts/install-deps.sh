#!/usr/bin/env bash
# Installs, from Debian packages, everything qbd needs to build, test and
# benchmark, and fetches the other kernels of the matrix (scripts/kernel.sh)
# into its cache.  Idempotent: when everything is there it only says so.
set -euo pipefail

packages=(
	# build
	build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
	linux-headers-amd64 dkms flex bison bc libelf-dev dwarves rsync xz-utils
	libgtest-dev libgmock-dev liburing-dev libsqlite3-dev libssl-dev
	libibverbs-dev librdmacm-dev libnl-3-dev libnl-genl-3-dev libudev-dev
	libsystemd-dev libisal-dev nlohmann-json3-dev libmount-dev
	librbd-dev librados-dev
	# Debian packages (make deb, tests/suites/debian-packages.sh)
	dpkg-dev debhelper dh-dkms adduser
	# guest: kernel, emulator, userland used inside
	linux-image-amd64 qemu-system-x86 busybox-static kmod udev
	iproute2 util-linux fdisk e2fsprogs fio procps psmisc jq dmsetup mdadm
	rdma-core ibverbs-providers ibverbs-utils rdmacm-utils
	# Ceph: the test cluster (tests/ceph/cluster.sh), the rbd backend, peers
	ceph-mon ceph-osd ceph-common librbd-dev librados-dev rbd-nbd
	# peers for benchmarks
	nbd-client nbd-server nvme-cli
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present"
elif [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
else
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${packages[@]}"
fi
"$(dirname "$0")/kernel.sh" prepare
