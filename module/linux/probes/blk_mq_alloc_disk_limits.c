// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.9, commit 27e32cd23fed ("block: pass a queue_limits argument to
 * blk_mq_alloc_disk"): the limits are given at allocation and validated
 * there, and 6.10/6.11 removed the blk_queue_* setters (ec84ca4025c0,
 * 1652b0bafeaa, 73e3715ed148).
 */
#include <linux/blk-mq.h>

struct gendisk *qbd_probe(struct blk_mq_tag_set *set, struct queue_limits *lim);
struct gendisk *qbd_probe(struct blk_mq_tag_set *set, struct queue_limits *lim)
{
	return blk_mq_alloc_disk(set, lim, NULL);
}
