// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dredbox-rmc: Linux driver for the dReDBox Remote Memory Controller of a
 * compute brick (docs/guest-kernel.md).
 *
 * attach puts a memory-brick range behind one RMC port and hot-adds it
 * into the CPU-less NUMA node of its latency class; detach offlines and
 * removes it, and only then clears the NetPort entry: the RMC's table and
 * the kernel's view of physical memory never disagree.  A failing step
 * undoes the earlier ones.  Interface: sysfs attributes of the device
 * (sysfs-driver-dredbox-rmc): attach and detach, and one value per file
 * in a directory per port and one of the class nodes.
 *
 * Each attach is a static memory group, as virtio-mem's and dax/kmem's
 * memory is, and must come online movable (or it could not be detached
 * again): memory that does not is taken back out and the attach refused.
 * Each class node's memory is a memory tier of its own, by its latency,
 * so that Linux's tiering tells it from DRAM.
 *
 * A commit may take time (an FPGA's does): the driver waits for the
 * port's status to say it is done, and reads the result there, where no
 * other port's commit can overwrite it; one that does not complete in
 * commit_timeout_ms fails the request, and the port stays out of use
 * until the RMC completes it.
 *
 * The caches are kept coherent with the window by hand, as the hardware
 * needs: memory the kernel has offlined is cleaned to the point of
 * coherency before it is removed and its entry cleared (a dirty line
 * written back afterwards would reach no memory: an SError), and memory
 * about to come online is invalidated first (no line cached while the
 * window mapped another brick's memory is read).
 *
 * A fault or a link change raises the RMC's interrupt: the driver logs
 * the range it hit, clears the port's latch and wakes whoever polls
 * `ports` (the SDM agent, which tells the controller).  It does so in a
 * threaded handler: sysfs_notify() may sleep (on the kernfs lock that a
 * memory hot-add holds while it creates its memory block devices).
 */
#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/interrupt.h>
#include <linux/libnvdimm.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/memory-tiers.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/spinlock.h>

#include "dredbox/latency-class.h"
#include "dredbox/rmc-regs.h"

/* the interrupt causes handled here */
#define IRQS		(RMC_IRQ_FAULT | RMC_IRQ_LINK)
/* commits that take time, with their result in the port's status */
#define RMC_VERSION_NEEDED	0x00010002u

static unsigned int commit_timeout_ms = 1000;
module_param(commit_timeout_ms, uint, 0644);
MODULE_PARM_DESC(commit_timeout_ms,
		 "How long to wait for the RMC to complete a commit (ms)");

/**
 * struct rmc_port - what the driver attached on one RMC port
 * @attached: memory is attached (written under &rmc.lock and
 *	&rmc.irq_lock, read under either, as are the four below)
 * @brick: the memory brick it is in
 * @start: its local physical address, in the high window
 * @size: its size in bytes
 * @nid: the NUMA node it was added to
 * @mgid: its memory group
 * @link: the port's link was up when last looked at (&rmc.irq_lock)
 * @lost: another (QMP, a reset) took the entry of the attached memory
 *	away, as last looked at (&rmc.irq_lock)
 * @fault_reason: the RMC_FAULT_* of the port's last fault (&rmc.irq_lock)
 * @fault_addr: the local address of that fault (&rmc.irq_lock)
 */
struct rmc_port {
	bool attached;
	u16 brick;
	u64 start, size;
	int nid;
	int mgid;
	bool link;
	bool lost;
	u32 fault_reason;
	u64 fault_addr;
};

/**
 * struct rmc - one Remote Memory Controller
 * @dev: its platform device
 * @regs: its configuration page
 * @regs_res: where that page is, for user space to map (regs)
 * @lock: serialises attach and detach
 * @irq_lock: guards what the interrupt handler reads and writes
 * @nports: its ports, from RMC_CAP
 * @high_base: the high window's base, where ports map memory
 * @high_size: the high window's size
 * @port_window: the room of each port: port p's memory starts at
 *	@high_base + p * @port_window
 * @class_node: the NUMA node of each latency class, or NUMA_NO_NODE
 * @tier: the memory type of each class node, or NULL
 * @faults: faults the interrupt reported
 * @events: faults and link changes the interrupt reported
 * @irq_added: the IRQ_ENABLE bits probe set, which remove clears
 * @memory_nb: keeps the caches coherent with memory that goes on- or
 *	offline in the high window
 * @port: its ports
 */
struct rmc {
	struct device *dev;
	void __iomem *regs;
	struct resource *regs_res;
	struct mutex lock;		/* serialises attach and detach */
	spinlock_t irq_lock;		/* the ports' state, for the IRQ */
	unsigned int nports;
	u64 high_base, high_size;
	u64 port_window;
	int class_node[DREDBOX_CLASSES];
	struct memory_dev_type *tier[DREDBOX_CLASSES];
	atomic_t faults;
	atomic_t events;
	u32 irq_added;
	struct notifier_block memory_nb;
	struct rmc_port port[RMC_MAX_PORTS];
};

static u32 rd(struct rmc *r, u32 off)
{
	return readl(r->regs + off);
}

static void wr(struct rmc *r, u32 off, u32 v)
{
	writel(v, r->regs + off);
}

static void wr64(struct rmc *r, u32 off, u64 v)
{
	wr(r, off, lower_32_bits(v));
	wr(r, off + 4, upper_32_bits(v));
}

static u64 rd64(struct rmc *r, u32 off)
{
	return rd(r, off) | (u64)rd(r, off + 4) << 32;
}

static u32 port_reg(unsigned int p, u32 reg)
{
	return RMC_WIDE_BASE + p * RMC_WIDE_STRIDE + reg;
}

/* Publish port @p's range (or that it has none) to the interrupt handler. */
static void port_set(struct rmc *r, unsigned int p, bool attached, u16 brick,
		     u64 start, u64 size, int nid)
{
	struct rmc_port *port = &r->port[p];

	spin_lock_irq(&r->irq_lock);
	port->attached = attached;
	port->lost = false;
	port->brick = brick;
	port->start = start;
	port->size = size;
	port->nid = nid;
	spin_unlock_irq(&r->irq_lock);
}

/**
 * entry_commit - commit a port's pending entry and wait for the RMC
 * @r: the RMC
 * @p: the port
 * @result: set to why the RMC refused the entry, a RMC_COMMIT_*
 *
 * Return: 0 once the RMC has made the entry live, -EINVAL if it refused
 * it, -ETIMEDOUT if it did not complete the commit in commit_timeout_ms.
 */
static int entry_commit(struct rmc *r, unsigned int p, u32 *result)
{
	u32 st;
	int ret;

	wr(r, RMC_COMMIT, BIT(p));
	ret = readl_poll_timeout(r->regs + port_reg(p, RMC_WIDE_STATUS), st,
				 !(st & RMC_STATUS_COMMITTING), 100,
				 commit_timeout_ms * USEC_PER_MSEC);
	if (ret)
		return ret;
	*result = (st & RMC_STATUS_RESULT_MASK) >> RMC_STATUS_RESULT_SHIFT;
	return *result ? -EINVAL : 0;
}

/* Disable port @p's entry: 0 once the RMC has, or entry_commit()'s error */
static int entry_clear(struct rmc *r, unsigned int p)
{
	u32 result;

	wr(r, port_reg(p, RMC_WIDE_CTRL), 0);
	return entry_commit(r, p, &result);
}

/**
 * entry_set - program and commit a port's entry
 * @r: the RMC
 * @p: the port
 * @brick: the memory brick the entry reaches
 * @start: the first local address it maps
 * @size: how many bytes it maps
 * @brick_addr: where @start is in @brick
 *
 * On failure the entry is disabled again.  A commit that did not
 * complete may still: it then makes the disabled entry live.
 *
 * Return: 0 once the entry is live, else entry_commit()'s error.
 */
static int entry_set(struct rmc *r, unsigned int p, u16 brick, u64 start,
		     u64 size, u64 brick_addr)
{
	u32 e = port_reg(p, 0);
	bool add = brick_addr >= start;
	u32 result;
	int ret;

	wr(r, e + RMC_WIDE_NETINFO, brick | (add ? RMC_NETINFO_ADD : 0));
	wr64(r, e + RMC_WIDE_START, start);
	wr64(r, e + RMC_WIDE_END, start + size - 1);
	wr64(r, e + RMC_WIDE_OFFSET, add ? brick_addr - start
					 : start - brick_addr);
	wr(r, e + RMC_WIDE_CTRL, RMC_CTRL_ENABLE);
	ret = entry_commit(r, p, &result);
	if (ret == -EINVAL) {
		dev_warn(r->dev, "port %u: the RMC refused the entry (commit result %u)\n",
			 p, result);
		entry_clear(r, p);
	} else if (ret) {
		dev_warn(r->dev, "port %u: the RMC did not complete the commit in %u ms\n",
			 p, commit_timeout_ms);
		wr(r, e + RMC_WIDE_CTRL, 0);
	}
	return ret;
}

/* Whether every memory block of [@start, +@size) is online and movable */
static bool range_online_movable(u64 start, u64 size)
{
	for (u64 a = start; a < start + size; a += memory_block_size_bytes()) {
		struct page *page = pfn_to_online_page(PHYS_PFN(a));

		if (!page || page_zonenum(page) != ZONE_MOVABLE)
			return false;
	}
	return true;
}

/**
 * range_add - hot-add a port's range as a memory group of its own
 * @r: the RMC
 * @p: the port
 * @nid: the NUMA node to add it to
 * @start: the range's local address
 * @size: its size in bytes
 *
 * Return: 0 once the range is online and movable; a negative error with
 * nothing added; 1 if it came online unmovable and could not be taken
 * back out: it stays, and a detach may fail.
 */
static int range_add(struct rmc *r, unsigned int p, int nid, u64 start,
		     u64 size)
{
	int mgid = memory_group_register_static(nid, PHYS_PFN(size));
	int ret;

	if (mgid < 0)
		return mgid;
	ret = add_memory_driver_managed(mgid, start, size,
					"System RAM (dredbox-rmc)",
					MHP_NID_IS_MGID);
	if (ret) {
		dev_warn(r->dev, "port %u: hot-add of %#llx+%#llx to node %d failed: %d\n",
			 p, start, size, nid, ret);
		memory_group_unregister(mgid);
		return ret;
	}
	r->port[p].mgid = mgid;
	if (range_online_movable(start, size))
		return 0;
	dev_warn(r->dev, "port %u: the memory did not come online movable, so it could not be detached: boot with memhp_default_state=online_movable\n",
		 p);
	if (offline_and_remove_memory(start, size))
		return 1;
	memory_group_unregister(mgid);
	return -EOPNOTSUPP;
}

static int parse_class(const char *s)
{
	for (int c = 0; c < DREDBOX_CLASSES; c++)
		if (sysfs_streq(s, dredbox_class_name(c)))
			return c;
	return -EINVAL;
}

/**
 * parse_attach - parse what was written to the attach attribute
 * @buf: "PORT BRICK BRICK_OFFSET SIZE CLASS": port and brick in decimal,
 *	offset and size in hex, and nothing more
 * @p: set to PORT
 * @brick: set to BRICK
 * @off: set to BRICK_OFFSET
 * @size: set to SIZE
 * @cls: set to CLASS's number
 *
 * Return: 0, -ERANGE for a number too large for its field, -EINVAL for
 * anything else wrong.
 */
static int parse_attach(const char *buf, unsigned int *p, unsigned int *brick,
			u64 *off, u64 *size, int *cls)
{
	char line[96], *rest, *f[5];
	int ret;

	if (strscpy(line, buf, sizeof(line)) < 0)
		return -EINVAL;
	rest = strim(line);
	for (int i = 0; i < ARRAY_SIZE(f); i++) {
		f[i] = strsep(&rest, " ");
		if (!f[i] || !*f[i])
			return -EINVAL;
	}
	if (rest)
		return -EINVAL;		/* more than five fields */
	ret = kstrtouint(f[0], 10, p) ?: kstrtouint(f[1], 10, brick) ?:
	      kstrtou64(f[2], 16, off) ?: kstrtou64(f[3], 16, size);
	if (ret)
		return ret;
	if (*brick > RMC_NETINFO_BRICK_MASK)
		return -ERANGE;
	*cls = parse_class(f[4]);
	return *cls < 0 ? *cls : 0;
}

static ssize_t attach_store(struct device *dev, struct device_attribute *a,
			    const char *buf, size_t count)
{
	struct rmc *r = dev_get_drvdata(dev);
	unsigned int p, brick;
	u64 off, size;
	struct rmc_port *port;
	u64 start;
	u32 st;
	int c, nid, ret;

	ret = parse_attach(buf, &p, &brick, &off, &size, &c);
	if (ret)
		return ret;
	if (p >= r->nports || !size || size > r->port_window ||
	    !IS_ALIGNED(size, memory_block_size_bytes()) ||
	    !IS_ALIGNED(off, PAGE_SIZE))
		return -EINVAL;
	start = r->high_base + p * r->port_window;
	if (start + size > r->high_base + r->high_size)
		return -ERANGE;
	nid = r->class_node[c];
	if (nid == NUMA_NO_NODE)
		return -ENODEV;

	/* Interruptible: a detach may hold it while offlining takes long */
	if (mutex_lock_interruptible(&r->lock))
		return -EINTR;
	port = &r->port[p];
	ret = -EBUSY;
	if (port->attached)
		goto out;
	st = rd(r, port_reg(p, RMC_WIDE_STATUS));
	/* An entry made live by another (QMP, an accelerator's queue) stays. */
	if (st & RMC_STATUS_LIVE) {
		dev_warn(dev, "port %u: its entry is live and not the driver's\n",
			 p);
		goto out;
	}
	/* One that timed out earlier: the RMC has yet to complete it. */
	if (st & RMC_STATUS_COMMITTING) {
		dev_warn(dev, "port %u: a commit is still under way\n", p);
		goto out;
	}
	/* Memory behind a port without a circuit would fault at first use. */
	ret = -ENOLINK;
	if (!(st & RMC_STATUS_LINK))
		goto out;
	ret = entry_set(r, p, brick, start, size, off);
	if (ret)
		goto out;
	/* Only now may the kernel use the range: the entry maps it. */
	ret = range_add(r, p, nid, start, size);
	if (ret < 0) {
		entry_clear(r, p);
		goto out;
	}
	port_set(r, p, true, brick, start, size, nid);
	__module_get(THIS_MODULE);	/* the memory outlives no driver */
	dev_info(dev, "port %u: %llu MiB of memory brick %u in node %d (%s)\n",
		 p, size >> 20, brick, nid, dredbox_class_name(c));
	ret = count;
out:
	mutex_unlock(&r->lock);
	return ret;
}

/* "PORT" */
static ssize_t detach_store(struct device *dev, struct device_attribute *a,
			    const char *buf, size_t count)
{
	struct rmc *r = dev_get_drvdata(dev);
	struct rmc_port *port;
	unsigned int p;
	int ret;

	if (kstrtouint(buf, 0, &p) || p >= r->nports)
		return -EINVAL;
	if (mutex_lock_interruptible(&r->lock))
		return -EINTR;
	port = &r->port[p];
	ret = -ENOENT;
	if (!port->attached)
		goto out;
	/* The kernel lets go of the range before the entry goes away. */
	ret = offline_and_remove_memory(port->start, port->size);
	if (ret) {
		dev_warn(dev, "port %u: memory still in use, not detached: %d\n",
			 p, ret);
		goto out;
	}
	memory_group_unregister(port->mgid);
	/* The memory is gone: the entry going is no loss to report. */
	port_set(r, p, false, 0, 0, 0, NUMA_NO_NODE);
	/* Not cleared, the entry is live and not the driver's: none uses it. */
	if (entry_clear(r, p))
		dev_warn(dev, "port %u: the RMC did not clear the entry in %u ms; the port is out of use until it does\n",
			 p, commit_timeout_ms);
	module_put(THIS_MODULE);
	dev_info(dev, "port %u: detached\n", p);
	ret = count;
out:
	mutex_unlock(&r->lock);
	return ret;
}

/* The files of each port%u directory, one value each */
enum {
	PORT_LINK, PORT_BRICK, PORT_START, PORT_SIZE, PORT_NODE, PORT_FAULTS,
	PORT_LAST_FAULT, PORT_LAST_FAULT_ADDR, PORT_FILES
};

static const char *const port_files[PORT_FILES] = {
	"link", "brick", "start", "size", "node", "faults", "last_fault",
	"last_fault_addr",
};

/* The port and the file of a port%u or nodes file, tag << 8 | index */
static unsigned long file_of(struct device_attribute *a)
{
	return (uintptr_t)container_of(a, struct dev_ext_attribute, attr)->var;
}

static ssize_t port_show(struct device *dev, struct device_attribute *a,
			 char *buf)
{
	struct rmc *r = dev_get_drvdata(dev);
	unsigned int p = file_of(a) >> 8;
	struct rmc_port port;

	spin_lock_irq(&r->irq_lock);
	port = r->port[p];
	spin_unlock_irq(&r->irq_lock);
	switch (file_of(a) & 0xff) {
	case PORT_LINK:
		return sysfs_emit(buf, "%s\n", rd(r, port_reg(p, RMC_WIDE_STATUS)) &
				  RMC_STATUS_LINK ? "up" : "down");
	case PORT_BRICK:
		return sysfs_emit(buf, "%d\n", port.attached ? port.brick : -1);
	case PORT_START:
		return sysfs_emit(buf, "%#llx\n", port.attached ? port.start : 0);
	case PORT_SIZE:
		return sysfs_emit(buf, "%llu\n", port.attached ? port.size : 0);
	case PORT_NODE:
		return sysfs_emit(buf, "%d\n", port.nid);
	case PORT_FAULTS:
		return sysfs_emit(buf, "%u\n",
				  rd(r, port_reg(p, RMC_WIDE_FAULTS)));
	case PORT_LAST_FAULT:
		return sysfs_emit(buf, "%s\n",
				  rmc_fault_reason_name(port.fault_reason));
	default:
		return sysfs_emit(buf, "%#llx\n", port.fault_addr);
	}
}

/* nodes/CLASS: the class's NUMA node, -1 if it has none */
static ssize_t node_show(struct device *dev, struct device_attribute *a,
			 char *buf)
{
	struct rmc *r = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", r->class_node[file_of(a) & 0xff]);
}

static ssize_t events_show(struct device *dev, struct device_attribute *a,
			   char *buf)
{
	struct rmc *r = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", atomic_read(&r->events));
}

static ssize_t faults_show(struct device *dev, struct device_attribute *a,
			   char *buf)
{
	struct rmc *r = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", atomic_read(&r->faults));
}

static DEVICE_ATTR_WO(attach);
static DEVICE_ATTR_WO(detach);
static DEVICE_ATTR_RO(events);
static DEVICE_ATTR_RO(faults);

/*
 * regs: the register page, for user space to map, as PCI's resource
 * files are: accelerator doorbells on ports the driver does not use
 * (libdredbox-accel).  The driver claims the page, so /dev/mem may not.
 */
static int regs_mmap(struct file *file, struct kobject *kobj,
		     struct bin_attribute *attr, struct vm_area_struct *vma)
{
	struct rmc *r = dev_get_drvdata(kobj_to_dev(kobj));

	vma->vm_page_prot = pgprot_device(vma->vm_page_prot);
	return vm_iomap_memory(vma, r->regs_res->start,
			       resource_size(r->regs_res));
}

static struct bin_attribute bin_attr_regs = {
	.attr = { .name = "regs", .mode = 0600 },
	.size = RMC_CONFIG_SIZE,
	.mmap = regs_mmap,
};

static struct attribute *rmc_attrs[] = {
	&dev_attr_attach.attr, &dev_attr_detach.attr, &dev_attr_events.attr,
	&dev_attr_faults.attr, NULL,
};

static struct bin_attribute *rmc_bin_attrs[] = { &bin_attr_regs, NULL };

static const struct attribute_group rmc_group = {
	.attrs = rmc_attrs,
	.bin_attrs = rmc_bin_attrs,
};
__ATTRIBUTE_GROUPS(rmc);

/**
 * rmc_dir_group - a directory of read-only files whose names are known at probe
 * @dev: the device
 * @name: the directory's name
 * @files: the files' names
 * @n: how many files
 * @show: reads each of them
 * @tag: what @show finds in file_of() with the file's index, above it
 *
 * Return: the group, allocated with devm, or NULL.
 */
static struct attribute_group *
rmc_dir_group(struct device *dev, const char *name, const char *const *files,
	      unsigned int n,
	      ssize_t (*show)(struct device *dev, struct device_attribute *a,
			      char *buf),
	      unsigned int tag)
{
	struct attribute_group *g = devm_kzalloc(dev, sizeof(*g), GFP_KERNEL);
	struct dev_ext_attribute *ext = devm_kcalloc(dev, n, sizeof(*ext),
						     GFP_KERNEL);
	struct attribute **attrs = devm_kcalloc(dev, n + 1, sizeof(*attrs),
						GFP_KERNEL);

	if (!g || !ext || !attrs || !name)
		return NULL;
	for (unsigned int i = 0; i < n; i++) {
		sysfs_attr_init(&ext[i].attr.attr);
		ext[i].attr.attr.name = files[i];
		ext[i].attr.attr.mode = 0444;
		ext[i].attr.show = show;
		ext[i].var = (void *)(uintptr_t)(tag << 8 | i);
		attrs[i] = &ext[i].attr.attr;
	}
	g->name = name;
	g->attrs = attrs;
	return g;
}

/* nodes/ and a port%u directory per port */
static int rmc_dirs_add(struct rmc *r)
{
	const struct attribute_group **groups;
	const char *classes[DREDBOX_CLASSES];

	groups = devm_kcalloc(r->dev, r->nports + 2, sizeof(*groups),
			      GFP_KERNEL);
	if (!groups)
		return -ENOMEM;
	for (int c = 0; c < DREDBOX_CLASSES; c++)
		classes[c] = dredbox_class_name(c);
	groups[0] = rmc_dir_group(r->dev, "nodes", classes, DREDBOX_CLASSES,
				  node_show, 0);
	if (!groups[0])
		return -ENOMEM;
	for (unsigned int p = 0; p < r->nports; p++) {
		const char *dir = devm_kasprintf(r->dev, GFP_KERNEL, "port%u",
						 p);

		groups[p + 1] = rmc_dir_group(r->dev, dir, port_files,
					      PORT_FILES, port_show, p);
		if (!groups[p + 1])
			return -ENOMEM;
	}
	return devm_device_add_groups(r->dev, groups);
}

/* What changed on port @p: logged, with the range it hit; true if any. */
static bool port_check(struct rmc *r, unsigned int p)
{
	struct rmc_port *port = &r->port[p];
	u32 st = rd(r, port_reg(p, RMC_WIDE_STATUS));
	bool link = st & RMC_STATUS_LINK, changed = link != port->link;
	bool lost = port->attached && !(st & RMC_STATUS_LIVE);

	if (changed) {
		port->link = link;
		if (port->attached)
			dev_warn(r->dev, "port %u: memory brick %u range %#llx-%#llx %s\n",
				 p, port->brick, port->start,
				 port->start + port->size - 1,
				 link ? "reachable again"
				      : "unreachable: link down");
	}
	/* The entry is the driver's while memory is attached; say if it went */
	if (lost != port->lost) {
		port->lost = lost;
		changed = true;
		dev_warn(r->dev, "port %u: memory brick %u range %#llx-%#llx %s\n",
			 p, port->brick, port->start,
			 port->start + port->size - 1,
			 lost ? "unreachable: its entry is no longer live"
			      : "reachable again: its entry is live again");
	}
	if (!(st & RMC_STATUS_FAULT))
		return changed;
	port->fault_reason = rd(r, port_reg(p, RMC_WIDE_FAULT_REASON));
	port->fault_addr = rd64(r, port_reg(p, RMC_WIDE_FAULT_ADDR));
	/* Cleared, the latch takes the next fault, and so do we. */
	wr(r, port_reg(p, RMC_WIDE_FAULT_CLEAR), 1);
	atomic_inc(&r->faults);
	if (port->attached)
		dev_warn_ratelimited(r->dev, "port %u: %s fault at %#llx, in memory brick %u range %#llx-%#llx\n",
				     p, rmc_fault_reason_name(port->fault_reason),
				     port->fault_addr, port->brick, port->start,
				     port->start + port->size - 1);
	else
		dev_warn_ratelimited(r->dev, "port %u: %s fault at %#llx\n", p,
				     rmc_fault_reason_name(port->fault_reason),
				     port->fault_addr);
	return true;
}

/* Only the causes in IRQS are enabled, so only they are acknowledged. */
static irqreturn_t rmc_irq(int irq, void *data)
{
	struct rmc *r = data;
	u32 st = rd(r, RMC_IRQ_STATUS) & IRQS;
	DECLARE_BITMAP(changed, RMC_MAX_PORTS) = { 0 };
	char dir[16];
	unsigned int p;

	if (!st)
		return IRQ_NONE;
	/* Acknowledged first: a change while the ports are read raises it again. */
	wr(r, RMC_IRQ_STATUS, st);
	spin_lock(&r->irq_lock);
	for (p = 0; p < r->nports; p++)
		if (port_check(r, p))
			__set_bit(p, changed);
	spin_unlock(&r->irq_lock);
	for_each_set_bit(p, changed, RMC_MAX_PORTS) {
		snprintf(dir, sizeof(dir), "port%u", p);
		sysfs_notify(&r->dev->kobj, dir, "link");
		sysfs_notify(&r->dev->kobj, dir, "faults");
		atomic_inc(&r->events);
		sysfs_notify(&r->dev->kobj, NULL, "events");
	}
	return IRQ_HANDLED;
}

/* On remove: the class nodes' memory types go (no memory is left there) */
static void rmc_tiers_clear(void *opaque)
{
	struct rmc *r = opaque;

	for (int c = 0; c < DREDBOX_CLASSES; c++) {
		if (!r->tier[c])
			continue;
		clear_node_memory_type(r->class_node[c], r->tier[c]);
		destroy_memory_type(r->tier[c]);
	}
}

/*
 * A memory type per class node, its abstract distance DRAM's scaled as
 * the class's NUMA distance is local DRAM's: a memory tier of its own.
 */
static int rmc_tiers_init(struct rmc *r)
{
	for (int c = 0; c < DREDBOX_CLASSES; c++) {
		struct memory_dev_type *t;

		if (r->class_node[c] == NUMA_NO_NODE)
			continue;
		t = alloc_memory_type(MEMTIER_ADISTANCE_DRAM *
				      dredbox_class_distance(c) /
				      DREDBOX_DISTANCE_LOCAL);
		if (IS_ERR(t)) {
			rmc_tiers_clear(r);
			return PTR_ERR(t);
		}
		r->tier[c] = t;
		init_node_memory_type(r->class_node[c], t);
	}
	return devm_add_action_or_reset(r->dev, rmc_tiers_clear, r);
}

/**
 * rmc_memory_notify - cache maintenance for memory of the high window
 * @nb: &rmc.memory_nb
 * @action: MEM_OFFLINE or MEM_GOING_ONLINE (others are not ours)
 * @data: the &struct memory_notify with the range
 *
 * At MEM_OFFLINE no task uses the range any more and the linear map
 * still maps it: it is cleaned and invalidated to the point of coherency
 * there, before the range is removed and its entry cleared.  At
 * MEM_GOING_ONLINE it is invalidated, before the kernel reads it.  arm64
 * exports its by-VA cache maintenance for persistent memory only; the
 * point of persistence is at or beyond the point of coherency.
 *
 * Return: NOTIFY_DONE for memory outside the high window, else NOTIFY_OK.
 */
static int rmc_memory_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct rmc *r = container_of(nb, struct rmc, memory_nb);
	const struct memory_notify *arg = data;
	u64 start = PFN_PHYS(arg->start_pfn), size = PFN_PHYS(arg->nr_pages);

	if (start < r->high_base || start + size > r->high_base + r->high_size)
		return NOTIFY_DONE;
	switch (action) {
	case MEM_OFFLINE:
		arch_wb_cache_pmem(__va(start), size);
		fallthrough;
	case MEM_GOING_ONLINE:
		arch_invalidate_pmem(__va(start), size);
		break;
	}
	return NOTIFY_OK;
}

static void rmc_memory_notify_remove(void *opaque)
{
	struct rmc *r = opaque;

	unregister_memory_notifier(&r->memory_nb);
}

/* On remove: IRQ_ENABLE as it was before probe */
static void rmc_irq_restore(void *opaque)
{
	struct rmc *r = opaque;

	wr(r, RMC_IRQ_ENABLE, rd(r, RMC_IRQ_ENABLE) & ~r->irq_added);
}

static int rmc_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct rmc *r;
	u64 win[4];
	u32 nodes[DREDBOX_CLASSES], cap;
	int irq, ret;

	r = devm_kzalloc(dev, sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->dev = dev;
	mutex_init(&r->lock);
	spin_lock_init(&r->irq_lock);
	r->regs = devm_platform_get_and_ioremap_resource(pdev, 0, &r->regs_res);
	if (IS_ERR(r->regs))
		return PTR_ERR(r->regs);
	if (rd(r, RMC_ID) != RMC_ID_VALUE)
		return dev_err_probe(dev, -ENODEV, "not an RMC\n");
	if (rd(r, RMC_VERSION) < RMC_VERSION_NEEDED)
		return dev_err_probe(dev, -ENODEV,
				     "RMC version %#x: this driver needs %#x (commit results per port)\n",
				     rd(r, RMC_VERSION), RMC_VERSION_NEEDED);
	cap = rd(r, RMC_CAP);
	/* The layout this driver knows: wide entries at their stride */
	if ((cap >> RMC_CAP_WIDE_STRIDE_SHIFT & 0xff) != RMC_WIDE_STRIDE)
		return dev_err_probe(dev, -ENODEV,
				     "wide entries of %u bytes: this driver knows %u\n",
				     cap >> RMC_CAP_WIDE_STRIDE_SHIFT & 0xff,
				     RMC_WIDE_STRIDE);
	r->nports = min_t(u32, cap & RMC_CAP_PORTS_MASK, RMC_MAX_PORTS);
	ret = of_property_read_u64_array(dev->of_node, "dredbox,windows", win,
					 4);
	if (ret)
		return dev_err_probe(dev, ret, "no dredbox,windows\n");
	/* Ports map their memory where the RMC decodes it, nowhere else */
	if (win[0] != rd64(r, RMC_LOW_WINDOW_BASE) ||
	    win[1] != rd64(r, RMC_LOW_WINDOW_SIZE) ||
	    win[2] != rd64(r, RMC_HIGH_WINDOW_BASE) ||
	    win[3] != rd64(r, RMC_HIGH_WINDOW_SIZE))
		return dev_err_probe(dev, -EINVAL,
				     "dredbox,windows disagrees with the RMC's window registers\n");
	r->high_base = win[2];
	r->high_size = win[3];
	r->port_window = rmc_port_window(r->high_size, r->nports);
	for (int c = 0; c < DREDBOX_CLASSES; c++)
		r->class_node[c] = NUMA_NO_NODE;
	if (!of_property_read_u32_array(dev->of_node, "dredbox,class-nodes",
					nodes, DREDBOX_CLASSES))
		for (int c = 0; c < DREDBOX_CLASSES; c++)
			r->class_node[c] = nodes[c] < MAX_NUMNODES &&
					    node_possible(nodes[c]) ? nodes[c]
								    : NUMA_NO_NODE;
	ret = rmc_tiers_init(r);
	if (ret)
		return dev_err_probe(dev, ret, "no memory tiers\n");
	r->memory_nb.notifier_call = rmc_memory_notify;
	ret = register_memory_notifier(&r->memory_nb) ?:
	      devm_add_action_or_reset(dev, rmc_memory_notify_remove, r);
	if (ret)
		return ret;
	for (unsigned int p = 0; p < r->nports; p++) {
		r->port[p].nid = NUMA_NO_NODE;
		r->port[p].link = rd(r, port_reg(p, RMC_WIDE_STATUS)) &
				  RMC_STATUS_LINK;
	}
	platform_set_drvdata(pdev, r);
	ret = rmc_dirs_add(r);
	if (ret)
		return ret;
	irq = (rd(r, RMC_CAP) & RMC_CAP_IRQ) ? platform_get_irq(pdev, 0)
					      : -ENXIO;
	if (irq >= 0 && !devm_request_threaded_irq(dev, irq, NULL, rmc_irq,
						   IRQF_ONESHOT, "dredbox-rmc",
						   r)) {
		u32 was = rd(r, RMC_IRQ_ENABLE);

		r->irq_added = IRQS & ~was;
		wr(r, RMC_IRQ_ENABLE, was | IRQS);
		/* before devm frees the IRQ: no cause left enabled for none */
		ret = devm_add_action_or_reset(dev, rmc_irq_restore, r);
		if (ret)
			return ret;
	}
	dev_info(dev, "%u ports of %llu GiB, nodes %d/%d/%d for tray-local/rack-local/inter-rack memory\n",
		 r->nports,
		 r->port_window >> 30, r->class_node[0], r->class_node[1],
		 r->class_node[2]);
	return 0;
}

static const struct of_device_id rmc_of_match[] = {
	{ .compatible = "dredbox,rmc-1.0" },
	{ }
};
MODULE_DEVICE_TABLE(of, rmc_of_match);

static struct platform_driver rmc_driver = {
	.probe = rmc_probe,
	.driver = {
		.name = "dredbox-rmc",
		.of_match_table = rmc_of_match,
		.dev_groups = rmc_groups,
		/* Attached memory holds the module, not a manual unbind. */
		.suppress_bind_attrs = true,
	},
};
module_platform_driver(rmc_driver);

MODULE_DESCRIPTION("dReDBox Remote Memory Controller");
MODULE_LICENSE("GPL");
