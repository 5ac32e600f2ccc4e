# dReDBox rack emulator: top-level driver.
#   make          build qemu-system-aarch64 and the rack tools
#   make run      build, bring up the default rack, attach to brick 0
#   make down     stop the rack
#   make run-brick  a single compute brick with pool memory, on this terminal
#   make check    build, then run every test suite
#   make guest    fetch the Debian arm64 kernel and build the test initramfs

BUILD := build

# Let ccache share objects between clones in different directories.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all qemu tools guest run down run-brick check check-qtest check-unit \
        check-guest clean distclean

all: qemu tools

# configure is cheap when nothing changed: it reconfigures only when the
# upstream version or the patch queue did, and refreshes the overlay.
qemu:
	./configure
	ninja -C $(BUILD)/qemu qemu-system-aarch64

# The tools build the TCG plugin against the QEMU source configure prepares.
$(BUILD)/tools/build.ninja:
	./configure
	meson setup $(BUILD)/tools .

tools: $(BUILD)/tools/build.ninja
	ninja -C $(BUILD)/tools

guest:
	tests/guest/prepare.sh

run: all guest
	scripts/run-rack.sh

down:
	controller/rack/dredbox-rack down

run-brick: all guest
	scripts/run-brick.sh

check: all guest
	tests/run-all.sh

check-qtest: qemu
	tests/qtest/run.sh

check-unit: tools
	meson test -C $(BUILD)/tools --print-errorlogs

check-guest: all guest
	tests/guest/run.sh

clean:
	rm -rf $(BUILD)/qemu $(BUILD)/tools $(BUILD)/guest

distclean:
	rm -rf $(BUILD)
