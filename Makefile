# qbd top-level build.
#   make            module (qbd.ko, W=1) and userspace (CMake)
#   make KVER=6.12  the same for another kernel of scripts/kernel.sh's matrix
#                   (a series or a release); tests and bench follow KVER
#   make demo       the main job: guest + qbd-server + mapped volume + ext4
#   make check      every test; last line "N passed, N failed"
#   make install DESTDIR=...   and   make uninstall DESTDIR=...
#   make deb        Debian packages qbd-dkms, qbd-tools, qbd-server in build/deb/

override KVER := $(shell scripts/kernel.sh release $(KVER))
ifeq ($(KVER),)
$(error no such kernel: scripts/kernel.sh list shows the supported ones)
endif
KDIR    ?= $(shell scripts/kernel.sh kdir $(KVER))
BUILD   ?= build
JOBS    ?= $(shell nproc)
# The developer build: -Werror and the tests (CMakeLists.txt's options).
# Packages build with QBD_DEVELOPER off and QBD_BUILD_TESTS off (debian/rules).
CMAKE_FLAGS ?= -DQBD_DEVELOPER=ON -DQBD_BUILD_TESTS=ON
export KVER KDIR

.PHONY: all module userspace deps check unit-test vm-test demo bench clean install uninstall deb

all: module userspace

module:
	$(MAKE) -C module KDIR=$(KDIR)

userspace:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

deps:
	scripts/install-deps.sh

check: deps
	$(MAKE) all
	tests/run-all.sh

unit-test: userspace
	tests/run-unit.sh

vm-test: all
	tests/vm/run.sh

demo: deps
	$(MAKE) all
	tests/vm/run.sh --demo

# Where a distribution puts things; DESTDIR for packaging.  What was put
# in place is listed in $(BUILD)/qbd-installed.txt (cmake's
# install_manifest.txt and the modules), which uninstall removes.
install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR)/module INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates modules_install
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix /usr
	DESTDIR=$(DESTDIR) scripts/installed.sh record $(BUILD) $(KVER)

uninstall:
	DESTDIR=$(DESTDIR) scripts/installed.sh uninstall $(BUILD) $(KVER)

# dpkg-buildpackage -us -uc -b in a copy of the tree (which stays clean);
# the packages land in $(BUILD)/deb/.
deb:
	scripts/build-deb.sh $(BUILD)/deb

clean:
	$(MAKE) -C module KDIR=$(KDIR) clean
	rm -rf $(BUILD)
