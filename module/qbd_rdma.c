// SPDX-License-Identifier: GPL-2.0
/*
 * qbd_rdma: the RDMA transport of qbd (qbd_rdma.ko), on kernel verbs and
 * rdma_cm.  It registers itself with qbd.ko and is loaded on demand, so a
 * host without RDMA never loads ib_core.  The wire format is in
 * include/qbd_proto.h: one SEND per request and per reply; READ and WRITE
 * name a span of client memory the server RDMA-WRITEs or RDMA-READs.
 *
 * Data buffers: the request's own pages are registered for each IO with a
 * fast-registration memory region (FRWR), one region per tag, and
 * invalidated when the reply is in.  Data moves between the bio pages and
 * the server with no copy, and no memory stays pinned between requests.
 * Pre-registered per-tag buffers would need queue_depth * max_io_bytes of
 * pinned memory per connection (128 MiB at the defaults) and a copy of
 * every byte.  The block queue gets a page-sized virt boundary so that the
 * pages of a request fit one region.  A write of up to
 * QBD_RDMA_INLINE_DATA_MAX bytes is instead sent inline: its DMA-mapped
 * pages follow the message in the SEND's gather list, which spares the
 * registration, the server's RDMA READ round trip and the invalidation.
 * The server's reply to a registered request invalidates the region
 * (SEND with Invalidate), so the client posts no invalidation either; a
 * reply that invalidated another rkey, or none, gets a local invalidation,
 * and its piece completes only once that is done: memory the server can
 * still reach is never handed back to the block layer.  A request whose
 * pages cannot be mapped fails on its own, or waits and is tried again
 * when the DMA mapping may work later: the queue pair and everything else
 * on it go on.
 *
 * Requests are posted from queue_rq (a post never sleeps, so there is no
 * send thread); completions run in softirq from the completion queue.  A
 * worker thread per connection owns its life: on a transport error, a
 * disconnect or an IO timeout it drains the queue pair, keeps what was in
 * flight (or, when the volume has another path, sends it there), reconnects
 * with the same backoff and give-up rules as TCP, and posts it all again.
 * It also posts again what waited for a DMA mapping.  Messages name the
 * volume and the server, never the disk: the map connects, and the
 * completion queue runs, before the disk exists.
 *
 * Locking: conn->lock (taken with _bh outside softirq) protects the in-flight
 * list, with the connection's state, and posting: nothing is posted on a queue
 * pair that is being torn down.  A tx (one per tag and piece index) is
 * owned by whoever holds a reference: one for its SEND, one for the reply,
 * one for the local invalidation (registered pages the reply did not
 * invalidate); the last one unmaps the pages and, once the reply was
 * claimed, completes the piece.  A piece whose region could not be
 * invalidated goes back in flight unclaimed and is sent again on the next
 * queue pair: the region goes away with this one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>

#include "linux/blkdev_compat.h"
#include "linux/slab_compat.h"
#include "qbd.h"

#define QBD_RDMA_FEATURES (QBD_FEAT_FUA | QBD_FEAT_DISCARD | \
			   QBD_FEAT_WRITE_ZEROES | QBD_FEAT_RDMA_INLINE | \
			   QBD_FEAT_RDMA_REMOTE_INV)

/* What a connection of @dev asks for in HELLO. */
static u64 qbd_rdma_features(const struct qbd_device *dev)
{
	return QBD_RDMA_FEATURES | (dev->crc ? QBD_FEAT_CRC32C : 0);
}

/* Gather entries an inline write's data may take (a 4 KiB page, split). */
#define QBD_RDMA_INLINE_SGES	4

/* A piece whose pages could not be DMA-mapped is tried again this often. */
#define QBD_RDMA_REMAP_DELAY_MS	10

/*
 * A rate-limited message about @rc's connection.  It names the volume, not
 * the disk: the map connects, and receives complete, before the disk exists.
 */
#define qbd_rdma_err(rc, fmt, ...)					\
	do {								\
		const struct qbd_device *__dev = (rc)->conn->dev;	\
									\
		pr_err_ratelimited("%s/%s: " fmt, __dev->pool,		\
				   __dev->volume, ##__VA_ARGS__);	\
	} while (0)

/* One request on the wire: (tag, piece index) of its hardware queue. */
struct qbd_rdma_tx {
	struct qbd_rdma_conn	*rc;
	struct qbd_piece	*piece;
	struct ib_cqe		send_cqe;
	struct ib_cqe		inv_cqe;
	struct ib_sge		sge[1 + QBD_RDMA_INLINE_SGES];	/* message, data */
	struct ib_send_wr	send_wr;
	struct ib_reg_wr	reg_wr;
	struct ib_send_wr	inv_wr;
	atomic_t		refs;
	blk_status_t		status;
	u32			write_crc;	/* of a WRITE's data, as sent */
	u32			read_crc;	/* of a READ's data, as replied */
	bool			bad_crc;	/* the server refused the WRITE's */
	bool			stale;
	bool			posted;		/* under rc->conn->lock */
	bool			claimed;	/* its reply is in */
	bool			mapped;		/* its pages are DMA-mapped */
	bool			registered;	/* ...and registered: invalidate */
};

/* The registration of one tag's pages. */
struct qbd_rdma_region {
	struct ib_mr		*mr;
	struct scatterlist	*sgl;
	int			nents;
	enum dma_data_direction	dir;
};

struct qbd_rdma_rx {
	struct ib_cqe		cqe;
	struct ib_sge		sge;
	struct ib_recv_wr	wr;
};

/* Flags of qbd_rdma_conn.flags. */
enum {
	QBD_RDMA_ERROR,		/* the queue pair must be rebuilt */
	QBD_RDMA_REMAP,		/* pieces wait for their pages to be mapped */
};

/* What qbd_rdma_post() made of a piece. */
enum qbd_rdma_post_result {
	QBD_RDMA_POSTED,
	QBD_RDMA_MAP_LATER,	/* no DMA mapping now: keep it, try again */
	QBD_RDMA_MAP_FAILED,	/* its pages cannot be registered: fail it */
	QBD_RDMA_QP_FAILED,	/* the queue pair took no post: rebuild it */
};

struct qbd_rdma_conn {
	struct qbd_conn		*conn;
	unsigned int		nr_tx;		/* queue_depth * QBD_MAX_PIECES */
	unsigned int		nr_rx;
	unsigned int		max_pages;	/* per region */
	unsigned int		inline_sges;	/* data entries of an inline SEND */

	/* The queue pair and what hangs off it; rebuilt on reconnect. */
	struct rdma_cm_id	*cm_id;
	struct ib_device	*ibdev;
	struct ib_pd		*pd;
	struct ib_cq		*cq;
	struct ib_qp		*qp;
	struct qbd_rdma_req	*msgs;		/* nr_tx + 1 (setup) */
	u64			msgs_dma;
	struct qbd_rdma_reply	*replies;	/* nr_rx */
	u64			replies_dma;
	struct qbd_rdma_region	*regions;	/* queue_depth */
	struct scatterlist	*sgls;		/* queue_depth * max_pages */
	struct qbd_rdma_tx	*tx;		/* nr_tx */
	struct qbd_rdma_rx	*rx;		/* nr_rx */

	/* rdma_cm steps, waited for by the worker. */
	struct completion	cm_done;
	int			cm_status;

	/* The handshake: one request and reply at a time. */
	bool			in_setup;
	struct completion	setup_sent;
	struct completion	setup_done;
	struct qbd_rdma_reply	setup_reply;
	struct ib_cqe		setup_cqe;
	int			setup_status;

	/*
	 * Protected by conn->lock, with conn->state: pieces are posted while
	 * LIVE, held while CONNECTING, refused while FAILED or CLOSING.
	 */
	struct list_head	inflight;

	unsigned long		flags;		/* QBD_RDMA_* bits */
	wait_queue_head_t	wait;		/* the worker waits here */
	struct task_struct	*worker;
};

static struct qbd_rdma_conn *qbd_rdma(struct qbd_conn *conn)
{
	return conn->priv;
}

/* Something broke: the worker rebuilds the connection. */
static void qbd_rdma_error(struct qbd_rdma_conn *rc)
{
	set_bit(QBD_RDMA_ERROR, &rc->flags);
	wake_up(&rc->wait);
}

static struct qbd_rdma_tx *qbd_rdma_tx_of(struct qbd_rdma_conn *rc,
					  unsigned int tag, unsigned int index)
{
	return &rc->tx[tag * QBD_MAX_PIECES + index];
}

static unsigned int qbd_rdma_tx_index(struct qbd_rdma_conn *rc,
				      struct qbd_rdma_tx *tx)
{
	return tx - rc->tx;
}

static u64 qbd_rdma_msg_dma(struct qbd_rdma_conn *rc, unsigned int i)
{
	return rc->msgs_dma + i * sizeof(struct qbd_rdma_req);
}

static void qbd_rdma_unmap_pages(struct qbd_rdma_conn *rc,
				 struct qbd_rdma_tx *tx)
{
	struct qbd_rdma_region *r;

	if (!tx->mapped)
		return;
	r = &rc->regions[qbd_piece_rq(tx->piece)->tag];
	ib_dma_unmap_sg(rc->ibdev, r->sgl, r->nents, r->dir);
	tx->mapped = false;
	tx->registered = false;
}

/*
 * Whether @tx's payload failed its crc32c: the server refused a WRITE's,
 * or a READ's data, now unmapped and in the bio's pages, is not what the
 * server checksummed.
 */
static bool qbd_rdma_crc_failed(struct qbd_rdma_tx *tx)
{
	struct crypto_shash *crc = tx->rc->conn->dev->crc;
	struct request *rq = qbd_piece_rq(tx->piece);

	if (tx->bad_crc)
		return true;
	return crc && tx->status == BLK_STS_OK && req_op(rq) == REQ_OP_READ &&
	       qbd_crc_bios(crc, rq->bio) != tx->read_crc;
}

/*
 * The connection is suspect: it is rebuilt, and the piece sent again on
 * the new one, its WRITE data checksummed afresh, until its retries run
 * out (qbd_crc_mismatch).
 */
static void qbd_rdma_crc_mismatch(struct qbd_rdma_tx *tx)
{
	struct qbd_rdma_conn *rc = tx->rc;
	struct qbd_piece *piece = tx->piece;
	struct request *rq = qbd_piece_rq(piece);

	if (!qbd_crc_mismatch(rc->conn, piece))
		return;
	if (req_op(rq) == REQ_OP_WRITE)
		tx->write_crc = qbd_crc_bios(rc->conn->dev->crc, rq->bio);
	spin_lock(&rc->conn->lock);
	list_add_tail(&piece->inflight_node, &rc->inflight);
	spin_unlock(&rc->conn->lock);
	qbd_rdma_error(rc);
}

/*
 * Drop a reference; the last one finishes the request's part.  From the
 * completion queue (softirq).
 */
static void qbd_rdma_tx_put(struct qbd_rdma_tx *tx)
{
	struct qbd_rdma_conn *rc = tx->rc;
	struct qbd_piece *piece = tx->piece;
	bool claimed;

	if (!atomic_dec_and_test(&tx->refs))
		return;
	spin_lock(&rc->conn->lock);
	qbd_rdma_unmap_pages(rc, tx);
	tx->posted = false;
	claimed = tx->claimed;
	tx->claimed = false;
	spin_unlock(&rc->conn->lock);
	if (!claimed)
		return;		/* the connection broke: resent later */
	if (tx->stale)
		qbd_piece_stale(piece);
	else if (qbd_rdma_crc_failed(tx))
		qbd_rdma_crc_mismatch(tx);
	else
		qbd_piece_complete(piece, tx->status);
}

/*
 * Put a claimed piece back in flight, unclaimed, when its region could not
 * be invalidated: it is sent again once the queue pair, and the region
 * with it, has been rebuilt.  Under rc->conn->lock.
 */
static void qbd_rdma_unclaim(struct qbd_rdma_conn *rc, struct qbd_rdma_tx *tx)
{
	lockdep_assert_held(&rc->conn->lock);
	list_add_tail(&tx->piece->inflight_node, &rc->inflight);
	tx->claimed = false;
}

/* Also during the map's handshake, before the disk exists. */
static void qbd_rdma_wc_failed(struct qbd_rdma_conn *rc, struct ib_wc *wc,
			       const char *what)
{
	if (wc->status != IB_WC_WR_FLUSH_ERR)
		qbd_rdma_err(rc, "%s on the connection to %pISpc failed: %s\n",
			     what, &rc->conn->addr,
			     ib_wc_status_msg(wc->status));
	qbd_rdma_error(rc);
}

static void qbd_rdma_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct qbd_rdma_tx *tx = container_of(wc->wr_cqe, struct qbd_rdma_tx,
					      send_cqe);

	if (wc->status != IB_WC_SUCCESS)
		qbd_rdma_wc_failed(tx->rc, wc, "send");
	qbd_rdma_tx_put(tx);
}

static void qbd_rdma_inv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct qbd_rdma_tx *tx = container_of(wc->wr_cqe, struct qbd_rdma_tx,
					      inv_cqe);

	if (wc->status != IB_WC_SUCCESS) {
		/* The region may still be registered: keep the piece. */
		spin_lock(&tx->rc->conn->lock);
		qbd_rdma_unclaim(tx->rc, tx);
		spin_unlock(&tx->rc->conn->lock);
		qbd_rdma_wc_failed(tx->rc, wc, "invalidation");
	}
	qbd_rdma_tx_put(tx);
}

/* A registration is never signalled: this only runs when it failed. */
static void qbd_rdma_reg_done(struct ib_cq *cq, struct ib_wc *wc)
{
	qbd_rdma_wc_failed(cq->cq_context, wc, "memory registration");
}

static struct ib_cqe qbd_rdma_reg_cqe = { .done = qbd_rdma_reg_done };

/*
 * Put the DMA-mapped pages of a small write after the message in the
 * SEND's gather list (@count entries).  Under rc->conn->lock.
 */
static void qbd_rdma_map_inline(struct qbd_rdma_conn *rc,
				struct qbd_rdma_tx *tx, struct qbd_rdma_req *msg,
				struct scatterlist *sgl, int count)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, count, i)
		tx->sge[1 + i] = (struct ib_sge) {
			.addr	= sg_dma_address(sg),
			.length	= sg_dma_len(sg),
			.lkey	= rc->pd->local_dma_lkey,
		};
	msg->data.length = cpu_to_le32(tx->piece->length);
	msg->data_flags = cpu_to_le32(QBD_RDMA_DATA_INLINE);
}

/*
 * Map the pages of @tx's request and describe them in @msg: inline for a
 * small write, else registered for the server's RDMA READ or WRITE.
 * Returns how many data entries follow the message in the SEND (0 when
 * registered), -EAGAIN when the DMA mapping failed (it may work later:
 * IOMMU space comes back), or another error when the pages do not fit a
 * region.  Under conn->lock, LIVE.
 */
static int qbd_rdma_map_pages(struct qbd_rdma_conn *rc, struct qbd_rdma_tx *tx,
			      struct qbd_rdma_req *msg)
{
	struct request *rq = qbd_piece_rq(tx->piece);
	struct qbd_rdma_region *r = &rc->regions[rq->tag];
	int count, n;

	sg_init_table(r->sgl, rc->max_pages);
	r->nents = qbd_rq_map_sg(rq, r->sgl);
	if (r->nents <= 0 || r->nents > rc->max_pages)
		return -EINVAL;
	r->dir = rq_data_dir(rq) == WRITE ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	count = ib_dma_map_sg(rc->ibdev, r->sgl, r->nents, r->dir);
	if (!count)
		return -EAGAIN;
	tx->mapped = true;
	if (r->dir == DMA_TO_DEVICE && count <= rc->inline_sges &&
	    tx->piece->length <= QBD_RDMA_INLINE_DATA_MAX &&
	    tx->piece->length == blk_rq_bytes(rq)) {
		qbd_rdma_map_inline(rc, tx, msg, r->sgl, count);
		return count;
	}
	n = ib_map_mr_sg(r->mr, r->sgl, count, NULL, PAGE_SIZE);
	if (n != count) {
		qbd_rdma_unmap_pages(rc, tx);
		return n < 0 ? n : -EINVAL;
	}
	tx->registered = true;
	ib_update_fast_reg_key(r->mr, ib_inc_rkey(r->mr->rkey));

	tx->reg_wr = (struct ib_reg_wr) {
		.wr.opcode	= IB_WR_REG_MR,
		.wr.wr_cqe	= &qbd_rdma_reg_cqe,
		.wr.next	= &tx->send_wr,
		.mr		= r->mr,
		.key		= r->mr->rkey,
		.access		= IB_ACCESS_LOCAL_WRITE |
				  IB_ACCESS_REMOTE_READ |
				  IB_ACCESS_REMOTE_WRITE,
	};
	msg->data.addr = cpu_to_le64(r->mr->iova);
	msg->data.rkey = cpu_to_le32(r->mr->rkey);
	msg->data.length = cpu_to_le32(r->mr->length);
	return 0;
}

/*
 * Send @piece.  A failure to map its pages is its own (the caller fails the
 * piece, or keeps it for another try); only a failed post is the queue
 * pair's.  Under conn->lock, LIVE.
 */
static enum qbd_rdma_post_result qbd_rdma_post(struct qbd_rdma_conn *rc,
					       struct qbd_piece *piece)
{
	struct qbd_conn *conn = rc->conn;
	struct qbd_device *dev = conn->dev;
	struct request *rq = qbd_piece_rq(piece);
	struct qbd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct qbd_rdma_tx *tx = qbd_rdma_tx_of(rc, rq->tag, piece->index);
	unsigned int i = qbd_rdma_tx_index(rc, tx);
	struct qbd_rdma_req *msg = &rc->msgs[i];
	struct ib_send_wr *first = &tx->send_wr;
	u32 flags;
	u16 opcode = qbd_wire_opcode(rq, &flags);
	int ret, data_sges = 0;

	tx->piece = piece;
	tx->status = BLK_STS_OK;
	tx->bad_crc = false;
	tx->stale = false;
	tx->claimed = false;
	if (opcode == QBD_OP_WRITE && dev->crc)
		flags |= QBD_REQ_CRC;
	ib_dma_sync_single_for_cpu(rc->ibdev, qbd_rdma_msg_dma(rc, i),
				   sizeof(*msg), DMA_TO_DEVICE);
	memset(msg, 0, sizeof(*msg));
	qbd_encode_req(&msg->hdr, opcode, flags, piece->length,
		       qbd_make_tag(conn->hwq, rq->tag, piece->index, cmd->gen),
		       dev->volume_id, dev->epoch, piece->offset);
	if (flags & QBD_REQ_CRC)
		msg->hdr.crc32c = cpu_to_le32(tx->write_crc);
	if (opcode == QBD_OP_READ || opcode == QBD_OP_WRITE) {
		data_sges = qbd_rdma_map_pages(rc, tx, msg);
		if (tx->registered)
			first = &tx->reg_wr.wr;
	}
	ib_dma_sync_single_for_device(rc->ibdev, qbd_rdma_msg_dma(rc, i),
				      sizeof(*msg), DMA_TO_DEVICE);
	if (data_sges == -EAGAIN) {
		qbd_rdma_err(rc, "cannot DMA-map %s of %u bytes at %llu for %pISpc, trying again in %u ms\n",
			     blk_op_str(req_op(rq)), piece->length,
			     piece->offset, &conn->addr,
			     QBD_RDMA_REMAP_DELAY_MS);
		return QBD_RDMA_MAP_LATER;
	}
	if (data_sges < 0) {
		qbd_rdma_err(rc, "cannot register %s of %u bytes at %llu for %pISpc: %d, failing it\n",
			     blk_op_str(req_op(rq)), piece->length,
			     piece->offset, &conn->addr, data_sges);
		return QBD_RDMA_MAP_FAILED;
	}

	tx->sge[0] = (struct ib_sge) {
		.addr	= qbd_rdma_msg_dma(rc, i),
		.length	= sizeof(*msg),
		.lkey	= rc->pd->local_dma_lkey,
	};
	tx->send_wr = (struct ib_send_wr) {
		.wr_cqe		= &tx->send_cqe,
		.sg_list	= tx->sge,
		.num_sge	= 1 + data_sges,
		.opcode		= IB_WR_SEND,
		.send_flags	= IB_SEND_SIGNALED,
	};
	atomic_set(&tx->refs, 2);	/* the SEND and the reply */
	ret = ib_post_send(rc->qp, first, NULL);
	if (ret) {
		qbd_rdma_unmap_pages(rc, tx);
		return QBD_RDMA_QP_FAILED;
	}
	tx->posted = true;
	atomic64_inc(&conn->sent);
	return QBD_RDMA_POSTED;
}

/*
 * Find the piece a reply answers and take it off the in-flight list.
 * NULL when the reply matches nothing sent on this connection, as all
 * replies do before the first request: the map's handshake is over before
 * the tag set, which qbd_piece_in_flight() looks in, exists.
 */
static struct qbd_rdma_tx *qbd_rdma_claim(struct qbd_rdma_conn *rc,
					  u64 wire_tag)
{
	struct qbd_rdma_tx *tx = NULL;
	struct qbd_piece *piece = NULL;

	spin_lock(&rc->conn->lock);
	if (!list_empty(&rc->inflight))
		piece = qbd_piece_in_flight(rc->conn, wire_tag);
	if (piece) {
		tx = qbd_rdma_tx_of(rc, qbd_piece_rq(piece)->tag, piece->index);
		if (tx->posted && tx->piece == piece && !tx->claimed) {
			list_del_init(&piece->inflight_node);
			tx->claimed = true;
		} else {
			tx = NULL;
		}
	}
	spin_unlock(&rc->conn->lock);
	return tx;
}

/*
 * Invalidate @tx's region here: the reply is in, but did not invalidate
 * it.  The piece completes when the invalidation does.  If it cannot be
 * posted, the region stays registered, and the server could still write
 * into the pages, until the queue pair is rebuilt: the piece goes back in
 * flight and is sent again on the next one.
 */
static void qbd_rdma_invalidate(struct qbd_rdma_conn *rc,
				struct qbd_rdma_tx *tx)
{
	struct qbd_rdma_region *r = &rc->regions[qbd_piece_rq(tx->piece)->tag];
	int ret = -ENOTCONN;

	tx->inv_wr = (struct ib_send_wr) {
		.wr_cqe		= &tx->inv_cqe,
		.opcode		= IB_WR_LOCAL_INV,
		.send_flags	= IB_SEND_SIGNALED,
		.ex.invalidate_rkey = r->mr->rkey,
	};
	atomic_inc(&tx->refs);
	spin_lock(&rc->conn->lock);
	if (rc->conn->state == QBD_CONN_LIVE)
		ret = ib_post_send(rc->qp, &tx->inv_wr, NULL);
	if (ret)
		qbd_rdma_unclaim(rc, tx);
	spin_unlock(&rc->conn->lock);
	if (ret) {
		atomic_dec(&tx->refs);	/* the caller holds the reply's */
		if (ret != -ENOTCONN)
			qbd_rdma_err(rc, "cannot invalidate rkey %#x of %pISpc: %d, reconnecting\n",
				     r->mr->rkey, &rc->conn->addr, ret);
		qbd_rdma_error(rc);
	}
}

/*
 * Whether the reply @wc brought invalidated @tx's region, as a server that
 * agreed to QBD_FEAT_RDMA_REMOTE_INV does.  Another rkey leaves this one
 * registered (and may have been a region of a request the server has yet
 * to serve: that one then fails there and the connection is rebuilt).
 */
static bool qbd_rdma_remote_invalidated(struct qbd_rdma_conn *rc,
					struct qbd_rdma_tx *tx,
					const struct ib_wc *wc)
{
	u32 rkey = rc->regions[qbd_piece_rq(tx->piece)->tag].mr->rkey;

	if (!(wc->wc_flags & IB_WC_WITH_INVALIDATE))
		return false;
	if (wc->ex.invalidate_rkey == rkey)
		return true;
	qbd_rdma_err(rc, "reply from %pISpc invalidated rkey %#x, not %#x: invalidating it here\n",
		     &rc->conn->addr, wc->ex.invalidate_rkey, rkey);
	return false;
}

static int qbd_rdma_handle_reply(struct qbd_rdma_conn *rc,
				 const struct qbd_rdma_reply *msg,
				 const struct ib_wc *wc)
{
	const struct qbd_reply_hdr *reply = &msg->hdr;
	s32 status = (s32)le32_to_cpu(reply->status);
	u32 length = le32_to_cpu(reply->length);
	struct qbd_rdma_tx *tx;
	struct request *rq;
	int ret = 0;
	u32 flags;

	if (wc->byte_len < sizeof(*reply) ||
	    qbd_check_reply(reply, rc->conn->dev->crc ? QBD_REQ_CRC : 0)) {
		qbd_rdma_err(rc, "malformed reply from %pISpc\n",
			     &rc->conn->addr);
		return -EPROTO;
	}
	tx = qbd_rdma_claim(rc, le64_to_cpu(reply->tag));
	if (!tx) {
		qbd_rdma_err(rc, "reply from %pISpc for no request in flight (tag %llx)\n",
			     &rc->conn->addr, le64_to_cpu(reply->tag));
		return -EPROTO;
	}
	rq = qbd_piece_rq(tx->piece);
	if (le16_to_cpu(reply->opcode) != qbd_wire_opcode(rq, &flags) ||
	    length != (req_op(rq) == REQ_OP_READ && !status ?
		       tx->piece->length : 0) ||
	    !(le32_to_cpu(reply->flags) & QBD_REQ_CRC) !=
	    !(length && rc->conn->dev->crc)) {
		qbd_rdma_err(rc, "reply from %pISpc does not match its request, or has a crc32c where it has no data, or data without one\n",
			     &rc->conn->addr);
		tx->status = BLK_STS_IOERR;
		ret = -EPROTO;
	} else if (status == QBD_STATUS_STALE_EPOCH) {
		tx->stale = true;
	} else if (status == QBD_STATUS_BAD_CRC && rc->conn->dev->crc &&
		   req_op(rq) == REQ_OP_WRITE) {
		tx->bad_crc = true;
	} else if (status) {
		qbd_rdma_err(rc, "%s at %llu failed on %pISpc: %d\n",
			     blk_op_str(req_op(rq)), tx->piece->offset,
			     &rc->conn->addr, status);
		tx->status = qbd_status_to_blk(status);
	}
	tx->read_crc = le32_to_cpu(reply->crc32c);
	if (!ret)
		qbd_conn_answered(rc->conn);
	if (tx->registered && !qbd_rdma_remote_invalidated(rc, tx, wc))
		qbd_rdma_invalidate(rc, tx);
	qbd_rdma_tx_put(tx);
	return ret;
}

static int qbd_rdma_post_recv(struct qbd_rdma_conn *rc, struct qbd_rdma_rx *rx)
{
	return ib_post_recv(rc->qp, &rx->wr, NULL);
}

static void qbd_rdma_recv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct qbd_rdma_rx *rx = container_of(wc->wr_cqe, struct qbd_rdma_rx,
					      cqe);
	struct qbd_rdma_conn *rc = cq->cq_context;
	struct qbd_rdma_reply *msg = &rc->replies[rx - rc->rx];
	int ret;

	if (wc->status != IB_WC_SUCCESS) {
		qbd_rdma_wc_failed(rc, wc, "receive");
		if (READ_ONCE(rc->in_setup)) {
			/* The handshake's reply will not come: fail it now. */
			rc->setup_status = -ECONNRESET;
			complete(&rc->setup_done);
		}
		return;
	}
	ib_dma_sync_single_for_cpu(rc->ibdev, rx->sge.addr, sizeof(*msg),
				   DMA_FROM_DEVICE);
	if (READ_ONCE(rc->in_setup)) {
		memcpy(&rc->setup_reply, msg,
		       min_t(u32, wc->byte_len, sizeof(*msg)));
		ret = 0;
		complete(&rc->setup_done);
	} else {
		ret = qbd_rdma_handle_reply(rc, msg, wc);
	}
	ib_dma_sync_single_for_device(rc->ibdev, rx->sge.addr, sizeof(*msg),
				      DMA_FROM_DEVICE);
	if (ret || qbd_rdma_post_recv(rc, rx))
		qbd_rdma_error(rc);
}

static void qbd_rdma_setup_sent(struct ib_cq *cq, struct ib_wc *wc)
{
	struct qbd_rdma_conn *rc = cq->cq_context;

	if (wc->status != IB_WC_SUCCESS)
		rc->setup_status = -ECONNRESET;
	complete(&rc->setup_sent);
}

/* One request/reply exchange of the handshake (a qbd_call_fn). */
static int qbd_rdma_call(void *ctx, u16 opcode, const void *payload, u32 len,
			 void *reply_payload, u32 reply_len)
{
	struct qbd_rdma_conn *rc = ctx;
	struct qbd_device *dev = rc->conn->dev;
	unsigned long timeout = msecs_to_jiffies(QBD_CONNECT_TIMEOUT_MS);
	struct qbd_rdma_req *msg = &rc->msgs[rc->nr_tx];
	struct ib_sge sge = {
		.addr	= qbd_rdma_msg_dma(rc, rc->nr_tx),
		.length	= sizeof(*msg),
		.lkey	= rc->pd->local_dma_lkey,
	};
	struct ib_send_wr wr = {
		.wr_cqe		= &rc->setup_cqe,
		.sg_list	= &sge,
		.num_sge	= 1,
		.opcode		= IB_WR_SEND,
		.send_flags	= IB_SEND_SIGNALED,
	};
	int ret;

	if (len > QBD_RDMA_INLINE_MAX || reply_len > QBD_RDMA_INLINE_MAX)
		return -EINVAL;
	ib_dma_sync_single_for_cpu(rc->ibdev, sge.addr, sizeof(*msg),
				   DMA_TO_DEVICE);
	memset(msg, 0, sizeof(*msg));
	qbd_encode_req(&msg->hdr, opcode, qbd_setup_flags(dev, opcode), len, 0,
		       dev->volume_id, dev->epoch, 0);
	memcpy(msg->payload, payload, len);
	ib_dma_sync_single_for_device(rc->ibdev, sge.addr, sizeof(*msg),
				      DMA_TO_DEVICE);

	reinit_completion(&rc->setup_sent);
	reinit_completion(&rc->setup_done);
	rc->setup_status = 0;
	ret = ib_post_send(rc->qp, &wr, NULL);
	if (ret)
		return ret;
	if (!wait_for_completion_timeout(&rc->setup_sent, timeout) ||
	    !wait_for_completion_timeout(&rc->setup_done, timeout))
		return -ETIMEDOUT;
	if (rc->setup_status)
		return rc->setup_status;
	ret = qbd_reply_status(&rc->setup_reply.hdr, opcode, reply_len);
	if (ret)
		return ret;
	memcpy(reply_payload, rc->setup_reply.payload, reply_len);
	return 0;
}

static int qbd_rdma_cm_handler(struct rdma_cm_id *id,
			       struct rdma_cm_event *ev)
{
	struct qbd_rdma_conn *rc = id->context;

	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
	case RDMA_CM_EVENT_ESTABLISHED:
		rc->cm_status = 0;
		complete(&rc->cm_done);
		break;
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
		/* No RDMA device reaches the address: the tool says so. */
		rc->cm_status = -EADDRNOTAVAIL;
		complete(&rc->cm_done);
		break;
	case RDMA_CM_EVENT_UNREACHABLE:
		rc->cm_status = -EHOSTUNREACH;
		complete(&rc->cm_done);
		break;
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_REJECTED:
		rc->cm_status = -ECONNREFUSED;
		complete(&rc->cm_done);
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
	case RDMA_CM_EVENT_ADDR_CHANGE:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		qbd_rdma_error(rc);
		break;
	default:
		break;
	}
	return 0;	/* the worker destroys the id, never the handler */
}

static int qbd_rdma_wait_cm(struct qbd_rdma_conn *rc)
{
	long left = wait_for_completion_interruptible_timeout(&rc->cm_done,
			msecs_to_jiffies(QBD_CONNECT_TIMEOUT_MS));

	if (left < 0)
		return left;
	return left ? rc->cm_status : -ETIMEDOUT;
}

static void qbd_rdma_free_queue(struct qbd_rdma_conn *rc)
{
	unsigned int i;

	if (rc->cm_id && rc->qp)
		rdma_destroy_qp(rc->cm_id);
	rc->qp = NULL;
	if (rc->cq)
		ib_free_cq(rc->cq);
	rc->cq = NULL;
	if (rc->regions)
		for (i = 0; i < rc->conn->dev->queue_depth; i++)
			if (!IS_ERR_OR_NULL(rc->regions[i].mr))
				ib_dereg_mr(rc->regions[i].mr);
	kvfree(rc->regions);
	rc->regions = NULL;
	if (rc->msgs_dma)
		ib_dma_unmap_single(rc->ibdev, rc->msgs_dma,
				    (rc->nr_tx + 1) * sizeof(*rc->msgs),
				    DMA_TO_DEVICE);
	rc->msgs_dma = 0;
	if (rc->replies_dma)
		ib_dma_unmap_single(rc->ibdev, rc->replies_dma,
				    rc->nr_rx * sizeof(*rc->replies),
				    DMA_FROM_DEVICE);
	rc->replies_dma = 0;
	if (rc->pd)
		ib_dealloc_pd(rc->pd);
	rc->pd = NULL;
	if (rc->cm_id)
		rdma_destroy_id(rc->cm_id);
	rc->cm_id = NULL;
}

static int qbd_rdma_map_buffers(struct qbd_rdma_conn *rc)
{
	rc->msgs_dma = ib_dma_map_single(rc->ibdev, rc->msgs,
					 (rc->nr_tx + 1) * sizeof(*rc->msgs),
					 DMA_TO_DEVICE);
	if (ib_dma_mapping_error(rc->ibdev, rc->msgs_dma)) {
		rc->msgs_dma = 0;
		return -ENOMEM;
	}
	rc->replies_dma = ib_dma_map_single(rc->ibdev, rc->replies,
					    rc->nr_rx * sizeof(*rc->replies),
					    DMA_FROM_DEVICE);
	if (ib_dma_mapping_error(rc->ibdev, rc->replies_dma)) {
		rc->replies_dma = 0;
		return -ENOMEM;
	}
	return 0;
}

/* Protection domain, completion queue, queue pair, regions, receives. */
static int qbd_rdma_alloc_queue(struct qbd_rdma_conn *rc)
{
	struct qbd_device *dev = rc->conn->dev;
	struct ib_qp_init_attr attr = {};
	unsigned int i, send_wrs = rc->nr_tx * 3 + 1;
	int ret;

	rc->ibdev = rc->cm_id->device;
	if (send_wrs + 1 > rc->ibdev->attrs.max_qp_wr ||
	    rc->nr_rx + 1 > rc->ibdev->attrs.max_qp_wr)
		return -EINVAL;		/* a smaller queue_depth would fit */
	rc->pd = ib_alloc_pd(rc->ibdev, 0);
	if (IS_ERR(rc->pd)) {
		ret = PTR_ERR(rc->pd);
		rc->pd = NULL;
		return ret;
	}
	ret = qbd_rdma_map_buffers(rc);
	if (ret)
		return ret;
	rc->cq = ib_alloc_cq(rc->ibdev, rc, send_wrs + rc->nr_rx + 2,
			     rc->conn->hwq % rc->ibdev->num_comp_vectors,
			     IB_POLL_SOFTIRQ);
	if (IS_ERR(rc->cq)) {
		ret = PTR_ERR(rc->cq);
		rc->cq = NULL;
		return ret;
	}
	attr.qp_context = rc;
	attr.send_cq = rc->cq;
	attr.recv_cq = rc->cq;
	attr.cap.max_send_wr = send_wrs + 1;	/* + the drain */
	attr.cap.max_recv_wr = rc->nr_rx + 1;
	rc->inline_sges = clamp(rc->ibdev->attrs.max_send_sge - 1, 0,
				QBD_RDMA_INLINE_SGES);
	attr.cap.max_send_sge = 1 + rc->inline_sges;
	attr.cap.max_recv_sge = 1;
	attr.sq_sig_type = IB_SIGNAL_REQ_WR;
	attr.qp_type = IB_QPT_RC;
	ret = rdma_create_qp(rc->cm_id, rc->pd, &attr);
	if (ret)
		return ret;
	rc->qp = rc->cm_id->qp;

	rc->regions = kvcalloc(dev->queue_depth, sizeof(*rc->regions),
			       GFP_KERNEL);
	if (!rc->regions)
		return -ENOMEM;
	for (i = 0; i < dev->queue_depth; i++) {
		rc->regions[i].sgl = &rc->sgls[i * rc->max_pages];
		rc->regions[i].mr = ib_alloc_mr(rc->pd, IB_MR_TYPE_MEM_REG,
						rc->max_pages);
		if (IS_ERR(rc->regions[i].mr))
			return PTR_ERR(rc->regions[i].mr);
	}
	for (i = 0; i < rc->nr_rx; i++) {
		struct qbd_rdma_rx *rx = &rc->rx[i];

		rx->cqe.done = qbd_rdma_recv_done;
		rx->sge.addr = rc->replies_dma + i * sizeof(*rc->replies);
		rx->sge.length = sizeof(*rc->replies);
		rx->sge.lkey = rc->pd->local_dma_lkey;
		rx->wr.wr_cqe = &rx->cqe;
		rx->wr.sg_list = &rx->sge;
		rx->wr.num_sge = 1;
		ret = qbd_rdma_post_recv(rc, rx);
		if (ret)
			return ret;
	}
	return 0;
}

/* A connected queue pair, through the handshake, or an error. */
static int qbd_rdma_open(struct qbd_rdma_conn *rc)
{
	struct qbd_conn *conn = rc->conn;
	struct qbd_device *dev = conn->dev;
	struct rdma_conn_param param = {};
	const char *step = "address resolution";
	struct rdma_cm_id *id;
	int ret;

	id = rdma_create_id(dev->net, qbd_rdma_cm_handler, rc, RDMA_PS_TCP,
			    IB_QPT_RC);
	if (IS_ERR(id))
		return PTR_ERR(id);
	rc->cm_id = id;
	clear_bit(QBD_RDMA_ERROR, &rc->flags);

	reinit_completion(&rc->cm_done);
	ret = rdma_resolve_addr(id, NULL, (struct sockaddr *)&conn->addr,
				QBD_CONNECT_TIMEOUT_MS);
	if (ret == -ENODEV)
		ret = -EADDRNOTAVAIL;	/* no RDMA device at all */
	if (!ret)
		ret = qbd_rdma_wait_cm(rc);
	if (ret)
		goto out;
	step = "route resolution";
	reinit_completion(&rc->cm_done);
	ret = rdma_resolve_route(id, QBD_CONNECT_TIMEOUT_MS);
	if (!ret)
		ret = qbd_rdma_wait_cm(rc);
	if (ret)
		goto out;
	step = "queue pair setup";
	ret = qbd_rdma_alloc_queue(rc);
	if (ret)
		goto out;

	/* The server RDMA-READs write data from us. */
	param.responder_resources = min_t(int, 16,
					  rc->ibdev->attrs.max_qp_rd_atom);
	param.initiator_depth = 0;
	param.retry_count = 7;
	param.rnr_retry_count = 7;
	WRITE_ONCE(rc->in_setup, true);
	step = "connect";
	reinit_completion(&rc->cm_done);
	ret = rdma_connect(id, &param);
	if (!ret)
		ret = qbd_rdma_wait_cm(rc);
	if (!ret) {
		step = "handshake";
		ret = qbd_handshake(conn, qbd_rdma_features(conn->dev), qbd_rdma_call, rc);
	}
	WRITE_ONCE(rc->in_setup, false);
out:
	if (ret) {
		qbd_rdma_err(rc, "RDMA %s with %pISpc failed: %d\n", step,
			     &conn->addr, ret);
		if (rc->qp) {
			rdma_disconnect(id);
			ib_drain_qp(rc->qp);
		}
		qbd_rdma_free_queue(rc);
	}
	return ret;
}

/* Fail the pieces on @list, which the caller took off the connection. */
static void qbd_rdma_fail_list(struct list_head *list)
{
	struct qbd_piece *piece, *next;

	list_for_each_entry_safe(piece, next, list, inflight_node) {
		list_del_init(&piece->inflight_node);
		qbd_piece_complete(piece, BLK_STS_IOERR);
	}
}

/*
 * Post every piece in flight that is not on the wire, in order: after a
 * reconnect all of them, else those that waited for a DMA mapping (which
 * are kept for another try if they still do).  Pieces whose pages cannot
 * be registered move to @failed, for the caller to fail once it let go of
 * the lock.  False when the queue pair took no post.  Under conn->lock,
 * LIVE.
 */
static bool qbd_rdma_post_waiting(struct qbd_rdma_conn *rc,
				  struct list_head *failed)
{
	struct qbd_piece *piece, *next;
	struct qbd_rdma_tx *tx;

	lockdep_assert_held(&rc->conn->lock);
	clear_bit(QBD_RDMA_REMAP, &rc->flags);
	list_for_each_entry_safe(piece, next, &rc->inflight, inflight_node) {
		tx = qbd_rdma_tx_of(rc, qbd_piece_rq(piece)->tag, piece->index);
		if (tx->posted)
			continue;
		switch (qbd_rdma_post(rc, piece)) {
		case QBD_RDMA_POSTED:
			break;
		case QBD_RDMA_MAP_LATER:
			set_bit(QBD_RDMA_REMAP, &rc->flags);
			break;
		case QBD_RDMA_MAP_FAILED:
			list_move_tail(&piece->inflight_node, failed);
			break;
		case QBD_RDMA_QP_FAILED:
			return false;
		}
	}
	return true;
}

/*
 * The queue pair broke, or is being shut down: stop posting, flush every
 * work request, release the registrations of what was in flight and keep
 * it for the next connection; with another path, IO goes there instead,
 * and what has spent its retry budget fails.
 */
static void qbd_rdma_close(struct qbd_rdma_conn *rc)
{
	struct qbd_piece *piece, *next;
	LIST_HEAD(reroute);
	LIST_HEAD(expired);

	/* Not LIVE (the caller moved it): nothing is posted any more. */
	if (!rc->cm_id)
		return;
	rdma_disconnect(rc->cm_id);
	ib_drain_qp(rc->qp);

	spin_lock_bh(&rc->conn->lock);
	list_for_each_entry_safe(piece, next, &rc->inflight, inflight_node) {
		struct request *rq = qbd_piece_rq(piece);
		struct qbd_rdma_tx *tx = qbd_rdma_tx_of(rc, rq->tag,
							piece->index);

		if (tx->posted && tx->piece == piece) {
			qbd_rdma_unmap_pages(rc, tx);
			tx->posted = false;
		}
		/* The request's retry budget is spent: fail it, as TCP does. */
		if (qbd_piece_expired(piece))
			list_move_tail(&piece->inflight_node, &expired);
		else if (qbd_piece_can_reroute(piece))
			list_move_tail(&piece->inflight_node, &reroute);
	}
	spin_unlock_bh(&rc->conn->lock);
	qbd_rdma_free_queue(rc);

	list_for_each_entry_safe(piece, next, &reroute, inflight_node) {
		list_del_init(&piece->inflight_node);
		qbd_piece_reroute(piece);
	}
	list_for_each_entry_safe(piece, next, &expired, inflight_node) {
		list_del_init(&piece->inflight_node);
		qbd_piece_complete(piece, BLK_STS_IOERR);
	}
}

/* Take every piece off the connection and fail it.  Not connected. */
static void qbd_rdma_fail_inflight(struct qbd_rdma_conn *rc)
{
	LIST_HEAD(failed);

	spin_lock_bh(&rc->conn->lock);
	list_splice_init(&rc->inflight, &failed);
	spin_unlock_bh(&rc->conn->lock);
	qbd_rdma_fail_list(&failed);
}

/* FAILED: fail what waits; what comes fails in qbd_rdma_queue(). */
static void qbd_rdma_give_up(void *ctx)
{
	qbd_rdma_fail_inflight(ctx);
}

static int qbd_rdma_reopen(void *ctx)
{
	return qbd_rdma_open(ctx);
}

static const struct qbd_reconnect_ops qbd_rdma_reconnect_ops = {
	.open		= qbd_rdma_reopen,
	.give_up	= qbd_rdma_give_up,
};

/* Connected again: send everything that waited, in order. */
static void qbd_rdma_resume(struct qbd_rdma_conn *rc)
{
	LIST_HEAD(failed);
	bool ok;

	spin_lock_bh(&rc->conn->lock);
	if (!__qbd_conn_change_state(rc->conn, QBD_CONN_LIVE)) {
		/* Closed meanwhile: the worker is told, and stops. */
		spin_unlock_bh(&rc->conn->lock);
		return;
	}
	ok = qbd_rdma_post_waiting(rc, &failed);
	spin_unlock_bh(&rc->conn->lock);
	qbd_rdma_fail_list(&failed);
	if (!ok)
		qbd_rdma_error(rc);
}

/* Try again what waited for a DMA mapping, unless the queue pair broke. */
static void qbd_rdma_remap(struct qbd_rdma_conn *rc)
{
	LIST_HEAD(failed);
	bool ok = true;

	spin_lock_bh(&rc->conn->lock);
	if (rc->conn->state == QBD_CONN_LIVE &&
	    !test_bit(QBD_RDMA_ERROR, &rc->flags))
		ok = qbd_rdma_post_waiting(rc, &failed);
	spin_unlock_bh(&rc->conn->lock);
	qbd_rdma_fail_list(&failed);
	if (!ok)
		qbd_rdma_error(rc);
}

/* The queue pair must be rebuilt, or the connection ends. */
static bool qbd_rdma_broken(struct qbd_rdma_conn *rc)
{
	return test_bit(QBD_RDMA_ERROR, &rc->flags) ||
	       qbd_conn_closing(rc->conn);
}

static int qbd_rdma_worker(void *data)
{
	struct qbd_rdma_conn *rc = data;
	struct qbd_conn *conn = rc->conn;

	for (;;) {
		wait_event_interruptible(rc->wait, qbd_rdma_broken(rc) ||
					 test_bit(QBD_RDMA_REMAP, &rc->flags));
		if (qbd_conn_closing(conn))
			break;
		if (!test_bit(QBD_RDMA_ERROR, &rc->flags)) {
			/* Give the mapping time; a broken queue pair goes first. */
			wait_event_interruptible_timeout(rc->wait, qbd_rdma_broken(rc),
							 msecs_to_jiffies(QBD_RDMA_REMAP_DELAY_MS));
			qbd_rdma_remap(rc);
			continue;
		}
		qbd_conn_change_state(conn, QBD_CONN_CONNECTING);
		qbd_rdma_close(rc);
		qbd_rdma_err(rc, "RDMA connection to %pISpc lost, reconnecting\n",
			     &conn->addr);
		if (qbd_reconnect(conn, &qbd_rdma_reconnect_ops, rc))
			break;
		qbd_rdma_resume(rc);
	}
	qbd_rdma_close(rc);
	qbd_conn_change_state(conn, QBD_CONN_DOWN);
	qbd_rdma_fail_inflight(rc);

	qbd_wait_for_stop();
	return 0;
}

static void qbd_rdma_free(struct qbd_rdma_conn *rc)
{
	kvfree(rc->rx);
	kvfree(rc->tx);
	kvfree(rc->sgls);
	kfree(rc->replies);
	kfree(rc->msgs);
	kfree(rc);
}

static struct qbd_rdma_conn *qbd_rdma_alloc(struct qbd_conn *conn)
{
	struct qbd_device *dev = conn->dev;
	struct qbd_rdma_conn *rc;
	unsigned int i;

	rc = kzalloc_obj(*rc, GFP_KERNEL);
	if (!rc)
		return NULL;
	rc->conn = conn;
	rc->nr_tx = dev->queue_depth * QBD_MAX_PIECES;
	rc->nr_rx = rc->nr_tx + 1;
	rc->max_pages = (dev->max_io_bytes >> PAGE_SHIFT) + 1;
	INIT_LIST_HEAD(&rc->inflight);
	init_waitqueue_head(&rc->wait);
	init_completion(&rc->cm_done);
	init_completion(&rc->setup_sent);
	init_completion(&rc->setup_done);
	rc->setup_cqe.done = qbd_rdma_setup_sent;

	/* Message buffers are DMA-mapped whole: physically contiguous. */
	rc->msgs = kcalloc(rc->nr_tx + 1, sizeof(*rc->msgs), GFP_KERNEL);
	rc->replies = kcalloc(rc->nr_rx, sizeof(*rc->replies), GFP_KERNEL);
	rc->sgls = kvcalloc(array_size(dev->queue_depth, rc->max_pages),
			    sizeof(*rc->sgls), GFP_KERNEL);
	rc->tx = kvcalloc(rc->nr_tx, sizeof(*rc->tx), GFP_KERNEL);
	rc->rx = kvcalloc(rc->nr_rx, sizeof(*rc->rx), GFP_KERNEL);
	if (!rc->msgs || !rc->replies || !rc->sgls || !rc->tx || !rc->rx) {
		qbd_rdma_free(rc);
		return NULL;
	}
	for (i = 0; i < rc->nr_tx; i++) {
		rc->tx[i].rc = rc;
		rc->tx[i].send_cqe.done = qbd_rdma_send_done;
		rc->tx[i].inv_cqe.done = qbd_rdma_inv_done;
	}
	return rc;
}

static int qbd_rdma_connect(struct qbd_conn *conn)
{
	struct qbd_rdma_conn *rc;
	int ret;

	rc = qbd_rdma_alloc(conn);
	if (!rc)
		return -ENOMEM;
	qbd_conn_change_state(conn, QBD_CONN_CONNECTING);
	ret = qbd_rdma_open(rc);
	if (ret) {
		qbd_rdma_free(rc);
		qbd_conn_change_state(conn, QBD_CONN_DOWN);
		return ret;
	}
	conn->priv = rc;
	qbd_conn_change_state(conn, QBD_CONN_LIVE);
	return 0;
}

static int qbd_rdma_start(struct qbd_conn *conn)
{
	struct qbd_rdma_conn *rc = qbd_rdma(conn);
	struct task_struct *t;

	t = kthread_run(qbd_rdma_worker, rc, "qbd%d-rdma%u.%u",
			conn->dev->index, conn->addr_index, conn->hwq);
	if (IS_ERR(t))
		return PTR_ERR(t);
	rc->worker = t;
	return 0;
}

/*
 * From queue_rq: post at once; while reconnecting, or until its pages can
 * be DMA-mapped, hold the piece.
 */
static bool qbd_rdma_queue(struct qbd_conn *conn, struct qbd_piece *piece)
{
	struct qbd_rdma_conn *rc = qbd_rdma(conn);
	struct request *rq = qbd_piece_rq(piece);
	enum qbd_rdma_post_result res = QBD_RDMA_POSTED;
	int state;

	/*
	 * Outside the lock, once: a resend on a rebuilt queue pair sends the
	 * same pages, which stable writes keep still (O_DIRECT data changed
	 * in flight fails the server's check, and is checksummed afresh).
	 */
	if (conn->dev->crc && req_op(rq) == REQ_OP_WRITE)
		qbd_rdma_tx_of(rc, rq->tag, piece->index)->write_crc =
			qbd_crc_bios(conn->dev->crc, rq->bio);
	spin_lock_bh(&conn->lock);
	state = conn->state;
	if (!qbd_conn_takes_io(state)) {
		spin_unlock_bh(&conn->lock);
		return false;
	}
	/* Lost since routing looked: another path may be live. */
	if (state != QBD_CONN_LIVE && qbd_piece_can_reroute(piece)) {
		spin_unlock_bh(&conn->lock);
		qbd_piece_reroute(piece);
		return true;
	}
	list_add_tail(&piece->inflight_node, &rc->inflight);
	if (state == QBD_CONN_LIVE)
		res = qbd_rdma_post(rc, piece);
	if (res == QBD_RDMA_MAP_FAILED)
		list_del_init(&piece->inflight_node);
	spin_unlock_bh(&conn->lock);

	switch (res) {
	case QBD_RDMA_POSTED:
		break;
	case QBD_RDMA_MAP_LATER:
		set_bit(QBD_RDMA_REMAP, &rc->flags);
		wake_up(&rc->wait);
		break;
	case QBD_RDMA_MAP_FAILED:
		qbd_piece_complete(piece, BLK_STS_IOERR);
		break;
	case QBD_RDMA_QP_FAILED:
		/* Kept in flight: resent once the queue pair is rebuilt. */
		qbd_rdma_error(rc);
		break;
	}
	return true;
}

static void qbd_rdma_reset(struct qbd_conn *conn)
{
	struct qbd_rdma_conn *rc = qbd_rdma(conn);

	if (rc)
		qbd_rdma_error(rc);
}

static void qbd_rdma_abort(struct qbd_conn *conn)
{
	struct qbd_rdma_conn *rc = qbd_rdma(conn);

	if (!rc)
		return;
	qbd_conn_change_state(conn, QBD_CONN_CLOSING);
	wake_up(&rc->wait);
	/* A worker asleep between reconnect attempts. */
	if (rc->worker)
		wake_up_process(rc->worker);
}

static void qbd_rdma_release(struct qbd_conn *conn)
{
	struct qbd_rdma_conn *rc = qbd_rdma(conn);

	if (!rc)
		return;
	qbd_rdma_abort(conn);
	if (rc->worker) {
		kthread_stop(rc->worker);
	} else {
		qbd_rdma_close(rc);	/* connected, never started */
		qbd_rdma_fail_inflight(rc);
	}
	conn->priv = NULL;
	qbd_rdma_free(rc);
}

static const struct qbd_transport_ops qbd_rdma_ops = {
	.name		= "rdma",
	.owner		= THIS_MODULE,
	.page_segments	= true,
	.connect	= qbd_rdma_connect,
	.start		= qbd_rdma_start,
	.queue		= qbd_rdma_queue,
	.reset		= qbd_rdma_reset,
	.abort		= qbd_rdma_abort,
	.release	= qbd_rdma_release,
};

static int __init qbd_rdma_init(void)
{
	BUILD_BUG_ON(sizeof(struct qbd_rdma_req) != 256);
	BUILD_BUG_ON(sizeof(struct qbd_rdma_reply) != 192);
	return qbd_register_transport(QBD_TRANSPORT_RDMA, &qbd_rdma_ops);
}

static void __exit qbd_rdma_exit(void)
{
	/* No device uses it: each holds a reference on this module. */
	qbd_unregister_transport(QBD_TRANSPORT_RDMA);
}

module_init(qbd_rdma_init);
module_exit(qbd_rdma_exit);

MODULE_AUTHOR("qbd developers");
MODULE_DESCRIPTION("qbd network block device: RDMA transport");
MODULE_LICENSE("GPL");
MODULE_VERSION(QBD_MODULE_VERSION);
