// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.11, commits 1122c0c1cc71 ("block: move cache control settings
 * out of queue->flags"), bd4a633b6f7c ("block: move the nonrot flag to
 * queue_limits"), 1a02f3a73f8c ("block: move the stable_writes flag to
 * queue_limits") and 39a9f1c334f9 ("block: move the add_random flag to
 * queue_limits"): write cache, FUA, rotational, stable writes and entropy
 * are queue_limits features, set at allocation; non-rotational and no
 * entropy became the default.
 */
#include <linux/blkdev.h>

struct queue_limits qbd_probe = {
	.features = BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA | BLK_FEAT_STABLE_WRITES,
};
