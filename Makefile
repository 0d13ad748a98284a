# qbd top-level build.
#   make            module (qbd.ko, W=1) and userspace (CMake)
#   make demo       the main job: guest + qbd-server + mapped volume + ext4
#   make check      every test; last line "N passed, N failed"
#   make install DESTDIR=...

KVER    ?= $(shell scripts/kver.sh)
KDIR    ?= /lib/modules/$(KVER)/build
BUILD   ?= build
JOBS    ?= $(shell nproc)
export KVER KDIR

.PHONY: all module userspace deps check unit-test vm-test demo bench clean install

all: module userspace

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/module W=1 modules

userspace:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
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

# Where a distribution puts things; DESTDIR for packaging.
install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR)/module INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates modules_install
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix /usr

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/module clean
	rm -rf $(BUILD)
