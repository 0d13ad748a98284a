// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 7.3, commit b539aeacf8cc ("block: rename bi_bvec_done"): the offset
 * of a bvec_iter into its current bvec is bi_offset.
 */
#include <linux/bvec.h>

unsigned int qbd_probe(const struct bvec_iter *iter);
unsigned int qbd_probe(const struct bvec_iter *iter)
{
	return iter->bi_offset;
}
