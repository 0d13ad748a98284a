/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: the arithmetic of shards.  Pure functions, pinned down by KUnit.
 */
#ifndef QBD_SHARD_H
#define QBD_SHARD_H

#include <linux/types.h>

/* One shard's part of a byte range. */
struct qbd_range {
	u64	offset;
	u32	length;
	u32	shard;
};

int qbd_split_range(u64 offset, u64 length, u64 volume_size,
		    unsigned int shard_shift, struct qbd_range *out,
		    unsigned int max);

#endif /* QBD_SHARD_H */
