/*
 * kvm-run: run a guest of three instructions under KVM in this compute
 * brick (docs/compute-brick.md): the brick's EL2 is a hypervisor's.
 *
 * The guest stores 42 at 0x20000, an address no memory slot holds, so
 * its first exit is an MMIO write of 42 there; prints
 * KVM_RUN=mmio-write ADDRESS VALUE, or why it could not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#define CODE_GPA 0x10000
#define CODE_SIZE 0x10000
#define MMIO_GPA 0x20000

static const uint32_t code[] = {
    0xd2800540,     /* movz x0, #42 */
    0xd2a00041,     /* movz x1, #0x2, lsl #16: MMIO_GPA */
    0xf9000020,     /* str x0, [x1] */
    0x14000000,     /* b . */
};

static int fail(const char *what)
{
    printf("KVM_RUN=error %s: %s\n", what, strerror(errno));
    return 1;
}

int main(void)
{
    struct kvm_vcpu_init init;
    struct kvm_userspace_memory_region slot = {
        .guest_phys_addr = CODE_GPA,
        .memory_size = CODE_SIZE,
    };
    uint64_t pc = CODE_GPA;
    struct kvm_one_reg reg = {
        .id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
              KVM_REG_ARM_CORE_REG(regs.pc),
        .addr = (uintptr_t)&pc,
    };
    struct kvm_run *run;
    uint64_t value = 0;
    void *mem;
    int kvm, vm, vcpu, size;

    kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        return fail("/dev/kvm");
    }
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        return fail("KVM_GET_API_VERSION");
    }
    vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) {
        return fail("KVM_CREATE_VM");
    }
    mem = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        return fail("mmap");
    }
    memcpy(mem, code, sizeof(code));
    slot.userspace_addr = (uintptr_t)mem;
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
        return fail("KVM_SET_USER_MEMORY_REGION");
    }
    vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0 || ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0 ||
        ioctl(vcpu, KVM_ARM_VCPU_INIT, &init) < 0 ||
        ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0) {
        return fail("vCPU");
    }
    size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    run = size > 0 ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
                          vcpu, 0) : MAP_FAILED;
    if (run == MAP_FAILED) {
        return fail("KVM_GET_VCPU_MMAP_SIZE");
    }
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
        return fail("KVM_RUN");
    }
    if (run->exit_reason != KVM_EXIT_MMIO || !run->mmio.is_write) {
        printf("KVM_RUN=exit %u\n", run->exit_reason);
        return 1;
    }
    memcpy(&value, run->mmio.data,
           run->mmio.len < sizeof(value) ? run->mmio.len : sizeof(value));
    printf("KVM_RUN=mmio-write 0x%llx %llu\n",
           (unsigned long long)run->mmio.phys_addr,
           (unsigned long long)value);
    return 0;
}
