// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: token buckets for the per-device throttle.
 */
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/time64.h>

#include "qbd_throttle.h"

/* A tenth of a second of traffic may pass at once. */
static s64 qbd_bucket_burst(const struct qbd_bucket *b)
{
	return max_t(u64, b->rate / 10, 1);
}

static void qbd_bucket_refill(struct qbd_bucket *b, u64 now_ns)
{
	u64 delta, added;

	if (!b->rate || now_ns <= b->last_ns)
		return;
	/* Past a second the bucket is full anyway; this bounds the product. */
	delta = min_t(u64, now_ns - b->last_ns, NSEC_PER_SEC);
	added = mul_u64_u64_div_u64(b->rate, delta, NSEC_PER_SEC);
	if (!added)
		return;		/* the fraction of a token waits for more time */
	b->tokens += added;
	if (b->tokens >= qbd_bucket_burst(b)) {
		b->tokens = qbd_bucket_burst(b);
		b->last_ns = now_ns;
	} else {
		/* Only the time the whole tokens stand for is used up. */
		b->last_ns += mul_u64_u64_div_u64(added, NSEC_PER_SEC, b->rate);
	}
}

/* Nanoseconds until @b is out of debt. */
static u64 qbd_bucket_wait(const struct qbd_bucket *b)
{
	if (!b->rate || b->tokens >= 0)
		return 0;
	return max_t(u64, mul_u64_u64_div_u64(-b->tokens, NSEC_PER_SEC, b->rate),
		     1);
}

void qbd_throttle_init(struct qbd_throttle *t)
{
	spin_lock_init(&t->lock);
	memset(t->bucket, 0, sizeof(t->bucket));
	t->enabled = false;
}

void qbd_throttle_set(struct qbd_throttle *t, const u64 rates[QBD_TB_COUNT],
		      u64 now_ns)
{
	bool enabled = false;
	int i;

	spin_lock(&t->lock);
	for (i = 0; i < QBD_TB_COUNT; i++) {
		t->bucket[i].rate = rates[i];
		t->bucket[i].tokens = rates[i] ? qbd_bucket_burst(&t->bucket[i]) : 0;
		t->bucket[i].last_ns = now_ns;
		enabled |= rates[i] != 0;
	}
	WRITE_ONCE(t->enabled, enabled);
	spin_unlock(&t->lock);
}

/*
 * Returns 0 and charges the buckets when a request of @bytes may go now,
 * else the nanoseconds to wait before asking again (nothing is charged).
 */
u64 qbd_throttle_admit(struct qbd_throttle *t, bool write, u32 bytes,
		       u64 now_ns)
{
	struct qbd_bucket *bb = &t->bucket[write ? QBD_TB_WRITE_BYTES :
					   QBD_TB_READ_BYTES];
	struct qbd_bucket *ob = &t->bucket[write ? QBD_TB_WRITE_OPS :
					   QBD_TB_READ_OPS];
	u64 wait;

	spin_lock(&t->lock);
	qbd_bucket_refill(bb, now_ns);
	qbd_bucket_refill(ob, now_ns);
	wait = max(qbd_bucket_wait(bb), qbd_bucket_wait(ob));
	if (!wait) {
		if (bb->rate)
			bb->tokens -= bytes;
		if (ob->rate)
			ob->tokens -= 1;
	}
	spin_unlock(&t->lock);
	return wait;
}
