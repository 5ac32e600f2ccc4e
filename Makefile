# dReDBox rack emulator: top-level driver.
#   make          build qemu-system-aarch64 (configures on first use)
#   make run      build, then boot a default compute brick to a shell
#   make check    build, then run every test suite
#   make guest    fetch the Debian arm64 kernel and build the test initramfs

BUILD      := build
QEMU_BUILD := $(BUILD)/qemu
QEMU       := $(QEMU_BUILD)/qemu-system-aarch64

.PHONY: all qemu guest run check check-qtest check-guest clean distclean

all: qemu

$(QEMU_BUILD)/build.ninja:
	./configure

qemu: $(QEMU_BUILD)/build.ninja
	scripts/overlay.sh $(CURDIR) $(CURDIR)/$(BUILD)/qemu-src
	ninja -C $(QEMU_BUILD) qemu-system-aarch64

guest:
	tests/guest/prepare.sh

run: qemu guest
	scripts/run-brick.sh

check: qemu guest
	tests/run-all.sh

check-qtest: qemu
	tests/qtest/run.sh

check-guest: qemu guest
	tests/guest/run.sh

clean:
	rm -rf $(QEMU_BUILD) $(BUILD)/guest

distclean:
	rm -rf $(BUILD)
