/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: token buckets for the per-device throttle.  Pure logic on a caller
 * supplied clock, so KUnit can drive it.
 */
#ifndef QBD_THROTTLE_H
#define QBD_THROTTLE_H

#include <linux/spinlock.h>
#include <linux/types.h>

enum qbd_bucket_kind {
	QBD_TB_READ_BYTES,
	QBD_TB_WRITE_BYTES,
	QBD_TB_READ_OPS,
	QBD_TB_WRITE_OPS,
	QBD_TB_COUNT,
};

/**
 * struct qbd_bucket - one token bucket
 * @rate:	tokens per second, 0 = unlimited
 * @tokens:	may go negative: a request larger than the burst is let
 *		through and paid for by the ones after it
 * @last_ns:	clock of the last refill
 */
struct qbd_bucket {
	u64	rate;
	s64	tokens;
	u64	last_ns;
};

/**
 * struct qbd_throttle - the four buckets of a device
 * @lock:	protects @bucket
 * @enabled:	any rate set; read without the lock on the IO path
 */
struct qbd_throttle {
	spinlock_t		lock;	/* protects bucket */
	struct qbd_bucket	bucket[QBD_TB_COUNT];
	bool			enabled;
};

void qbd_throttle_init(struct qbd_throttle *t);
void qbd_throttle_set(struct qbd_throttle *t, const u64 rates[QBD_TB_COUNT],
		      u64 now_ns);
u64 qbd_throttle_admit(struct qbd_throttle *t, bool write, u32 bytes,
		       u64 now_ns);

#endif /* QBD_THROTTLE_H */
