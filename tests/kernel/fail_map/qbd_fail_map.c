// SPDX-License-Identifier: GPL-2.0
/*
 * qbd_fail_map: makes the memory mappings of qbd_rdma.ko fail as a device's
 * can, for tests/vm/scenarios/58-rdma-map-fail.sh.  Kretprobes on two
 * functions of ib_core change what they return to qbd_rdma.ko; every other
 * caller (the userspace verbs of qbd-server among them) is left alone.
 *
 *   dma_fails=N	the next N DMA mappings (ib_dma_virt_map_sg(), how a
 *			software RDMA device maps) return 0, as dma_map_sg()
 *			does when IOMMU space runs out for a while;
 *   mr_fail_bytes=B	every registration (ib_map_mr_sg()) of B bytes maps
 *			none of them, as for pages that no region can hold.
 *
 * Each failure it makes is logged.  A test tool, never loaded elsewhere.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/string.h>

static int dma_fails;
module_param(dma_fails, int, 0444);
MODULE_PARM_DESC(dma_fails, "DMA mappings of qbd_rdma to fail, the next ones (default 0)");

static uint mr_fail_bytes;
module_param(mr_fail_bytes, uint, 0444);
MODULE_PARM_DESC(mr_fail_bytes, "fail every registration of qbd_rdma of this many bytes (default 0: none)");

static atomic_t dma_fails_left;

/* Whether the probed function returns into qbd_rdma.ko. */
static bool qbd_fail_caller_is_qbd_rdma(struct kretprobe_instance *ri)
{
	char sym[KSYM_SYMBOL_LEN];

	sprint_symbol(sym, get_kretprobe_retaddr(ri));
	return strstr(sym, " [qbd_rdma]");
}

static int qbd_fail_dma_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (qbd_fail_caller_is_qbd_rdma(ri) &&
	    atomic_dec_if_positive(&dma_fails_left) >= 0) {
		pr_info("failing a DMA mapping of qbd_rdma (%d more to fail)\n",
			atomic_read(&dma_fails_left));
		regs_set_return_value(regs, 0);
	}
	return 0;
}

static struct kretprobe qbd_fail_dma_probe = {
	.kp.symbol_name	= "ib_dma_virt_map_sg",
	.handler	= qbd_fail_dma_ret,
	.maxactive	= 64,
};

/* ib_map_mr_sg(mr, sg, sg_nents, sg_offset, page_size): its bytes. */
static int qbd_fail_mr_entry(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	struct scatterlist *sgl = (void *)regs_get_kernel_argument(regs, 1);
	int nents = regs_get_kernel_argument(regs, 2);
	struct scatterlist *sg;
	u64 total = 0;
	int i;

	for_each_sg(sgl, sg, nents, i)
		total += sg_dma_len(sg);
	*(u64 *)ri->data = total;
	return 0;
}

static int qbd_fail_mr_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	u64 bytes = *(u64 *)ri->data;

	if (mr_fail_bytes && bytes == mr_fail_bytes &&
	    qbd_fail_caller_is_qbd_rdma(ri)) {
		pr_info("failing a registration of %llu bytes of qbd_rdma\n",
			bytes);
		regs_set_return_value(regs, 0);
	}
	return 0;
}

static struct kretprobe qbd_fail_mr_probe = {
	.kp.symbol_name	= "ib_map_mr_sg",
	.entry_handler	= qbd_fail_mr_entry,
	.handler	= qbd_fail_mr_ret,
	.data_size	= sizeof(u64),
	.maxactive	= 64,
};

static int __init qbd_fail_init(void)
{
	int ret;

	atomic_set(&dma_fails_left, dma_fails);
	ret = register_kretprobe(&qbd_fail_dma_probe);
	if (ret)
		return ret;
	ret = register_kretprobe(&qbd_fail_mr_probe);
	if (ret) {
		unregister_kretprobe(&qbd_fail_dma_probe);
		return ret;
	}
	return 0;
}

static void __exit qbd_fail_exit(void)
{
	unregister_kretprobe(&qbd_fail_mr_probe);
	unregister_kretprobe(&qbd_fail_dma_probe);
}

module_init(qbd_fail_init);
module_exit(qbd_fail_exit);

MODULE_DESCRIPTION("qbd tests: fail qbd_rdma's memory mappings");
MODULE_LICENSE("GPL");
