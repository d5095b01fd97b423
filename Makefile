# The two commands: `make run` (the appliance on this machine) and `make test`
# (every test tier).  Both install what they need themselves, as root on Debian 12.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build
# Debian packages the host needs: mmdebstrap builds the rootfs (Asterisk comes
# from it, never from the host), SIPp plays trunks and phones in the tests,
# Debian's headless Chromium (driven by Playwright) renders the pages in the browser
# tests, with a CJK font so the zh_CN screenshots show Chinese, not boxes; Playwright's
# driver (a Node.js binary) needs libatomic1, which a minimal Debian lacks; iproute2's `ip`
# makes the network namespaces of the LAN-port tests; nftables drops VRRP on the hot-standby
# test's bridge (a split brain; the kernel here has no tc/netem).  Checked package by package with
# dpkg, so a minimal machine (mmdebstrap --variant=minbase) gets every one of them.
HOST_PACKAGES := mmdebstrap sip-tester python3-venv util-linux chromium fonts-wqy-microhei libatomic1 iproute2 nftables
APT_OPTS := -o Acquire::Check-Valid-Until=false -o Acquire::Retries=3
# What `make image` and `make boot-test` need besides: partitioning a plain file (fdisk's
# sfdisk), FAT without mounting it (mtools), syslinux for BIOS boot, qemu and OVMF to boot
# it in software emulation, zstd for the compressed copy.
IMAGE_HOST_PACKAGES := mmdebstrap fdisk mtools syslinux syslinux-common qemu-system-x86 qemu-utils ovmf zstd e2fsprogs

# Only for `make prompts` (synthesising the built-in sentences, whose files are committed):
# never needed to build, test or run the appliance.
PROMPT_HOST_PACKAGES := espeak-ng sox

.PHONY: help deps image-deps venv rootfs image boot-test bench-image run test unit fuzz bench reports-rebuild prompts clean distclean

help:
	@echo "make run     - start Asterisk, the supervisor and the web UI on http://127.0.0.1:8080"
	@echo "make test    - run every test tier (unit, real Asterisk + SIPp)"
	@echo "make bench   - run the benchmarks, figures to bench/results/"
	@echo "make reports-rebuild [DB=var/appliance.db] - rebuild the report summaries from the call records"
	@echo "make rootfs  - build (or reuse) the appliance root filesystem in $(BUILD)/rootfs"
	@echo "make unit    - only the unit tier (no Asterisk)"
	@echo "make fuzz    - the fuzz tier with many examples (Schemathesis on the API, Hypothesis on AMI/AGI)"
	@echo "make image   - build the bootable disk image in $(BUILD)/image (raw + zstd + manifest)"
	@echo "make boot-test - boot the image in qemu and check the serial console and the web UI"
	@echo "make bench-image - time the image build and the boot to calls accepted, to bench/results/"
	@echo "make prompts - synthesise the built-in Chinese and English sentences again (espeak-ng), to commit"

deps: $(BUILD)/.host-deps
# Checked again whenever this Makefile changes (a package added to the lists above).
$(BUILD)/.host-deps: Makefile
	@mkdir -p $(BUILD)
	@missing=""; for p in $(HOST_PACKAGES); do \
	   dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	 $(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	 if [ -n "$$missing" ]; then \
	   echo "installing host packages (missing:$$missing)"; \
	   export DEBIAN_FRONTEND=noninteractive; \
	   apt-get $(APT_OPTS) update -qq && apt-get $(APT_OPTS) install -y -qq $(HOST_PACKAGES) >/dev/null; \
	 fi
	@touch $@

image-deps: $(BUILD)/.image-host-deps
$(BUILD)/.image-host-deps: Makefile
	@mkdir -p $(BUILD)
	@missing=""; for p in $(IMAGE_HOST_PACKAGES); do \
	   dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	 if [ -n "$$missing" ]; then \
	   echo "installing host packages for the image (missing:$$missing)"; \
	   export DEBIAN_FRONTEND=noninteractive; \
	   apt-get $(APT_OPTS) update -qq && apt-get $(APT_OPTS) install -y -qq $(IMAGE_HOST_PACKAGES) >/dev/null; \
	 fi
	@touch $@

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml | deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

rootfs: venv
	$(PY) -m image_build.rootfs --build-dir $(BUILD)

image: venv image-deps
	$(PY) -m image_build.image --build-dir $(BUILD)

# Boots the image built by `make image` (it does not rebuild it: run `make image` first
# when the code changed).  Separate from `make test`: see README, "The boot test".
boot-test: venv image-deps
	@test -f $(BUILD)/image/callcenter-appliance.raw || $(MAKE) image
	$(PY) -m pytest -q -m boot tests/boot

bench-image: venv image-deps
	$(PY) -m bench.image

run: venv rootfs
	$(PY) -m appliance.main $(if $(CONFIG),--config $(CONFIG))

unit: venv
	$(PY) -m pytest -q tests/unit

# The fuzz tier runs in `make test` with a small budget; this runs it long (minutes).
fuzz: venv
	FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),3000) FUZZ_API_EXAMPLES=$(or $(FUZZ_API_EXAMPLES),300) \
	  $(PY) -m pytest -q -m fuzz tests/fuzz

# The suite in TEST_WORKERS pytest processes side by side, taking test files from one queue
# (tests/parallel.py; every test has its own Asterisk, directories and ports), the 15 slowest
# tests printed at the end.  4 instead of 3 was not quicker in paired runs; on 7 December it was
# (1,141 s against 1,636 s, both under load) but five timed tests failed (README, Performance).
TEST_WORKERS ?= 3
test: venv rootfs
	$(PY) tests/parallel.py $(TEST_WORKERS) -m "not boot" tests

bench: venv rootfs
	$(PY) -m bench.run

# The report summaries recomputed from the call records of a development database
# (default: the one `make run` uses), a month at a time with progress; the appliance's
# serial console has the same as its `reports` command.
DB ?= var/appliance.db
reports-rebuild: venv
	$(PY) -m appliance.services.reports rebuild --db $(DB)

prompts: venv
	@command -v espeak-ng >/dev/null && command -v sox >/dev/null || \
	 (export DEBIAN_FRONTEND=noninteractive; apt-get $(APT_OPTS) update -qq && \
	  apt-get $(APT_OPTS) install -y -qq --no-install-recommends $(PROMPT_HOST_PACKAGES) >/dev/null)
	$(PY) -m image_build.make_prompts

clean:
	rm -rf var tests/artifacts .pytest_cache

distclean: clean
	rm -rf $(BUILD) $(VENV)
