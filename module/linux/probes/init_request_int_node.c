// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 7.2, commit b040a1a4523d ("block: switch numa_node to int in
 * blk_mq_hw_ctx and init_request"): ->init_request takes the node as an
 * int, as every other NUMA interface does.
 */
#include <linux/blk-mq.h>

static int probe_init_request(struct blk_mq_tag_set *set, struct request *rq,
			      unsigned int hctx_idx, int numa_node)
{
	return 0;
}

const struct blk_mq_ops qbd_probe_ops = {
	.init_request	= probe_init_request,
};
