# The brick's EL2 is a hypervisor's: KVM came up in the stock kernel,
# and a guest of three instructions runs under it (guest/tools/kvm-run.c).
set -e -o pipefail    # errors are fatal (docs/testing.md)
mode=$(dmesg | sed -n 's/.*kvm \[[0-9]*\]: \(.*\) mode initialized successfully.*/\1/p')
echo "KVM_UP=$([ -n "$mode" ] && [ -c /dev/kvm ] && echo yes || echo no)"
echo "KVM_MODE=$mode"
kvm-run
