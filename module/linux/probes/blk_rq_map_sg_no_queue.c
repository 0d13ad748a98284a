// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.15, commit 75618ac6e98f ("block: remove unused parameter 'q'
 * parameter in __blk_rq_map_sg()"): blk_rq_map_sg() takes only the
 * request; the queue it needed is the request's own.
 */
#include <linux/blk-mq.h>

int qbd_probe(struct request *rq, struct scatterlist *sgl);
int qbd_probe(struct request *rq, struct scatterlist *sgl)
{
	return blk_rq_map_sg(rq, sgl);
}
