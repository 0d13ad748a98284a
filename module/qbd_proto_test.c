// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: wire encoding.  Request headers carry every field little-endian
 * at its place; replies with a wrong magic, version, flag, length or
 * status are refused; wire tags survive the round trip.
 */
#include <kunit/test.h>

#include "qbd.h"

static void qbd_request_header_encoding(struct kunit *test)
{
	struct qbd_req_hdr h;
	const u8 *b = (const u8 *)&h;

	memset(&h, 0xaa, sizeof(h));
	qbd_encode_req(&h, QBD_OP_WRITE, QBD_REQ_FUA, 4096, 0x1122334455667788ULL,
		       9, 3, 1ULL << 40);
	KUNIT_EXPECT_EQ(test, b[0], 0x51);	/* "QBDP" */
	KUNIT_EXPECT_EQ(test, b[3], 0x50);
	KUNIT_EXPECT_EQ(test, le16_to_cpu(h.version), QBD_PROTO_VERSION);
	KUNIT_EXPECT_EQ(test, le16_to_cpu(h.opcode), QBD_OP_WRITE);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(h.flags), QBD_REQ_FUA);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(h.length), 4096U);
	KUNIT_EXPECT_EQ(test, b[16], 0x88);	/* tag, little-endian */
	KUNIT_EXPECT_EQ(test, le64_to_cpu(h.volume_id), 9ULL);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(h.epoch), 3ULL);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(h.offset), 1ULL << 40);
	KUNIT_EXPECT_EQ(test, h.crc32c, 0U);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(h.reserved, 0, sizeof(h.reserved)));
}

static void qbd_good_reply(struct qbd_reply_hdr *r)
{
	memset(r, 0, sizeof(*r));
	r->magic = cpu_to_le32(QBD_PROTO_MAGIC);
	r->version = cpu_to_le16(QBD_PROTO_VERSION);
	r->opcode = cpu_to_le16(QBD_OP_READ);
	r->length = cpu_to_le32(4096);
}

static void qbd_reply_checks(struct kunit *test)
{
	struct qbd_reply_hdr r;

	qbd_good_reply(&r);
	KUNIT_EXPECT_EQ(test, qbd_check_reply(&r, 0), 0);

	r.status = cpu_to_le32((u32)-EIO);
	r.length = 0;
	KUNIT_EXPECT_EQ(test, qbd_check_reply(&r, 0), 0);

	qbd_good_reply(&r);
	r.magic = cpu_to_le32(0x12345678);
	KUNIT_EXPECT_EQ(test, qbd_check_reply(&r, 0), -EPROTO);

	qbd_good_reply(&r);
	r.version = cpu_to_le16(2);
	KUNIT_EXPECT_EQ(test, qbd_check_reply(&r, 0), -EPROTO);

	qbd_good_reply(&r);
	r.flags = cpu_to_le32(QBD_REQ_FUA);
	KUNIT_EXPECT_EQ(test, qbd_check_reply(&r, 0), -EPROTO);

	/* No checksum was negotiated: a reply claiming one is refused. */
	qbd_good_reply(&r);
	r.flags = cpu_to_le32(QBD_REQ_CRC);
	KUNIT_EXPECT_EQ(test, qbd_check_reply(&r, 0), -EPROTO);
	/* Where one was, it may carry one, and still no other flag. */
	KUNIT_EXPECT_EQ(test, qbd_check_reply(&r, QBD_REQ_CRC), 0);
	r.flags = cpu_to_le32(QBD_REQ_CRC | QBD_REQ_FUA);
	KUNIT_EXPECT_EQ(test, qbd_check_reply(&r, QBD_REQ_CRC), -EPROTO);

	qbd_good_reply(&r);
	r.length = cpu_to_le32(QBD_MAX_IO_BYTES + 1);
	KUNIT_EXPECT_EQ(test, qbd_check_reply(&r, 0), -EPROTO);

	qbd_good_reply(&r);
	r.status = cpu_to_le32(5);		/* positive status */
	KUNIT_EXPECT_EQ(test, qbd_check_reply(&r, 0), -EPROTO);

	qbd_good_reply(&r);
	r.status = cpu_to_le32((u32)-100000);	/* not an errno */
	KUNIT_EXPECT_EQ(test, qbd_check_reply(&r, 0), -EPROTO);
}

static void qbd_tag_round_trip(struct kunit *test)
{
	static const struct { u16 hwq, tag; u8 piece; u32 gen; } cases[] = {
		{ 0, 0, 0, 0 },
		{ 1, 1023, 1, 1 },
		{ 255, 65535, 255, 0xffffff },
		{ QBD_HEARTBEAT_HWQ, 0, 0, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u16 hwq, tag;
		u8 piece;
		u32 gen;

		qbd_split_tag(qbd_make_tag(cases[i].hwq, cases[i].tag,
					   cases[i].piece, cases[i].gen),
			      &hwq, &tag, &piece, &gen);
		KUNIT_EXPECT_EQ(test, hwq, cases[i].hwq);
		KUNIT_EXPECT_EQ(test, tag, cases[i].tag);
		KUNIT_EXPECT_EQ(test, piece, cases[i].piece);
		KUNIT_EXPECT_EQ(test, gen, cases[i].gen);
	}
	/* Generations wrap at 24 bits rather than spill into other fields. */
	KUNIT_EXPECT_EQ(test, qbd_make_tag(2, 3, 4, 0x1000005),
			qbd_make_tag(2, 3, 4, 5));
}

static struct kunit_case qbd_proto_cases[] = {
	KUNIT_CASE(qbd_request_header_encoding),
	KUNIT_CASE(qbd_reply_checks),
	KUNIT_CASE(qbd_tag_round_trip),
	{}
};

static struct kunit_suite qbd_proto_suite = {
	.name = "qbd_proto",
	.test_cases = qbd_proto_cases,
};

kunit_test_suite(qbd_proto_suite);
