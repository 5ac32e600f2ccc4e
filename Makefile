# dReDBox rack emulator: top-level driver.
#   make          build qemu-system-aarch64 and the rack tools
#   make run      build, bring up the default rack, attach to brick 0
#   make down     stop the rack
#   make run-brick  a single compute brick with pool memory, on this terminal
#   make check    build, then run every test suite
#   make check-sanitize  every test suite again, under ASan and UBSan
#   make check-image  the Debian image's tests (builds it first)
#   make guest    fetch the Debian arm64 kernel, build the brick's image
#                 (guest/image/build.sh) and the tests' (tests/guest/prepare.sh)
#   make image    the Debian userland for bricks, build/image/debian.qcow2
#                 (guest/debian/build.sh; racks/debian.rack boots it)
#   make deps     install the host packages all of this needs (as root);
#                 every target above does it first

BUILD := build

# Let ccache share objects between clones in different directories.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps qemu tools guest image run down run-brick check check-image \
        check-qtest \
        check-unit check-guest check-sanitize qemu-sanitize tools-sanitize \
        clean distclean

all: qemu tools

deps:
	scripts/host-deps.sh

# configure is cheap when nothing changed: it reconfigures only when the
# upstream version or the patch queue did, and refreshes the overlay.
# qemu-img makes the copy-on-write overlays of the bricks' disks.
qemu: deps
	./configure
	ninja -C $(BUILD)/qemu qemu-system-aarch64 qemu-img

# The tools build the TCG plugin against the QEMU source configure prepares.
# They are optimised with assertions kept (meson.build's default); the stamp
# moves a build/tools set up when the default was -O0 to it, once.
$(BUILD)/tools/build.ninja: | deps
	./configure
	meson setup $(BUILD)/tools .
	touch $(BUILD)/tools/.debugoptimized

$(BUILD)/tools/.debugoptimized: | $(BUILD)/tools/build.ninja
	meson configure $(BUILD)/tools -Dbuildtype=debugoptimized
	touch $@

tools: $(BUILD)/tools/.debugoptimized
	ninja -C $(BUILD)/tools

# The same tools and QEMU with AddressSanitizer and UBSan, in their own
# build directories (docs/testing.md, "Sanitizers").
qemu-sanitize: deps
	./configure --sanitize
	ninja -C $(BUILD)/qemu-sanitize qemu-system-aarch64

$(BUILD)/tools-sanitize/build.ninja: | deps
	./configure --sanitize
	meson setup -Db_sanitize=address,undefined $(BUILD)/tools-sanitize .

tools-sanitize: $(BUILD)/tools-sanitize/build.ninja
	ninja -C $(BUILD)/tools-sanitize

guest: deps
	guest/image/build.sh
	tests/guest/prepare.sh

# Cached: the Debian part is built once (15 to 20 minutes), ours on it in
# seconds when it changed.
image: all guest
	guest/debian/build.sh

run: all guest
	scripts/run-rack.sh

down:
	launcher/dredbox-rack down

run-brick: all guest
	scripts/run-brick.sh

check: all guest
	tests/run-all.sh

# The Debian image's tests (tests/image/): not in make check yet, whose
# time budget a first build of the image (15 to 20 minutes) would pass
# (docs/testing.md).
check-image: all guest image
	tests/guest/run.sh tests/image/t-*.sh

check-qtest: qemu
	tests/qtest/run.sh

check-unit: tools
	meson test -C $(BUILD)/tools --print-errorlogs

check-guest: all guest
	tests/guest/run.sh

check-sanitize: qemu-sanitize tools-sanitize guest
	tests/run-sanitize.sh

clean:
	rm -rf $(BUILD)/qemu $(BUILD)/tools $(BUILD)/guest \
	    $(BUILD)/qemu-sanitize $(BUILD)/tools-sanitize

distclean:
	rm -rf $(BUILD)
