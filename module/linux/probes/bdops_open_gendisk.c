// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.5, commits d32e2bf83791 ("block: pass a gendisk to ->open") and
 * ae220766d87c ("block: remove the unused mode argument to ->release"),
 * with 05bdb9965305 ("block: replace fmode_t with a block-specific type
 * for block open flags"): ->open takes the gendisk and a blk_mode_t,
 * ->release only the gendisk.
 */
#include <linux/blkdev.h>

static int probe_open(struct gendisk *disk, blk_mode_t mode)
{
	return 0;
}

static void probe_release(struct gendisk *disk)
{
}

const struct block_device_operations qbd_probe_bdops = {
	.open		= probe_open,
	.release	= probe_release,
};
