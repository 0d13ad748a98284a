// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: TCP transport.  Each connection has a send thread, fed by
 * queue_rq through a list, and a receive thread that owns the connection's
 * life.  Replies are read in the socket's data_ready callback, straight
 * from the socket buffers into the request's pages, and complete their
 * requests there: no thread is woken per reply.
 *
 * Ownership of a piece: queue_rq puts it on the in-flight list of its
 * connection, and on the send list while the connection is up.  The send
 * thread takes it off the send list before writing it and never touches it
 * after the last byte is written.  Whoever takes it off the in-flight list
 * (the receive path on a reply, or a failure sweep) completes it; a piece
 * whose reply data was cut off by a broken connection goes back on the
 * list and is sent again.
 *
 * A lost connection is re-established by its receive thread, which sleeps
 * until the socket breaks: it takes the callbacks off the socket, reads
 * what replies are left in it, stops the sender, reconnects with exponential
 * backoff, puts everything in flight back on the send list and restarts
 * the sender.  After the give-up time, what waits fails with EIO and new
 * IO fails at once until a reconnect succeeds.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/highmem.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/sched/mm.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "linux/blkdev_compat.h"
#include "linux/slab_compat.h"
#include "linux/net_compat.h"
#include "qbd.h"

#define QBD_TCP_FEATURES (QBD_FEAT_FUA | QBD_FEAT_DISCARD | \
			  QBD_FEAT_WRITE_ZEROES)

/* What a connection of @dev asks for in HELLO. */
static u64 qbd_tcp_features(const struct qbd_device *dev)
{
	return QBD_TCP_FEATURES | (dev->crc ? QBD_FEAT_CRC32C : 0);
}

struct qbd_tcp_conn {
	struct qbd_conn		*conn;

	struct mutex		sock_mutex;	/* @sock may be replaced */
	struct socket		*sock;		/* protected by sock_mutex */
	/* Bumped with every new @sock, before its callbacks are hooked. */
	u32			sock_gen;

	/*
	 * Protected by conn->lock, with conn->state: pieces are sent while
	 * LIVE, held while CONNECTING, refused while FAILED or CLOSING.
	 */
	struct list_head	send_list;
	struct list_head	inflight;

	/*
	 * Held while writing to the socket, by the send thread or by
	 * queue_rq sending inline when the connection is idle.
	 */
	struct mutex		send_mutex;
	wait_queue_head_t	send_wait;
	/* Both live as long as the connection, across reconnects. */
	struct task_struct	*send_thread;
	struct task_struct	*recv_thread;

	/* Heartbeat state, written by the send thread and the receive path. */
	atomic_t		hb_outstanding;
	unsigned long		hb_sent;	/* jiffies */

	/*
	 * Receive state.  While the callbacks are on the socket, only its
	 * data_ready touches these; the socket lock serializes its calls.
	 * Once the receive thread has taken the callbacks off, it owns them.
	 */
	struct qbd_reply_hdr	rx_hdr;
	u32			rx_hdr_len;	/* bytes of rx_hdr read */
	struct qbd_piece	*rx_piece;	/* claimed; its data comes next */
	struct bio		*rx_bio;	/* the bio rx_iter fills */
	struct iov_iter		rx_iter;
	int			rx_err;		/* stops receiving until reset */
	wait_queue_head_t	rx_wait;	/* the receive thread's sleep */
	void			(*saved_data_ready)(struct sock *sk);
	void			(*saved_state_change)(struct sock *sk);
};

static struct qbd_tcp_conn *qbd_tcp(struct qbd_conn *conn)
{
	return conn->priv;
}

static struct device *qbd_conn_dev(struct qbd_conn *conn)
{
	return disk_to_dev(conn->dev->disk);
}

/* Send all of @len bytes; the socket's send timeout bounds the wait. */
static int qbd_tcp_send_buf(struct socket *sock, const void *buf, size_t len,
			    int flags)
{
	struct kvec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = flags | MSG_NOSIGNAL };
	int ret;

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &iov, 1, len);
	while (msg_data_left(&msg)) {
		ret = sock_sendmsg(sock, &msg);
		if (ret <= 0)
			return ret ?: -EPIPE;
	}
	return 0;
}

/* Receive all of @len bytes; used only before the callbacks are hooked. */
static int qbd_tcp_recv_buf(struct socket *sock, void *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {};
	int ret;

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &iov, 1, len);
	while (msg_data_left(&msg)) {
		ret = sock_recvmsg(sock, &msg, MSG_WAITALL | MSG_NOSIGNAL);
		if (ret <= 0)
			return ret ?: -ECONNRESET;
	}
	return 0;
}

/*
 * One request/reply exchange of the handshake (a qbd_call_fn).  Returns
 * the server's status, or a negative errno when the exchange failed.
 */
static int qbd_tcp_call(void *ctx, u16 opcode, const void *payload, u32 len,
			void *reply_payload, u32 reply_len)
{
	struct qbd_tcp_conn *tc = ctx;
	struct qbd_device *dev = tc->conn->dev;
	struct qbd_req_hdr req;
	struct qbd_reply_hdr reply;
	int ret;

	qbd_encode_req(&req, opcode, qbd_setup_flags(dev, opcode), len, 0,
		       dev->volume_id, dev->epoch, 0);
	ret = qbd_tcp_send_buf(tc->sock, &req, sizeof(req), len ? MSG_MORE : 0);
	if (!ret && len)
		ret = qbd_tcp_send_buf(tc->sock, payload, len, 0);
	if (ret)
		return ret;

	ret = qbd_tcp_recv_buf(tc->sock, &reply, sizeof(reply));
	if (!ret)
		ret = qbd_reply_status(&reply, opcode, reply_len);
	if (ret)
		return ret;
	return reply_len ? qbd_tcp_recv_buf(tc->sock, reply_payload, reply_len) : 0;
}

/*
 * Note where in the socket's byte stream the request of @piece begins, just
 * before it is written: called under conn->lock by the one writer of the
 * socket (send_mutex held), so nothing else moves write_seq meanwhile.
 */
static void qbd_tcp_mark_sending(struct qbd_tcp_conn *tc,
				 struct qbd_piece *piece)
{
	struct request *rq = qbd_piece_rq(piece);

	lockdep_assert_held(&tc->conn->lock);
	lockdep_assert_held(&tc->send_mutex);
	piece->tx_sock_gen = tc->sock_gen;
	piece->tx_seq = READ_ONCE(tcp_sk(tc->sock->sk)->write_seq);
	piece->tx_bytes = sizeof(struct qbd_req_hdr) +
		(req_op(rq) == REQ_OP_WRITE ? piece->length : 0);
}

/*
 * Whether the server's TCP has acknowledged all of @piece's request: a
 * server can answer only what it has received, and every segment it sends
 * acknowledges what it received, so the segment bringing a true reply has
 * moved snd_una past the request before the reply is read (the reply path
 * runs after TCP took the segment's acknowledgment).  Counting from the
 * request's start, this holds until 4 GiB more have been acknowledged
 * behind it, which a request unanswered that long does not survive.
 */
static bool qbd_tcp_peer_has_all(struct qbd_tcp_conn *tc, struct sock *sk,
				 const struct qbd_piece *piece)
{
	return piece->tx_sock_gen == tc->sock_gen &&
	       READ_ONCE(tcp_sk(sk)->snd_una) - piece->tx_seq >=
	       piece->tx_bytes;
}

/*
 * Find the piece a reply answers and take ownership of it.  Anything that
 * does not match a piece sent on this connection is a protocol error, and
 * so is a reply to a request the server cannot have had all of yet:
 * taking it would complete a write whose data never arrived, and free the
 * bios the sender is still walking.  Returns the piece, or an ERR_PTR.
 */
static struct qbd_piece *qbd_tcp_claim(struct qbd_tcp_conn *tc,
				       struct sock *sk, u64 wire_tag)
{
	struct qbd_piece *piece;

	spin_lock_bh(&tc->conn->lock);
	piece = qbd_piece_in_flight(tc->conn, wire_tag);
	/* One still waiting to be sent again cannot have been answered. */
	if (!piece || !list_empty(&piece->send_node))
		piece = ERR_PTR(-ENOENT);
	else if (!qbd_tcp_peer_has_all(tc, sk, piece))
		piece = ERR_PTR(-EINPROGRESS);
	else
		list_del_init(&piece->inflight_node);
	spin_unlock_bh(&tc->conn->lock);
	return piece;
}

/*
 * A payload failed its crc32c, on its way here or to the server: the
 * connection is reset, and the piece sent again on the new one until its
 * retries run out (qbd_crc_mismatch).  Returns the error that resets.
 */
static int qbd_tcp_crc_mismatch(struct qbd_tcp_conn *tc,
				struct qbd_piece *piece)
{
	if (qbd_crc_mismatch(tc->conn, piece)) {
		spin_lock_bh(&tc->conn->lock);
		list_add_tail(&piece->inflight_node, &tc->inflight);
		spin_unlock_bh(&tc->conn->lock);
	}
	return -EBADMSG;
}

/*
 * Complete a piece whose reply, with any data, is in.  Non-zero when the
 * connection must be reset.
 */
static int qbd_tcp_finish(struct qbd_tcp_conn *tc, struct qbd_piece *piece,
			  s32 status)
{
	struct request *rq = qbd_piece_rq(piece);

	qbd_conn_answered(tc->conn);
	if (status == QBD_STATUS_STALE_EPOCH) {
		qbd_piece_stale(piece);
		return 0;
	}
	if (status == QBD_STATUS_BAD_CRC && tc->conn->dev->crc &&
	    req_op(rq) == REQ_OP_WRITE)
		return qbd_tcp_crc_mismatch(tc, piece);
	if (status)
		dev_err_ratelimited(qbd_conn_dev(tc->conn),
				    "%s at %llu failed on %pISpc: %d\n",
				    blk_op_str(req_op(rq)), piece->offset,
				    &tc->conn->addr, status);
	qbd_piece_complete(piece, qbd_status_to_blk(status));
	return 0;
}

/* Aim the data iterator at @bio's pages. */
static void qbd_tcp_rx_bio(struct qbd_tcp_conn *tc, struct bio *bio)
{
	struct bvec_iter bi;
	struct bio_vec bv;
	unsigned int nr = 0;

	bio_for_each_bvec(bv, bio, bi)
		nr++;
	tc->rx_bio = bio;
	iov_iter_bvec(&tc->rx_iter, ITER_DEST,
		      __bvec_iter_bvec(bio->bi_io_vec, bio->bi_iter),
		      nr, bio->bi_iter.bi_size);
	tc->rx_iter.iov_offset = qbd_bvec_iter_offset(&bio->bi_iter);
}

/*
 * A reply header is in: answer a heartbeat, or claim the piece it answers
 * and complete it, or make it the one the data that follows is for.
 */
static int qbd_tcp_handle_reply(struct qbd_tcp_conn *tc, struct sock *sk,
				const struct qbd_reply_hdr *reply)
{
	struct device *ddev = qbd_conn_dev(tc->conn);
	s32 status = (s32)le32_to_cpu(reply->status);
	u32 length = le32_to_cpu(reply->length);
	struct qbd_piece *piece;
	struct request *rq;
	u32 flags;

	if (qbd_check_reply(reply, tc->conn->dev->crc ? QBD_REQ_CRC : 0)) {
		dev_err_ratelimited(ddev, "malformed reply from %pISpc\n",
				    &tc->conn->addr);
		return -EPROTO;
	}
	if (le16_to_cpu(reply->opcode) == QBD_OP_HEARTBEAT &&
	    le64_to_cpu(reply->tag) == qbd_make_tag(QBD_HEARTBEAT_HWQ, 0, 0, 0)) {
		if (status || length || !atomic_xchg(&tc->hb_outstanding, 0)) {
			dev_err_ratelimited(ddev, "unexpected heartbeat reply from %pISpc\n",
					    &tc->conn->addr);
			return -EPROTO;
		}
		return 0;
	}
	piece = qbd_tcp_claim(tc, sk, le64_to_cpu(reply->tag));
	if (PTR_ERR_OR_ZERO(piece) == -EINPROGRESS) {
		dev_err_ratelimited(ddev, "reply from %pISpc before its request was sent (tag %llx), reconnecting\n",
				    &tc->conn->addr, le64_to_cpu(reply->tag));
		return -EPROTO;
	}
	if (IS_ERR(piece)) {
		dev_err_ratelimited(ddev, "reply from %pISpc for no request in flight (tag %llx)\n",
				    &tc->conn->addr, le64_to_cpu(reply->tag));
		return -EPROTO;
	}
	rq = qbd_piece_rq(piece);
	if (le16_to_cpu(reply->opcode) != qbd_wire_opcode(rq, &flags) ||
	    length != (req_op(rq) == REQ_OP_READ && !status ?
		       piece->length : 0) ||
	    (length && length != blk_rq_bytes(rq))) {
		dev_err_ratelimited(ddev, "reply from %pISpc does not match its request\n",
				    &tc->conn->addr);
		qbd_piece_complete(piece, BLK_STS_IOERR);
		return -EPROTO;
	}
	/* Where checksums were agreed, read data comes with one, and only it. */
	if (!!length != !!(le32_to_cpu(reply->flags) & QBD_REQ_CRC) &&
	    tc->conn->dev->crc) {
		dev_err_ratelimited(ddev, "reply from %pISpc with a crc32c where it has no data, or data without one\n",
				    &tc->conn->addr);
		qbd_piece_complete(piece, BLK_STS_IOERR);
		return -EPROTO;
	}
	if (!length)
		return qbd_tcp_finish(tc, piece, status);
	tc->rx_piece = piece;
	qbd_tcp_rx_bio(tc, rq->bio);
	return 0;
}

/* Take up to @len bytes of a reply header; returns the bytes taken. */
static int qbd_tcp_rx_header(struct qbd_tcp_conn *tc, struct sk_buff *skb,
			     unsigned int offset, size_t len)
{
	u32 n = min_t(size_t, len, sizeof(tc->rx_hdr) - tc->rx_hdr_len);
	int ret;

	ret = skb_copy_bits(skb, offset, (u8 *)&tc->rx_hdr + tc->rx_hdr_len, n);
	if (ret)
		return ret;
	tc->rx_hdr_len += n;
	if (tc->rx_hdr_len < sizeof(tc->rx_hdr))
		return n;
	tc->rx_hdr_len = 0;
	ret = qbd_tcp_handle_reply(tc, skb->sk, &tc->rx_hdr);
	return ret ?: n;
}

/* Copy up to @len bytes of read data into the piece's pages. */
static int qbd_tcp_rx_data(struct qbd_tcp_conn *tc, struct sk_buff *skb,
			   unsigned int offset, size_t len)
{
	u32 n = min_t(size_t, len, iov_iter_count(&tc->rx_iter));
	struct qbd_piece *piece = tc->rx_piece;
	int ret;

	ret = skb_copy_datagram_iter(skb, offset, &tc->rx_iter, n);
	if (ret)
		return ret;
	if (iov_iter_count(&tc->rx_iter))
		return n;
	/* The header's length was checked against the request's. */
	if (tc->rx_bio->bi_next) {
		qbd_tcp_rx_bio(tc, tc->rx_bio->bi_next);
		return n;
	}
	tc->rx_piece = NULL;
	/* The data is checked in place: the read completes only if it is. */
	if (tc->conn->dev->crc &&
	    qbd_crc_bios(tc->conn->dev->crc, qbd_piece_rq(piece)->bio) !=
	    le32_to_cpu(tc->rx_hdr.crc32c))
		return qbd_tcp_crc_mismatch(tc, piece);
	ret = qbd_tcp_finish(tc, piece, (s32)le32_to_cpu(tc->rx_hdr.status));
	return ret ?: n;
}

/* A tcp_read_sock actor: consume replies, as much of them as is in @skb. */
static int qbd_tcp_recv_skb(read_descriptor_t *desc, struct sk_buff *skb,
			    unsigned int offset, size_t len)
{
	struct qbd_tcp_conn *tc = desc->arg.data;
	size_t used = 0;
	int ret;

	while (used < len && !tc->rx_err) {
		if (tc->rx_piece)
			ret = qbd_tcp_rx_data(tc, skb, offset + used,
					      len - used);
		else
			ret = qbd_tcp_rx_header(tc, skb, offset + used,
						len - used);
		if (ret < 0) {
			WRITE_ONCE(tc->rx_err, ret);
			desc->count = 0;
			wake_up(&tc->rx_wait);
			break;
		}
		used += ret;
	}
	return used;
}

/*
 * Runs in softirq, or in whoever releases the socket lock; either way the
 * socket is locked against its other readers.
 */
static void qbd_tcp_data_ready(struct sock *sk)
{
	read_descriptor_t desc = { .count = 1 };
	struct qbd_tcp_conn *tc;

	read_lock_bh(&sk->sk_callback_lock);
	tc = sk->sk_user_data;
	if (tc && !tc->rx_err) {
		desc.arg.data = tc;
		tcp_read_sock(sk, &desc, qbd_tcp_recv_skb);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void qbd_tcp_state_change(struct sock *sk)
{
	void (*saved)(struct sock *sk);
	struct qbd_tcp_conn *tc;

	read_lock_bh(&sk->sk_callback_lock);
	tc = sk->sk_user_data;
	if (tc) {
		saved = tc->saved_state_change;
		wake_up(&tc->rx_wait);
	} else {
		/* Unhooked since this call began: the restored callback. */
		saved = READ_ONCE(sk->sk_state_change);
	}
	read_unlock_bh(&sk->sk_callback_lock);
	if (saved != qbd_tcp_state_change)
		saved(sk);
}

/*
 * Receive replies in the socket's callbacks from now on.  Only once the
 * device can take them (it has its tag set and disk): a reply names a
 * request by its tag.
 */
static void qbd_tcp_hook(struct qbd_tcp_conn *tc)
{
	struct sock *sk = tc->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	tc->rx_hdr_len = 0;
	tc->rx_piece = NULL;
	tc->rx_err = 0;
	tc->saved_data_ready = sk->sk_data_ready;
	tc->saved_state_change = sk->sk_state_change;
	sk->sk_user_data = tc;
	sk->sk_data_ready = qbd_tcp_data_ready;
	sk->sk_state_change = qbd_tcp_state_change;
	write_unlock_bh(&sk->sk_callback_lock);

	/* A server may have sent before the hook; that would wait forever. */
	lock_sock(sk);
	qbd_tcp_data_ready(sk);
	release_sock(sk);
}

/* After this, no callback runs for @tc and the receive state is ours. */
static void qbd_tcp_unhook(struct qbd_tcp_conn *tc)
{
	struct sock *sk = tc->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data == tc) {
		sk->sk_user_data = NULL;
		sk->sk_data_ready = tc->saved_data_ready;
		sk->sk_state_change = tc->saved_state_change;
	}
	write_unlock_bh(&sk->sk_callback_lock);
}

/* Whether the hooked socket can deliver no more replies. */
static bool qbd_tcp_broken(struct qbd_tcp_conn *tc)
{
	struct sock *sk = tc->sock->sk;

	return READ_ONCE(tc->rx_err) || READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
	       READ_ONCE(sk->sk_state) != TCP_ESTABLISHED;
}

/*
 * The socket broke: take the callbacks off, read the replies that came
 * before the break, and put a piece whose data was cut off back in flight.
 * Returns why the connection ended.
 */
static int qbd_tcp_stop_receiving(struct qbd_tcp_conn *tc)
{
	struct sock *sk = tc->sock->sk;
	int ret;

	qbd_tcp_unhook(tc);
	if (!tc->rx_err) {
		read_descriptor_t desc = { .arg.data = tc, .count = 1 };

		lock_sock(sk);
		tcp_read_sock(sk, &desc, qbd_tcp_recv_skb);
		release_sock(sk);
	}
	ret = tc->rx_err ?: -(READ_ONCE(sk->sk_err) ?: ECONNRESET);
	if (tc->rx_piece) {
		spin_lock_bh(&tc->conn->lock);
		list_add_tail(&tc->rx_piece->inflight_node, &tc->inflight);
		spin_unlock_bh(&tc->conn->lock);
		tc->rx_piece = NULL;
	}
	tc->rx_hdr_len = 0;
	tc->rx_err = 0;
	return ret;
}

/*
 * What every socket of the driver is: writeback may depend on it, so it
 * never recurses into IO and may dip into the reserves; it is written
 * from other tasks' contexts (queue_rq in a submitter), so it must not
 * use the page frag of whichever task runs the send; requests are small
 * and latency-bound, so no Nagle.  @timeo bounds the handshake.
 */
void qbd_tcp_prepare_sock(struct sock *sk, long timeo)
{
	sk->sk_sndtimeo = timeo;
	sk->sk_rcvtimeo = timeo;
	sk->sk_allocation = GFP_NOIO | __GFP_MEMALLOC;
	sk_set_memalloc(sk);
	qbd_sock_no_task_frag(sk);
	tcp_sock_set_nodelay(sk);
}

/*
 * A connected, authenticated socket bound to the volume, or an error.
 * The socket is published in tc->sock before connecting, so reset and
 * abort can interrupt a connect in progress.
 */
static int qbd_tcp_open_socket(struct qbd_tcp_conn *tc)
{
	struct qbd_conn *conn = tc->conn;
	struct qbd_device *dev = conn->dev;
	long timeo = msecs_to_jiffies(QBD_CONNECT_TIMEOUT_MS);
	struct socket *sock, *old;
	int addrlen, ret;

	ret = sock_create_kern(dev->net, conn->addr.ss_family, SOCK_STREAM,
			       IPPROTO_TCP, &sock);
	if (ret)
		return ret;
	qbd_tcp_prepare_sock(sock->sk, timeo);

	mutex_lock(&tc->sock_mutex);
	old = tc->sock;
	tc->sock = sock;
	spin_lock_bh(&tc->conn->lock);
	tc->sock_gen++;
	spin_unlock_bh(&tc->conn->lock);
	mutex_unlock(&tc->sock_mutex);
	if (old)
		sock_release(old);

	addrlen = conn->addr.ss_family == AF_INET ?
		  sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	ret = qbd_kernel_connect(sock, &conn->addr, addrlen);
	if (ret == -EINPROGRESS)
		ret = -ETIMEDOUT;
	if (!ret)
		ret = qbd_handshake(conn, qbd_tcp_features(conn->dev),
				    qbd_tcp_call, tc);
	if (ret == -EAGAIN)
		ret = -ETIMEDOUT;
	if (ret)
		return ret;

	/* From now on the IO timeout, not the socket, bounds every wait. */
	sock->sk->sk_sndtimeo = MAX_SCHEDULE_TIMEOUT;
	sock->sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;
	atomic_set(&tc->hb_outstanding, 0);
	return 0;
}

static void qbd_tcp_free(struct qbd_tcp_conn *tc)
{
	if (tc->sock) {
		qbd_tcp_unhook(tc);
		sock_release(tc->sock);
	}
	kfree(tc);
}

static int qbd_tcp_connect(struct qbd_conn *conn)
{
	struct qbd_device *dev = conn->dev;
	struct qbd_tcp_conn *tc;
	int ret;

	tc = kzalloc_obj(*tc, GFP_KERNEL);
	if (!tc)
		return -ENOMEM;
	tc->conn = conn;
	mutex_init(&tc->sock_mutex);
	mutex_init(&tc->send_mutex);
	INIT_LIST_HEAD(&tc->send_list);
	INIT_LIST_HEAD(&tc->inflight);
	init_waitqueue_head(&tc->send_wait);
	init_waitqueue_head(&tc->rx_wait);
	qbd_conn_change_state(conn, QBD_CONN_CONNECTING);

	ret = qbd_tcp_open_socket(tc);
	if (ret) {
		pr_err_ratelimited("%s/%s: connection to %pISpc failed: %d\n",
				   dev->pool, dev->volume, &conn->addr, ret);
		qbd_tcp_free(tc);
		qbd_conn_change_state(conn, QBD_CONN_DOWN);
		return ret;
	}
	conn->priv = tc;
	qbd_conn_change_state(conn, QBD_CONN_LIVE);
	return 0;
}

static int qbd_tcp_send_data(struct socket *sock, struct request *rq,
			     u32 remaining, bool more)
{
	struct req_iterator iter;
	struct bio_vec bv;
	int ret;

	rq_for_each_segment(bv, rq, iter) {
		int flags = MSG_NOSIGNAL;

		remaining -= bv.bv_len;
		if (remaining || more)
			flags |= MSG_MORE;
		if (sendpage_ok(bv.bv_page)) {
			u32 off = 0;

			while (off < bv.bv_len) {
				ret = qbd_send_page(sock, bv.bv_page,
						    bv.bv_offset + off,
						    bv.bv_len - off, flags);
				if (ret <= 0)
					return ret ?: -EPIPE;
				off += ret;
			}
		} else {
			void *addr = kmap_local_page(bv.bv_page);

			ret = qbd_tcp_send_buf(sock, addr + bv.bv_offset,
					       bv.bv_len, flags);
			kunmap_local(addr);
			if (ret)
				return ret;
		}
		/*
		 * The server may answer as soon as the last byte is out and
		 * the request be completed and reused: touch nothing more.
		 */
		if (!remaining)
			return 0;
	}
	return remaining ? -EIO : 0;
}

static int qbd_tcp_send_piece(struct qbd_tcp_conn *tc,
			      struct qbd_piece *piece, bool more)
{
	struct qbd_conn *conn = tc->conn;
	struct qbd_device *dev = conn->dev;
	struct request *rq = qbd_piece_rq(piece);
	struct qbd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct qbd_req_hdr hdr;
	u32 flags;
	u16 opcode = qbd_wire_opcode(rq, &flags);
	bool payload = opcode == QBD_OP_WRITE;
	u32 length = piece->length;
	int ret;

	if (payload && dev->crc)
		flags |= QBD_REQ_CRC;
	qbd_encode_req(&hdr, opcode, flags, length,
		       qbd_make_tag(conn->hwq, rq->tag, piece->index, cmd->gen),
		       dev->volume_id, dev->epoch, piece->offset);
	/*
	 * Over the pages that go out: stable writes keep the page cache's
	 * still until the request completes, and O_DIRECT data changed in
	 * flight fails the server's check and is sent again.
	 */
	if (flags & QBD_REQ_CRC)
		hdr.crc32c = cpu_to_le32(qbd_crc_bios(dev->crc, rq->bio));
	atomic64_inc(&conn->sent);
	ret = qbd_tcp_send_buf(tc->sock, &hdr, sizeof(hdr),
			       (payload || more) ? MSG_MORE : 0);
	if (ret || !payload)
		return ret;
	return qbd_tcp_send_data(tc->sock, rq, length, more);
}

static bool qbd_tcp_has_work(struct qbd_tcp_conn *tc)
{
	bool work;

	spin_lock_bh(&tc->conn->lock);
	work = tc->conn->state == QBD_CONN_LIVE && !list_empty(&tc->send_list);
	spin_unlock_bh(&tc->conn->lock);
	return work;
}

/*
 * Probe an idle connection.  A probe still unanswered after the IO timeout
 * means the server or the path is gone: reset the connection.  Nothing is
 * probed while the connection is down: the receive thread is replacing
 * the socket then, and only a connected one stays put.
 */
static void qbd_tcp_heartbeat(struct qbd_tcp_conn *tc)
{
	struct qbd_device *dev = tc->conn->dev;
	struct qbd_req_hdr hdr;

	/*
	 * The socket is replaced only while the connection is not LIVE,
	 * after the thread that saw it break took send_mutex once.
	 */
	mutex_lock(&tc->send_mutex);
	if (qbd_conn_state(tc->conn) != QBD_CONN_LIVE)
		goto out;
	if (atomic_read(&tc->hb_outstanding)) {
		if (time_after(jiffies, tc->hb_sent +
			       msecs_to_jiffies(dev->io_timeout_ms))) {
			dev_err_ratelimited(qbd_conn_dev(tc->conn),
					    "%pISpc did not answer a heartbeat in %u ms, reconnecting\n",
					    &tc->conn->addr, dev->io_timeout_ms);
			kernel_sock_shutdown(tc->sock, SHUT_RDWR);
		}
		goto out;
	}
	qbd_encode_req(&hdr, QBD_OP_HEARTBEAT, 0, 0,
		       qbd_make_tag(QBD_HEARTBEAT_HWQ, 0, 0, 0),
		       dev->volume_id, dev->epoch, 0);
	tc->hb_sent = jiffies;
	atomic_set(&tc->hb_outstanding, 1);
	if (qbd_tcp_send_buf(tc->sock, &hdr, sizeof(hdr), 0))
		kernel_sock_shutdown(tc->sock, SHUT_RDWR);
out:
	mutex_unlock(&tc->send_mutex);
}

/* Write one piece; on failure the receive thread takes over. */
static void qbd_tcp_send_locked(struct qbd_tcp_conn *tc,
				struct qbd_piece *piece, bool more)
{
	int ret;

	lockdep_assert_held(&tc->send_mutex);
	ret = qbd_tcp_send_piece(tc, piece, more);
	if (ret) {
		dev_err_ratelimited(qbd_conn_dev(tc->conn),
				    "send to %pISpc failed: %d\n",
				    &tc->conn->addr, ret);
		kernel_sock_shutdown(tc->sock, SHUT_RDWR);
	}
}

static int qbd_tcp_send_thread(void *data)
{
	struct qbd_tcp_conn *tc = data;
	unsigned int noreclaim = memalloc_noreclaim_save();
	long interval = msecs_to_jiffies(tc->conn->dev->heartbeat_ms);

	while (!kthread_should_stop()) {
		struct qbd_piece *piece;
		bool more;

		if (!wait_event_interruptible_timeout(tc->send_wait,
						      qbd_tcp_has_work(tc) ||
						      kthread_should_stop(),
						      interval)) {
			qbd_tcp_heartbeat(tc);
			continue;
		}
		mutex_lock(&tc->send_mutex);
		spin_lock_bh(&tc->conn->lock);
		piece = list_first_entry_or_null(&tc->send_list,
						 struct qbd_piece, send_node);
		if (piece) {
			list_del_init(&piece->send_node);
			qbd_tcp_mark_sending(tc, piece);
		}
		more = !list_empty(&tc->send_list);
		spin_unlock_bh(&tc->conn->lock);
		if (piece)
			qbd_tcp_send_locked(tc, piece, more);
		mutex_unlock(&tc->send_mutex);
	}
	memalloc_noreclaim_restore(noreclaim);
	return 0;
}

static int qbd_tcp_start_sender(struct qbd_tcp_conn *tc)
{
	struct qbd_conn *conn = tc->conn;
	struct task_struct *t;

	t = kthread_create(qbd_tcp_send_thread, tc, "qbd%d-s%u.%u",
			   conn->dev->index, conn->addr_index, conn->hwq);
	if (IS_ERR(t))
		return PTR_ERR(t);
	tc->send_thread = t;
	qbd_conn_start_thread(conn, t);
	return 0;
}

/* Take every piece off the connection and fail it. */
static void qbd_tcp_fail_inflight(struct qbd_tcp_conn *tc)
{
	struct qbd_piece *piece, *next;
	LIST_HEAD(failed);

	spin_lock_bh(&tc->conn->lock);
	list_for_each_entry_safe(piece, next, &tc->send_list, send_node)
		list_del_init(&piece->send_node);
	list_splice_init(&tc->inflight, &failed);
	spin_unlock_bh(&tc->conn->lock);

	list_for_each_entry_safe(piece, next, &failed, inflight_node) {
		list_del_init(&piece->inflight_node);
		qbd_piece_complete(piece, BLK_STS_IOERR);
	}
}

/*
 * The socket broke: stop sending and hold what is in flight for a resend,
 * but for what has spent its retry budget (failed now) and, when the
 * volume has another path, everything else (rerouted).
 */
static void qbd_tcp_conn_lost(struct qbd_tcp_conn *tc)
{
	struct qbd_piece *piece, *next;
	LIST_HEAD(reroute);
	LIST_HEAD(expired);

	/* Not while it is closing: then nothing comes back. */
	qbd_conn_change_state(tc->conn, QBD_CONN_CONNECTING);
	kernel_sock_shutdown(tc->sock, SHUT_RDWR);
	/*
	 * Once the send thread or an inline sender is out (the shut-down
	 * socket fails what they write), nobody writes to the socket: the
	 * send thread stays, idle until the connection is back.
	 */
	mutex_lock(&tc->send_mutex);
	spin_lock_bh(&tc->conn->lock);
	list_for_each_entry_safe(piece, next, &tc->send_list, send_node)
		list_del_init(&piece->send_node);
	/* With another path, IO goes there instead of waiting. */
	list_for_each_entry_safe(piece, next, &tc->inflight, inflight_node) {
		if (qbd_piece_expired(piece))
			list_move_tail(&piece->inflight_node, &expired);
		else if (qbd_piece_can_reroute(piece))
			list_move_tail(&piece->inflight_node, &reroute);
	}
	spin_unlock_bh(&tc->conn->lock);
	mutex_unlock(&tc->send_mutex);

	list_for_each_entry_safe(piece, next, &reroute, inflight_node) {
		list_del_init(&piece->inflight_node);
		qbd_piece_reroute(piece);
	}
	list_for_each_entry_safe(piece, next, &expired, inflight_node) {
		list_del_init(&piece->inflight_node);
		qbd_piece_complete(piece, BLK_STS_IOERR);
	}
}

/* FAILED: fail what waits; what comes fails in qbd_tcp_queue(). */
static void qbd_tcp_give_up(void *ctx)
{
	qbd_tcp_fail_inflight(ctx);
}

static int qbd_tcp_reopen(void *ctx)
{
	int ret = qbd_tcp_open_socket(ctx);

	if (!ret)
		qbd_tcp_hook(ctx);
	return ret;
}

static const struct qbd_reconnect_ops qbd_tcp_reconnect_ops = {
	.open		= qbd_tcp_reopen,
	.give_up	= qbd_tcp_give_up,
};

/*
 * Reconnect (0) or stop trying because the connection is closing
 * (-ESHUTDOWN); then resend what was in flight.
 */
static int qbd_tcp_reconnect(struct qbd_tcp_conn *tc)
{
	struct qbd_conn *conn = tc->conn;
	struct qbd_piece *piece;
	int ret;

	ret = qbd_reconnect(conn, &qbd_tcp_reconnect_ops, tc);
	if (ret)
		return ret;

	spin_lock_bh(&conn->lock);
	if (!__qbd_conn_change_state(conn, QBD_CONN_LIVE)) {
		spin_unlock_bh(&conn->lock);
		return -ESHUTDOWN;	/* closed meanwhile */
	}
	list_for_each_entry(piece, &tc->inflight, inflight_node)
		list_add_tail(&piece->send_node, &tc->send_list);
	spin_unlock_bh(&conn->lock);

	wake_up(&tc->send_wait);
	return 0;
}

static int qbd_tcp_recv_thread(void *data)
{
	struct qbd_tcp_conn *tc = data;
	int ret;

	for (;;) {
		unsigned int noreclaim;

		wait_event_interruptible(tc->rx_wait, qbd_tcp_broken(tc) ||
					 kthread_should_stop());
		noreclaim = memalloc_noreclaim_save();
		ret = qbd_tcp_stop_receiving(tc);
		memalloc_noreclaim_restore(noreclaim);

		qbd_tcp_conn_lost(tc);
		if (qbd_conn_closing(tc->conn))
			break;
		dev_err_ratelimited(qbd_conn_dev(tc->conn),
				    "connection to %pISpc lost: %d, reconnecting\n",
				    &tc->conn->addr, ret);
		if (qbd_tcp_reconnect(tc))
			break;
	}
	qbd_conn_change_state(tc->conn, QBD_CONN_DOWN);
	qbd_tcp_fail_inflight(tc);

	qbd_wait_for_stop();
	return 0;
}

static int qbd_tcp_start(struct qbd_conn *conn)
{
	struct qbd_tcp_conn *tc = qbd_tcp(conn);
	struct task_struct *t;
	int ret;

	qbd_tcp_hook(tc);
	ret = qbd_tcp_start_sender(tc);
	if (ret)
		return ret;
	t = kthread_create(qbd_tcp_recv_thread, tc, "qbd%d-r%u.%u",
			   conn->dev->index, conn->addr_index, conn->hwq);
	if (IS_ERR(t))
		return PTR_ERR(t);
	tc->recv_thread = t;
	qbd_conn_start_thread(conn, t);
	return 0;
}

/*
 * Called from queue_rq, which may sleep (BLK_MQ_F_BLOCKING).  An idle
 * connection gets the piece written at once, saving the hop to the send
 * thread; a busy one queues it behind the others.
 */
static bool qbd_tcp_queue(struct qbd_conn *conn, struct qbd_piece *piece)
{
	struct qbd_tcp_conn *tc = qbd_tcp(conn);
	bool can_send = mutex_trylock(&tc->send_mutex);
	bool inline_send = false, queued = false;
	int state;

	spin_lock_bh(&conn->lock);
	state = conn->state;
	if (!qbd_conn_takes_io(state)) {
		spin_unlock_bh(&conn->lock);
		if (can_send)
			mutex_unlock(&tc->send_mutex);
		return false;
	}
	/* Lost since routing looked: another path may be live. */
	if (state != QBD_CONN_LIVE && qbd_piece_can_reroute(piece)) {
		spin_unlock_bh(&tc->conn->lock);
		if (can_send)
			mutex_unlock(&tc->send_mutex);
		qbd_piece_reroute(piece);
		return true;
	}
	list_add_tail(&piece->inflight_node, &tc->inflight);
	if (state == QBD_CONN_LIVE) {
		if (can_send && list_empty(&tc->send_list)) {
			inline_send = true;
			qbd_tcp_mark_sending(tc, piece);
		} else {
			list_add_tail(&piece->send_node, &tc->send_list);
			queued = true;
		}
	}
	spin_unlock_bh(&tc->conn->lock);
	if (can_send && !inline_send)
		mutex_unlock(&tc->send_mutex);

	if (inline_send) {
		unsigned int noreclaim = memalloc_noreclaim_save();

		qbd_tcp_send_locked(tc, piece, false);
		memalloc_noreclaim_restore(noreclaim);
		mutex_unlock(&tc->send_mutex);
	} else if (queued) {
		wake_up(&tc->send_wait);
	}
	return true;
}

static void qbd_tcp_reset(struct qbd_conn *conn)
{
	struct qbd_tcp_conn *tc = qbd_tcp(conn);

	if (!tc)
		return;
	mutex_lock(&tc->sock_mutex);
	kernel_sock_shutdown(tc->sock, SHUT_RDWR);
	mutex_unlock(&tc->sock_mutex);
}

static void qbd_tcp_abort(struct qbd_conn *conn)
{
	struct qbd_tcp_conn *tc = qbd_tcp(conn);

	if (!tc)
		return;
	qbd_conn_change_state(conn, QBD_CONN_CLOSING);
	qbd_tcp_reset(conn);
	/* A receive thread asleep between reconnect attempts. */
	if (tc->recv_thread)
		wake_up_process(tc->recv_thread);
}

static void qbd_tcp_release(struct qbd_conn *conn)
{
	struct qbd_tcp_conn *tc = qbd_tcp(conn);

	if (!tc)
		return;
	qbd_tcp_abort(conn);
	if (tc->recv_thread)
		kthread_stop(tc->recv_thread);
	if (tc->send_thread)
		kthread_stop(tc->send_thread);
	conn->priv = NULL;
	qbd_tcp_free(tc);
}

const struct qbd_transport_ops qbd_tcp_ops = {
	.name		= "tcp",
	.connect	= qbd_tcp_connect,
	.start		= qbd_tcp_start,
	.queue		= qbd_tcp_queue,
	.reset		= qbd_tcp_reset,
	.abort		= qbd_tcp_abort,
	.release	= qbd_tcp_release,
};
