# Devices built for the dReDBox rack emulator (configure
# --without-default-devices --with-devices-aarch64=dredbox).

# The compute brick and what its guests use.
CONFIG_DREDBOX_COMPUTE=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
CONFIG_VIRTIO_NET=y
CONFIG_VIRTIO_SERIAL=y
CONFIG_VIRTIO_RNG=y
CONFIG_VIRTIO_MEM=y
CONFIG_VIRTIO_9P=y
CONFIG_PCIE_PORT=y

# The stock "virt" board, for side-by-side benchmarks.
CONFIG_ARM_VIRT=y
