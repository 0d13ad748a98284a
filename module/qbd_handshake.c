// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: what every transport says before IO (HELLO, AUTH when either side
 * has keys, OPEN), and the request/reply helpers transports share.
 * The transport supplies one call: send a request with its payload and
 * wait for the reply's payload.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/algapi.h>
#include <linux/blk-mq.h>
#include <linux/random.h>

#include "qbd.h"

/*
 * The status of a handshake reply, after checking that it answers
 * @opcode and carries exactly @reply_len bytes on success (none on
 * failure).  -EPROTO when it does not.
 */
int qbd_reply_status(const struct qbd_reply_hdr *reply, u16 opcode,
		     u32 reply_len)
{
	s32 status;

	if (qbd_check_reply(reply, 0) || le16_to_cpu(reply->opcode) != opcode)
		return -EPROTO;
	status = (s32)le32_to_cpu(reply->status);
	if (status)
		return le32_to_cpu(reply->length) ? -EPROTO : status;
	if (le32_to_cpu(reply->length) != reply_len)
		return -EPROTO;
	return 0;
}
EXPORT_SYMBOL_GPL(qbd_reply_status);

/* Mutual proof of this host's key; see include/qbd_proto.h. */
static int qbd_authenticate(struct qbd_device *dev, qbd_call_fn call,
			    void *ctx, const struct qbd_hello *hello,
			    const struct qbd_hello_reply *hr)
{
	u8 expected[QBD_MAC_BYTES];
	struct qbd_auth auth;
	int ret;

	if (!dev->key_len)
		return -EACCES;		/* server wants a key we lack */
	ret = qbd_auth_mac(dev->hmac, QBD_AUTH_SERVER_LABEL,
			   hello->nonce, hr->nonce, expected);
	if (ret)
		return ret;
	if (crypto_memneq(expected, hr->server_mac, QBD_MAC_BYTES))
		return -EACCES;		/* server does not know our key */
	ret = qbd_auth_mac(dev->hmac, QBD_AUTH_CLIENT_LABEL,
			   hr->nonce, hello->nonce, auth.client_mac);
	if (ret)
		return ret;
	return call(ctx, QBD_OP_AUTH, &auth, sizeof(auth), NULL, 0);
}

/*
 * The largest READ or WRITE a server takes bounds the device's: before
 * the disk exists (the map connects first) the device's limit comes down
 * to it; a server met later (a reconnect, a remap) that takes less than
 * the disk's limit is refused.
 */
static int qbd_honour_max_io(struct qbd_device *dev, u32 server_max)
{
	if (server_max < PAGE_SIZE)
		return -EPROTO;
	if (server_max >= dev->max_io_bytes)
		return 0;
	if (dev->disk) {
		pr_err_ratelimited("%s/%s: a server takes IO of at most %u bytes, the disk sends up to %u\n",
				   dev->pool, dev->volume, server_max,
				   dev->max_io_bytes);
		return -EMSGSIZE;
	}
	dev->max_io_bytes = round_down(server_max, PAGE_SIZE);
	return 0;
}

int qbd_handshake(struct qbd_conn *conn, u64 features, qbd_call_fn call,
		  void *ctx)
{
	struct qbd_device *dev = conn->dev;
	struct qbd_hello hello = {};
	struct qbd_hello_reply hr;
	struct qbd_open open = {};
	struct qbd_open_reply orep;
	int ret;

	hello.features = cpu_to_le64(features);
	get_random_bytes(&hello.client_id, sizeof(hello.client_id));
	get_random_bytes(hello.nonce, sizeof(hello.nonce));
	strscpy(hello.host_id, dev->host_id, sizeof(hello.host_id));
	ret = call(ctx, QBD_OP_HELLO, &hello, sizeof(hello), &hr, sizeof(hr));
	if (ret)
		return ret;
	if (le64_to_cpu(hr.features) != features)
		return -EPROTONOSUPPORT;
	ret = qbd_honour_max_io(dev, le32_to_cpu(hr.max_io_bytes));
	if (ret)
		return ret;

	switch (le32_to_cpu(hr.auth)) {
	case QBD_AUTH_NONE:
		/* A server must prove it knows the key we hold. */
		if (dev->key_len)
			return -EACCES;
		break;
	case QBD_AUTH_HMAC_SHA256:
		ret = qbd_authenticate(dev, call, ctx, &hello, &hr);
		if (ret)
			return ret;
		break;
	default:
		return -EPROTO;
	}

	/*
	 * A new incarnation for every OPEN, even one that follows a failed
	 * attempt: the server fences every older one before it answers, so
	 * nothing this slot sent before can reach the disk after what it
	 * resends now.
	 */
	open.volume_id = cpu_to_le64(dev->volume_id);
	open.epoch = cpu_to_le64(max(READ_ONCE(dev->epoch), conn->open_epoch));
	open.client_id = cpu_to_le64(conn->client_id);
	open.incarnation = cpu_to_le64(++conn->incarnation);
	ret = call(ctx, QBD_OP_OPEN, &open, sizeof(open), &orep, sizeof(orep));
	if (ret)
		return ret;
	/* The volume may have grown on the server before our map did. */
	if (le64_to_cpu(orep.size) < dev->size ||
	    le64_to_cpu(orep.shard_size) != dev->shard_size)
		return -ESTALE;
	return 0;
}
EXPORT_SYMBOL_GPL(qbd_handshake);

/* The header flags of a setup request of @dev. */
u32 qbd_setup_flags(const struct qbd_device *dev, u16 opcode)
{
	u32 map_flags = READ_ONCE(dev->flags);
	u32 flags = 0;

	if (opcode != QBD_OP_OPEN)
		return 0;
	if (map_flags & QBD_MAP_READ_ONLY)
		return QBD_REQ_READ_ONLY;	/* claims nothing */
	if (map_flags & QBD_MAP_SHARED)
		flags |= QBD_REQ_SHARED;
	if (map_flags & QBD_MAP_TAKE_OVER)
		flags |= QBD_REQ_TAKE_OVER;
	return flags;
}
EXPORT_SYMBOL_GPL(qbd_setup_flags);

/* The wire opcode and flags of a block request. */
u16 qbd_wire_opcode(struct request *rq, u32 *flags)
{
	*flags = 0;
	switch (req_op(rq)) {
	case REQ_OP_READ:
		return QBD_OP_READ;
	case REQ_OP_WRITE:
		if (rq->cmd_flags & REQ_FUA)
			*flags |= QBD_REQ_FUA;
		return QBD_OP_WRITE;
	case REQ_OP_FLUSH:
		return QBD_OP_FLUSH;
	case REQ_OP_DISCARD:
		return QBD_OP_DISCARD;
	case REQ_OP_WRITE_ZEROES:
		return QBD_OP_WRITE_ZEROES;
	default:
		return 0;
	}
}
EXPORT_SYMBOL_GPL(qbd_wire_opcode);

blk_status_t qbd_status_to_blk(s32 status)
{
	switch (status) {
	case 0:
		return BLK_STS_OK;
	case -ENOSPC:
		return BLK_STS_NOSPC;
	case -EOPNOTSUPP:
		return BLK_STS_NOTSUPP;
	default:
		return BLK_STS_IOERR;
	}
}
EXPORT_SYMBOL_GPL(qbd_status_to_blk);
