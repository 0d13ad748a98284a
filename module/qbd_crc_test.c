// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the crc32c the driver puts on the wire is the standard CRC-32C
 * (the server and every other implementation compute the same), over a
 * flat buffer and over a bio chain whatever its segments.
 */
#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/string.h>

#include "qbd.h"

static const char qbd_check_string[] = "123456789";
#define QBD_CHECK_CRC 0xe3069283U	/* of "123456789" */

static void qbd_crc_of_check_string(struct kunit *test)
{
	struct crypto_shash *tfm = qbd_crc_alloc();

	KUNIT_ASSERT_FALSE(test, IS_ERR(tfm));
	KUNIT_EXPECT_EQ(test, qbd_crc_buf(tfm, qbd_check_string, 9),
			QBD_CHECK_CRC);
	KUNIT_EXPECT_EQ(test, qbd_crc_buf(tfm, "", 0), 0U);
	qbd_crc_free(tfm);
}

/* "1234" in one bio and "56789" across the end of a page in another. */
static void qbd_crc_of_bio_chain(struct kunit *test)
{
	struct crypto_shash *tfm = qbd_crc_alloc();
	struct bio_vec vecs_a[1], vecs_b[2];
	struct page *pages[2];
	struct bio a, b;
	char *p0, *p1;

	KUNIT_ASSERT_FALSE(test, IS_ERR(tfm));
	pages[0] = alloc_page(GFP_KERNEL);
	pages[1] = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, pages[0] && pages[1]);
	p0 = kmap_local_page(pages[0]);
	p1 = kmap_local_page(pages[1]);
	memcpy(p0 + 100, "1234", 4);
	memcpy(p0 + PAGE_SIZE - 2, "56", 2);
	memcpy(p1, "789", 3);
	kunmap_local(p1);
	kunmap_local(p0);

	bio_init(&a, NULL, vecs_a, ARRAY_SIZE(vecs_a), REQ_OP_WRITE);
	bio_init(&b, NULL, vecs_b, ARRAY_SIZE(vecs_b), REQ_OP_WRITE);
	KUNIT_ASSERT_EQ(test, bio_add_page(&a, pages[0], 4, 100), 4);
	KUNIT_ASSERT_EQ(test, bio_add_page(&b, pages[0], 2, PAGE_SIZE - 2), 2);
	KUNIT_ASSERT_EQ(test, bio_add_page(&b, pages[1], 3, 0), 3);
	a.bi_next = &b;
	KUNIT_EXPECT_EQ(test, qbd_crc_bios(tfm, &a), QBD_CHECK_CRC);

	/* One byte changed anywhere changes it. */
	p1 = kmap_local_page(pages[1]);
	p1[2] = '0';
	kunmap_local(p1);
	KUNIT_EXPECT_NE(test, qbd_crc_bios(tfm, &a), QBD_CHECK_CRC);

	bio_uninit(&b);
	bio_uninit(&a);
	__free_page(pages[1]);
	__free_page(pages[0]);
	qbd_crc_free(tfm);
}

static struct kunit_case qbd_crc_cases[] = {
	KUNIT_CASE(qbd_crc_of_check_string),
	KUNIT_CASE(qbd_crc_of_bio_chain),
	{}
};

static struct kunit_suite qbd_crc_suite = {
	.name = "qbd_crc",
	.test_cases = qbd_crc_cases,
};

kunit_test_suite(qbd_crc_suite);
