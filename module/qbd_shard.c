// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: the arithmetic of shards.  Shard i holds bytes
 * [i << shard_shift, (i + 1) << shard_shift) of the volume.
 */
#include <linux/errno.h>
#include <linux/minmax.h>

#include "qbd_shard.h"

/*
 * Cut [offset, offset + length) at shard boundaries into at most @max
 * ranges.  Returns how many, -EINVAL for an empty range or one past the
 * end of the volume, -E2BIG when it needs more than @max.
 */
int qbd_split_range(u64 offset, u64 length, u64 volume_size,
		    unsigned int shard_shift, struct qbd_range *out,
		    unsigned int max)
{
	u64 end = offset + length;
	unsigned int n = 0;

	if (!length || end < offset || end > volume_size)
		return -EINVAL;
	while (offset < end) {
		u64 shard = offset >> shard_shift;
		u64 piece_end = min(end, (shard + 1) << shard_shift);

		if (n == max)
			return -E2BIG;
		out[n].offset = offset;
		out[n].length = piece_end - offset;
		out[n].shard = shard;
		n++;
		offset = piece_end;
	}
	return n;
}
