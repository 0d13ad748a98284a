// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: the crc32c of request payloads (QBD_FEAT_CRC32C in qbd_proto.h).
 *
 * Through the crypto API rather than the crc32c() library call: the
 * transform is allocated when the volume is mapped (nothing is allocated
 * per request, which may be writeback), and the module needs no symbol
 * from libcrc32c, which kernels before 6.14 keep in a module of its own
 * that insmod would not load.  The state lives on the stack, so the
 * receive path (softirq) and the senders share the transform.
 */
#include <crypto/hash.h>
#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/err.h>
#include <linux/highmem.h>

#include "qbd.h"

struct crypto_shash *qbd_crc_alloc(void)
{
	return crypto_alloc_shash("crc32c", 0, 0);
}

void qbd_crc_free(struct crypto_shash *tfm)
{
	if (!IS_ERR_OR_NULL(tfm))
		crypto_free_shash(tfm);
}

/* Adds each segment's bytes to @desc; the segments are single pages. */
static int qbd_crc_bio(struct shash_desc *desc, struct bio *bio)
{
	struct bvec_iter iter;
	struct bio_vec bv;
	int ret = 0;

	bio_for_each_segment(bv, bio, iter) {
		void *addr = bvec_kmap_local(&bv);

		ret = crypto_shash_update(desc, addr, bv.bv_len);
		kunmap_local(addr);
		if (ret)
			break;
	}
	return ret;
}

static u32 qbd_crc_final(struct shash_desc *desc, int ret)
{
	__le32 digest = 0;

	/* crc32c cannot fail on memory it can read: a failure mismatches. */
	if (!ret)
		ret = crypto_shash_final(desc, (u8 *)&digest);
	shash_desc_zero(desc);
	return ret ? 0 : le32_to_cpu(digest);
}

/* The wire's crc32c of the data of a bio chain. */
u32 qbd_crc_bios(struct crypto_shash *tfm, struct bio *bio)
{
	SHASH_DESC_ON_STACK(desc, tfm);
	int ret;

	desc->tfm = tfm;
	ret = crypto_shash_init(desc);
	for (; bio && !ret; bio = bio->bi_next)
		ret = qbd_crc_bio(desc, bio);
	return qbd_crc_final(desc, ret);
}
EXPORT_SYMBOL_GPL(qbd_crc_bios);

/* The wire's crc32c of a flat buffer. */
u32 qbd_crc_buf(struct crypto_shash *tfm, const void *buf, unsigned int len)
{
	SHASH_DESC_ON_STACK(desc, tfm);

	desc->tfm = tfm;
	return qbd_crc_final(desc, crypto_shash_init(desc) ?:
			     crypto_shash_update(desc, buf, len));
}

/*
 * A payload of @piece failed its crc32c on its way over @conn, in either
 * direction: counted, and logged.  True when the piece is to be sent again
 * on a new connection (the caller keeps it in flight and resets @conn,
 * which is suspect); false when its retries ran out and it was failed.
 */
bool qbd_crc_mismatch(struct qbd_conn *conn, struct qbd_piece *piece)
{
	struct qbd_device *dev = conn->dev;
	struct request *rq = qbd_piece_rq(piece);

	atomic64_inc(&dev->crc_errors);
	if (++piece->crc_retries > QBD_CRC_RETRIES) {
		dev_err_ratelimited(disk_to_dev(dev->disk),
				    "%s at %llu: crc32c mismatch with %pISpc, out of retries\n",
				    blk_op_str(req_op(rq)), piece->offset,
				    &conn->addr);
		qbd_piece_complete(piece, BLK_STS_IOERR);
		return false;
	}
	dev_warn_ratelimited(disk_to_dev(dev->disk),
			     "%s at %llu: crc32c mismatch with %pISpc, resending on a new connection\n",
			     blk_op_str(req_op(rq)), piece->offset,
			     &conn->addr);
	return true;
}
EXPORT_SYMBOL_GPL(qbd_crc_mismatch);
