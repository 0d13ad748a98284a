// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: throttle token buckets.  Unlimited never waits; a limit lets a
 * tenth of a second of burst through, then makes requests wait exactly
 * as long as the rate needs; time refills the bucket; reads and writes
 * are counted apart.
 */
#include <kunit/test.h>
#include <linux/time64.h>

#include "qbd_ioctl.h"
#include "qbd_throttle.h"

static void qbd_set(struct qbd_throttle *t, u64 rbps, u64 wbps, u64 riops,
		    u64 wiops)
{
	const u64 rates[QBD_TB_COUNT] = { rbps, wbps, riops, wiops };

	qbd_throttle_init(t);
	qbd_throttle_set(t, rates, 0);
}

static void qbd_unlimited_never_waits(struct kunit *test)
{
	struct qbd_throttle t;
	int i;

	qbd_set(&t, 0, 0, 0, 0);
	KUNIT_EXPECT_FALSE(test, t.enabled);
	for (i = 0; i < 1000; i++)
		KUNIT_ASSERT_EQ(test, qbd_throttle_admit(&t, i & 1, 1 << 20, 0),
				0ULL);
}

static void qbd_iops_limit_waits_after_burst(struct kunit *test)
{
	struct qbd_throttle t;
	int i;

	qbd_set(&t, 0, 0, 100, 0);	/* 100 reads/s: burst of 10 */
	KUNIT_EXPECT_TRUE(test, t.enabled);
	for (i = 0; i < 11; i++)
		KUNIT_ASSERT_EQ(test, qbd_throttle_admit(&t, false, 4096, 0),
				0ULL);
	/* One read of debt: 10 ms at 100/s. */
	KUNIT_EXPECT_EQ(test, qbd_throttle_admit(&t, false, 4096, 0),
			10 * NSEC_PER_MSEC);
	/* Writes have no limit. */
	KUNIT_EXPECT_EQ(test, qbd_throttle_admit(&t, true, 4096, 0), 0ULL);
	/* 10 ms later the debt is paid. */
	KUNIT_EXPECT_EQ(test, qbd_throttle_admit(&t, false, 4096,
						 10 * NSEC_PER_MSEC), 0ULL);
}

static void qbd_bps_limit_large_request_goes_into_debt(struct kunit *test)
{
	struct qbd_throttle t;

	qbd_set(&t, 0, 1000000, 0, 0);	/* 1 MB/s writes, burst 100 kB */
	KUNIT_ASSERT_EQ(test, qbd_throttle_admit(&t, true, 1000000, 0), 0ULL);
	/* 900 kB of debt: 0.9 s. */
	KUNIT_EXPECT_EQ(test, qbd_throttle_admit(&t, true, 512, 0),
			900 * NSEC_PER_MSEC);
	KUNIT_EXPECT_NE(test, qbd_throttle_admit(&t, true, 512,
						 899 * NSEC_PER_MSEC), 0ULL);
	KUNIT_EXPECT_EQ(test, qbd_throttle_admit(&t, true, 512,
						 900 * NSEC_PER_MSEC), 0ULL);
}

static void qbd_refill_is_capped_at_burst(struct kunit *test)
{
	struct qbd_throttle t;
	int i, admitted = 0;

	qbd_set(&t, 0, 0, 0, 1000);	/* burst of 100 writes */
	/* An hour idle earns no more than the burst. */
	for (i = 0; i < 1000; i++)
		if (!qbd_throttle_admit(&t, true, 512, 3600 * NSEC_PER_SEC))
			admitted++;
	KUNIT_EXPECT_EQ(test, admitted, 101);
}

/*
 * The largest rate the ioctl takes (QBD_MAX_THROTTLE_RATE)
 * refills for a whole second without the token count overflowing: past
 * its burst a request waits, and a second later it goes.
 */
static void qbd_largest_rate_refills_without_overflow(struct kunit *test)
{
	const u64 rate = QBD_MAX_THROTTLE_RATE;
	struct qbd_throttle t;

	qbd_set(&t, 0, rate, 0, 0);
	KUNIT_EXPECT_EQ(test, qbd_throttle_admit(&t, true, U32_MAX, 0), 0ULL);
	while (!qbd_throttle_admit(&t, true, U32_MAX, 0))
		;
	KUNIT_EXPECT_GT(test, qbd_throttle_admit(&t, true, U32_MAX, 0), 0ULL);
	KUNIT_EXPECT_EQ(test, qbd_throttle_admit(&t, true, U32_MAX, NSEC_PER_SEC),
			0ULL);
	KUNIT_EXPECT_GT(test, t.bucket[QBD_TB_WRITE_BYTES].tokens, 0LL);
}

static void qbd_rate_change_takes_effect(struct kunit *test)
{
	const u64 none[QBD_TB_COUNT] = {};
	struct qbd_throttle t;
	int i;

	qbd_set(&t, 0, 0, 10, 0);
	for (i = 0; i < 2; i++)
		qbd_throttle_admit(&t, false, 512, 0);
	KUNIT_EXPECT_NE(test, qbd_throttle_admit(&t, false, 512, 0), 0ULL);
	qbd_throttle_set(&t, none, 0);
	KUNIT_EXPECT_FALSE(test, t.enabled);
	KUNIT_EXPECT_EQ(test, qbd_throttle_admit(&t, false, 512, 0), 0ULL);
}

static void qbd_frequent_refills_keep_fractions(struct kunit *test)
{
	struct qbd_throttle t;
	u64 now;
	int admitted = 0;

	qbd_set(&t, 0, 0, 200, 0);	/* 200 reads/s, asked every 1 ms */
	for (now = 0; now < NSEC_PER_SEC; now += NSEC_PER_MSEC)
		while (!qbd_throttle_admit(&t, false, 4096, now))
			admitted++;
	/* The burst of 20 plus 200 earned in the second, give or take one. */
	KUNIT_EXPECT_GE(test, admitted, 219);
	KUNIT_EXPECT_LE(test, admitted, 221);
}

static struct kunit_case qbd_throttle_cases[] = {
	KUNIT_CASE(qbd_frequent_refills_keep_fractions),
	KUNIT_CASE(qbd_largest_rate_refills_without_overflow),
	KUNIT_CASE(qbd_unlimited_never_waits),
	KUNIT_CASE(qbd_iops_limit_waits_after_burst),
	KUNIT_CASE(qbd_bps_limit_large_request_goes_into_debt),
	KUNIT_CASE(qbd_refill_is_capped_at_burst),
	KUNIT_CASE(qbd_rate_change_takes_effect),
	{}
};

static struct kunit_suite qbd_throttle_suite = {
	.name = "qbd_throttle",
	.test_cases = qbd_throttle_cases,
};

kunit_test_suite(qbd_throttle_suite);
