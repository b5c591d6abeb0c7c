# SPDX-License-Identifier: GPL-2.0
#
# Targets for the module, the tool, their installation and the test suite.
# The module's object list and flags are in Kbuild.

KERNELRELEASE ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
DESTDIR ?=
PREFIX ?= /usr
VERSION := $(shell cat VERSION)
DKMS_SRC := $(DESTDIR)/usr/src/l3dsr-$(VERSION)
# what the DKMS source tree holds: enough to build the module, nothing else
DKMS_FILES := Kbuild Makefile VERSION dkms.conf kmod

# Debian packages the build, the VM harness and the tests need.
DEPS := make gcc libc6-dev pkg-config libmnl-dev jq sparse

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) L3DSR_WERROR=y modules

tools:
	$(MAKE) -C tools

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra modules_install
	depmod -a $(KERNELRELEASE)
	$(MAKE) -C tools install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

dkms-install:
	@grep -q '^PACKAGE_VERSION="$(VERSION)"$$' dkms.conf || \
		{ echo "dkms.conf does not say version $(VERSION)" >&2; exit 1; }
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	cp -r $(DKMS_FILES) $(DKMS_SRC)/
	dkms add l3dsr/$(VERSION)
	dkms build l3dsr/$(VERSION) -k $(KERNELRELEASE)
	dkms install l3dsr/$(VERSION) -k $(KERNELRELEASE)

dkms-uninstall:
	-dkms remove l3dsr/$(VERSION) --all
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

# The whole suite: host checks, then the VM suite on every kernel.
check: deps
	selftests/vm/check.sh

# Boots a VM and shows the field example working end to end.
demo: deps
	selftests/vm/vm.sh run 6.12 -- ./demo.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools clean
	-$(MAKE) -C selftests clean

.PHONY: all module tools install dkms-install dkms-uninstall deps check demo clean
