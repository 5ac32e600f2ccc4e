// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dredbox-memory-nodes: memory of the compute brick's virtio-mem devices
 * goes into the NUMA node the machine gives each device, the CPU-less node
 * of the memory brick behind it (docs/guest-kernel.md).
 *
 * Linux's virtio_mem takes a device's node from ACPI only; on a device-tree
 * system it asks memory_add_physaddr_to_nid(), which knows nothing of device
 * memory and answers node 0.  The machine lists each device's range and
 * node in the device tree (/dredbox-memory-devices); this module answers
 * memory_add_physaddr_to_nid() for addresses in those ranges, with a
 * kretprobe, and leaves every other answer alone.  virtio_mem asks once,
 * when it probes a device: this module must be loaded first (modprobe.d
 * softdep, dredbox.conf).
 */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/of.h>
#include <linux/platform_device.h>

#define CELLS	5	/* ADDR(2) SIZE(2) NODE(1) */

struct mem_range {
	u64 start, end;		/* [start, end) */
	int nid;
};

struct mem_nodes {
	struct kretprobe probe;
	unsigned int n;
	struct mem_range range[];
};

static int nid_of(const struct mem_nodes *m, u64 addr)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (addr >= m->range[i].start && addr < m->range[i].end)
			return m->range[i].nid;
	return NUMA_NO_NODE;
}

static int addr_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	*(u64 *)ri->data = regs_get_kernel_argument(regs, 0);
	return 0;
}

static int addr_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct mem_nodes *m = container_of(get_kretprobe(ri), struct mem_nodes,
					   probe);
	int nid = nid_of(m, *(u64 *)ri->data);

	if (nid != NUMA_NO_NODE)
		regs_set_return_value(regs, nid);
	return 0;
}

static void mem_nodes_unhook(void *data)
{
	struct mem_nodes *m = data;

	unregister_kretprobe(&m->probe);
}

static int mem_nodes_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct mem_nodes *m;
	u32 *cells;
	int count, n, ret;

	count = of_property_count_u32_elems(dev->of_node, "dredbox,ranges");
	if (count <= 0 || count % CELLS)
		return dev_err_probe(dev, -EINVAL,
				     "dredbox,ranges: not <addr size node>...\n");
	cells = kcalloc(count, sizeof(*cells), GFP_KERNEL);
	m = devm_kzalloc(dev, struct_size(m, range, count / CELLS),
			 GFP_KERNEL);
	if (!cells || !m) {
		kfree(cells);
		return -ENOMEM;
	}
	of_property_read_u32_array(dev->of_node, "dredbox,ranges", cells,
				   count);
	for (n = 0; n < count / CELLS; n++) {
		const u32 *c = &cells[n * CELLS];
		struct mem_range *r = &m->range[m->n];

		r->start = (u64)c[0] << 32 | c[1];
		r->end = r->start + ((u64)c[2] << 32 | c[3]);
		r->nid = c[4];
		if (r->end <= r->start || c[4] >= MAX_NUMNODES ||
		    !node_possible(c[4])) {
			dev_warn(dev, "%#llx-%#llx: no node %u here; left to the kernel\n",
				 r->start, r->end, c[4]);
			continue;
		}
		dev_info(dev, "%#llx-%#llx: node %d\n", r->start, r->end - 1,
			 r->nid);
		m->n++;
	}
	kfree(cells);

	m->probe.kp.symbol_name = "memory_add_physaddr_to_nid";
	m->probe.entry_handler = addr_entry;
	m->probe.handler = addr_return;
	m->probe.data_size = sizeof(u64);
	m->probe.maxactive = num_possible_cpus();
	ret = register_kretprobe(&m->probe);
	if (ret)
		return dev_err_probe(dev, ret, "cannot hook %s\n",
				     m->probe.kp.symbol_name);
	return devm_add_action_or_reset(dev, mem_nodes_unhook, m);
}

static const struct of_device_id mem_nodes_of_match[] = {
	{ .compatible = "dredbox,memory-devices-1.0" },
	{ }
};
MODULE_DEVICE_TABLE(of, mem_nodes_of_match);

static struct platform_driver mem_nodes_driver = {
	.probe = mem_nodes_probe,
	.driver = {
		.name = "dredbox-memory-nodes",
		.of_match_table = mem_nodes_of_match,
	},
};
module_platform_driver(mem_nodes_driver);

MODULE_DESCRIPTION("dReDBox: NUMA nodes of virtio-mem memory");
MODULE_LICENSE("GPL");
