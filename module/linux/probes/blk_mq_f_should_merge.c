// SPDX-License-Identifier: GPL-2.0
/*
 * Until Linux 6.14, commit cc76ace465d6 ("block: remove
 * BLK_MQ_F_SHOULD_MERGE"): a driver asked for bio merging; since, every
 * queue merges.
 */
#include <linux/blk-mq.h>

unsigned int qbd_probe = BLK_MQ_F_SHOULD_MERGE;
