# SPDX-License-Identifier: GPL-2.0
#
# Targets for the module, the tool, their installation and the test suite.
# The module's object list and flags are in Kbuild.

KERNELRELEASE ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
DESTDIR ?=
PREFIX ?= /usr
VERSION := $(shell cat VERSION)
DKMS_SRC := /usr/src/l3dsr-$(VERSION)

# Debian packages the build, the VM harness and the tests need.
DEPS := make gcc libc6-dev pkg-config libmnl-dev libnftables-dev libjansson-dev \
	jq sparse groff-base systemd

all: module tools

# Without a kernel build tree, say so in one line rather than through
# make's own "No such file or directory".
kdir:
	$(if $(wildcard $(KDIR)/Makefile),,$(error no kernel build tree at $(KDIR): apt-get install linux-headers-$(KERNELRELEASE) (RHEL: dnf install kernel-devel-$(KERNELRELEASE)), or name one with KDIR=DIR))

module: kdir
	$(MAKE) -C $(KDIR) M=$(CURDIR) L3DSR_WERROR=y modules

tools:
	$(MAKE) -C tools

install: kdir all
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra modules_install
	depmod -a $(KERNELRELEASE)
	$(MAKE) -C tools install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

# Lays out the DKMS tree with packaging/dkms-source.sh (dkms.conf stamped
# with VERSION), registers it, builds and installs it for KERNELRELEASE
# (several kernels may be given, separated by spaces). The same version
# installed this way before is replaced; one installed by a package is not
# touched.
dkms-install: dkms-uninstall
	packaging/dkms-source.sh $(DKMS_SRC)
	dkms add l3dsr/$(VERSION)
	for kver in $(KERNELRELEASE); do \
		dkms install l3dsr/$(VERSION) -k $$kver || exit 1; \
	done

dkms-uninstall:
	@if dpkg-query -S $(DKMS_SRC) >/dev/null 2>&1 || \
	    rpm -qf $(DKMS_SRC) >/dev/null 2>&1; then \
		echo "$(DKMS_SRC) belongs to a package: remove l3dsr-dkms instead" >&2; \
		exit 1; \
	fi
	if dkms status -m l3dsr -v $(VERSION) | grep -q .; then \
		dkms remove l3dsr/$(VERSION) --all; \
	fi
	rm -rf $(DKMS_SRC)

# Install what is missing; a machine that has everything does no apt work.
deps:
	@missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The whole suite: host checks (sources, packaging) and the VM suite on
# every kernel (Debian's cloud and PREEMPT_RT 6.1 and 6.12, and a debug
# kernel built once per machine), two at a time on two CPUs, and the
# benchmark's smoke run, ending in "N passed, N failed".
check: deps
	selftests/vm/check.sh

# Boots a VM and shows the field example working end to end.
demo: deps
	selftests/vm/vm.sh run 6.12 -- ./demo.sh

# The same where the module cannot be loaded: the table in nftables.
demo-nft: deps
	selftests/vm/vm.sh run 6.12 -- env DEMO_BACKEND=nft ./demo.sh

# Per-packet cost of l3dsr, an empty hook and nftables, counted in
# instructions in one VM boot (selftests/bench/README).
bench: deps
	selftests/bench/bench.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools clean
	-$(MAKE) -C selftests clean

.PHONY: all kdir module tools install dkms-install dkms-uninstall deps check demo demo-nft bench clean
