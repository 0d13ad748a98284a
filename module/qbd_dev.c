// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: the block device of a mapped volume: tag set, request routing to
 * shard connections, completion, timeouts, map and unmap.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/idr.h>
#include <linux/kobject.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/module.h>
#include <linux/nsproxy.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "linux/blkdev_compat.h"
#include "linux/sched_compat.h"
#include "linux/slab_compat.h"
#include "qbd.h"

#define QBD_PART_SHIFT	4	/* 15 partitions per disk */

static int qbd_major;
static DEFINE_IDA(qbd_index_ida);

/*
 * The connection on @hwq that IO goes to: the active path's while it is
 * live, else the next live path's, which becomes the active one for the
 * whole device (a gateway that takes over fences the one before it, so
 * paths are not switched lightly, nor per queue).  NULL while no path is
 * live but one is reconnecting.
 */
static struct qbd_conn *qbd_route(struct qbd_device *dev, unsigned int hwq)
{
	int states[QBD_MAX_PATHS];
	unsigned int n = dev->nr_paths, p, active = 0;
	int addr = atomic_read(&dev->active_addr);
	int pick;

	for (p = 0; p < n; p++) {
		if (dev->paths[p] == addr)
			active = p;
		states[p] = qbd_conn_state(qbd_conn_of(dev, dev->paths[p], hwq));
	}
	pick = qbd_pick_path(states, n, active);
	if (pick < 0)
		return NULL;
	if (dev->paths[pick] != addr &&
	    atomic_cmpxchg(&dev->active_addr, addr, dev->paths[pick]) == addr)
		dev_warn_ratelimited(disk_to_dev(dev->disk),
				     "IO moves to path %pISpc\n",
				     &qbd_conn_of(dev, dev->paths[pick], hwq)->addr);
	return qbd_conn_of(dev, dev->paths[pick], hwq);
}

static void qbd_set_piece(struct qbd_cmd *cmd, unsigned int i,
			  struct qbd_conn *conn, u64 offset, u32 length)
{
	struct qbd_piece *piece = &cmd->pieces[i];

	piece->conn = conn;
	piece->offset = offset;
	piece->length = length;
	piece->crc_retries = 0;
	piece->answered = false;
}

/*
 * Cut a request into one piece per shard it touches, all for the
 * connection routing picked.  Returns the number of pieces, 0 when the
 * request cannot be served, or -EAGAIN when it must wait for a path to
 * come back.
 */
static int qbd_split_request(struct qbd_device *dev, struct request *rq,
			     unsigned int hwq)
{
	struct qbd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	u64 pos = blk_rq_pos(rq) << SECTOR_SHIFT;
	struct qbd_range ranges[QBD_MAX_PIECES];
	struct qbd_conn *conn;
	int nr_ranges, i;

	conn = qbd_route(dev, hwq);
	if (!conn)
		return -EAGAIN;
	if (req_op(rq) == REQ_OP_FLUSH) {
		qbd_set_piece(cmd, 0, conn, 0, 0);
		return 1;
	}

	nr_ranges = qbd_split_range(pos, blk_rq_bytes(rq), dev->size,
				    dev->shard_shift, ranges, QBD_MAX_PIECES);
	if (nr_ranges <= 0)
		return 0;
	/* Data requests never cross: chunk_sectors is the shard size. */
	if (nr_ranges > 1 &&
	    (req_op(rq) == REQ_OP_READ || req_op(rq) == REQ_OP_WRITE))
		return 0;
	for (i = 0; i < nr_ranges; i++)
		qbd_set_piece(cmd, i, conn, ranges[i].offset, ranges[i].length);
	return nr_ranges;
}

/*
 * Whether @piece's request has spent its retry budget: giveup_timeout
 * since queue_rq first took it.  A transport fails such a piece instead of
 * holding it for a resend.
 */
bool qbd_piece_expired(struct qbd_piece *piece)
{
	struct qbd_cmd *cmd = qbd_piece_cmd(piece);
	u64 budget = (u64)piece->conn->dev->giveup_timeout_ms * NSEC_PER_MSEC;

	return ktime_get_ns() - READ_ONCE(cmd->first_ns) > budget;
}
EXPORT_SYMBOL_GPL(qbd_piece_expired);

/* All pieces are in and the caller won @cmd->finishing: requeue or end. */
static void qbd_finish_cmd(struct qbd_cmd *cmd)
{
	struct request *rq = blk_mq_rq_from_pdu(cmd);
	struct qbd_device *dev = rq->q->queuedata;

	if (unlikely(READ_ONCE(cmd->reroute)) && !cmd->status) {
		/* Send it again now, to a path that is up. */
		atomic_dec(&dev->in_flight);
		blk_mq_requeue_request(rq, true);
		return;
	}
	if (unlikely(READ_ONCE(cmd->stale)) && !cmd->status) {
		/*
		 * Send it again once userspace has remapped the volume, unless
		 * the volume is being unmapped.
		 */
		if (!qbd_piece_expired(&cmd->pieces[0]) &&
		    atomic_read(&dev->life) != QBD_STATE_DELETING) {
			atomic_dec(&dev->in_flight);
			blk_mq_requeue_request(rq, false);
			blk_mq_delay_kick_requeue_list(rq->q,
						       QBD_REQUEUE_DELAY_MS);
			return;
		}
		cmd->status = (__force int)BLK_STS_IOERR;
	}
	blk_mq_complete_request(rq);
}

void qbd_piece_complete(struct qbd_piece *piece, blk_status_t status)
{
	struct qbd_cmd *cmd = qbd_piece_cmd(piece);
	struct request *rq = blk_mq_rq_from_pdu(cmd);

	atomic_dec(&piece->conn->in_flight);
	WRITE_ONCE(piece->answered, true);
	if (status != BLK_STS_OK)
		cmpxchg(&cmd->status, 0, (__force int)status);
	if (!atomic_dec_and_test(&cmd->pending))
		return;
	/* A completion lost on purpose: qbd_timeout() finds it. */
	if (unlikely(blk_should_fake_timeout(rq->q)))
		return;
	if (!atomic_xchg(&cmd->finishing, 1))
		qbd_finish_cmd(cmd);
}
EXPORT_SYMBOL_GPL(qbd_piece_complete);

static void qbd_remap_workfn(struct work_struct *work)
{
	struct qbd_device *dev = container_of(work, struct qbd_device,
					      remap_work);
	char pool[QBD_NAME_MAX + 16], volume[QBD_NAME_MAX + 16];
	char *envp[4];

	envp[0] = "QBD_EVENT=remap";
	envp[1] = pool;
	envp[2] = volume;
	envp[3] = NULL;
	snprintf(pool, sizeof(pool), "QBD_POOL=%s", dev->pool);
	snprintf(volume, sizeof(volume), "QBD_VOLUME=%s", dev->volume);
	dev_warn(disk_to_dev(dev->disk),
		 "%s/%s: servers report a newer volume map than epoch %llu, asking userspace to remap\n",
		 dev->pool, dev->volume, dev->epoch);
	kobject_uevent_env(&disk_to_dev(dev->disk)->kobj, KOBJ_CHANGE, envp);
	qbd_event_dev(dev, QBD_EVENT_REMAP_WANTED, GFP_NOIO);
}

/*
 * A server answered with a stale epoch: the shard moved.  Ask userspace
 * (udev runs "qbd -r") for a new map, once until it arrives; the request
 * is requeued when its last piece is in.
 */
void qbd_piece_stale(struct qbd_piece *piece)
{
	struct qbd_cmd *cmd = qbd_piece_cmd(piece);
	struct qbd_device *dev = piece->conn->dev;

	WRITE_ONCE(cmd->stale, true);
	if (!test_and_set_bit(0, &dev->remap_requested))
		schedule_work(&dev->remap_work);
	qbd_piece_complete(piece, BLK_STS_OK);
}
EXPORT_SYMBOL_GPL(qbd_piece_stale);

/*
 * The piece a reply's tag names, if it is in flight on @conn now; NULL
 * when the tag is out of range or its request has moved on (a late reply
 * for a reused tag carries an older generation).  The caller holds the
 * lock that guards @conn's in-flight list.
 */
struct qbd_piece *qbd_piece_in_flight(struct qbd_conn *conn, u64 wire_tag)
{
	struct qbd_device *dev = conn->dev;
	struct qbd_piece *piece;
	struct request *rq;
	struct qbd_cmd *cmd;
	u16 hwq, tag;
	u8 index;
	u32 gen;

	qbd_split_tag(wire_tag, &hwq, &tag, &index, &gen);
	if (hwq != conn->hwq || tag >= dev->queue_depth ||
	    index >= QBD_MAX_PIECES)
		return NULL;
	rq = blk_mq_tag_to_rq(dev->tag_set.tags[hwq], tag);
	if (!rq)
		return NULL;
	cmd = blk_mq_rq_to_pdu(rq);
	piece = &cmd->pieces[index];
	if (piece->conn != conn || list_empty(&piece->inflight_node) ||
	    (cmd->gen & 0xffffff) != gen)
		return NULL;
	return piece;
}
EXPORT_SYMBOL_GPL(qbd_piece_in_flight);

/*
 * Whether a piece held by a broken connection is better sent again through
 * queue_rq, which routes it to a live path: whenever the volume has more
 * than one.  A path that was replaced never writes again (its gateway is
 * fenced by the one that takes over), so a write may go to another path
 * while the broken one may still hold its first copy.  With no live path
 * the request waits in queue_rq for the first one back.
 */
bool qbd_piece_can_reroute(struct qbd_piece *piece)
{
	return READ_ONCE(piece->conn->dev->nr_paths) > 1;
}
EXPORT_SYMBOL_GPL(qbd_piece_can_reroute);

/* Send @piece's request again through routing; the caller owns the piece. */
void qbd_piece_reroute(struct qbd_piece *piece)
{
	struct qbd_cmd *cmd = qbd_piece_cmd(piece);

	WRITE_ONCE(cmd->reroute, true);
	qbd_piece_complete(piece, BLK_STS_OK);
}
EXPORT_SYMBOL_GPL(qbd_piece_reroute);

/* Suspended with "discard": finish without the server; reads see zeros. */
static blk_status_t qbd_complete_locally(struct request *rq)
{
	struct bio *bio;

	blk_mq_start_request(rq);
	if (req_op(rq) == REQ_OP_READ)
		__rq_for_each_bio(bio, rq)
			zero_fill_bio(bio);
	blk_mq_end_request(rq, BLK_STS_OK);
	return BLK_STS_OK;
}

/* Returns true when the throttle holds @rq back for now. */
static bool qbd_throttled(struct qbd_device *dev, struct blk_mq_hw_ctx *hctx,
			  struct request *rq)
{
	bool write = req_op(rq) != REQ_OP_READ;
	u32 bytes = 0;
	u64 wait;

	if (req_op(rq) == REQ_OP_FLUSH)
		return false;
	if (req_op(rq) == REQ_OP_READ || req_op(rq) == REQ_OP_WRITE)
		bytes = blk_rq_bytes(rq);
	wait = qbd_throttle_admit(&dev->throttle, write, bytes,
				  ktime_get_ns());
	if (!wait)
		return false;
	blk_mq_delay_run_hw_queue(hctx, max_t(u64, 1,
					      DIV_ROUND_UP_ULL(wait, NSEC_PER_MSEC)));
	return true;
}

static blk_status_t qbd_queue_rq(struct blk_mq_hw_ctx *hctx,
				 const struct blk_mq_queue_data *bd)
{
	struct qbd_device *dev = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	struct qbd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	unsigned int i, n;
	int ret;

	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
	case REQ_OP_FLUSH:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	/*
	 * set_disk_ro() stops only writers that honour it; a read-only map
	 * refuses what in-kernel writers send anyway (the server would too).
	 */
	if (unlikely(dev->flags & QBD_MAP_READ_ONLY) && op_is_write(req_op(rq))) {
		dev_err_ratelimited(disk_to_dev(dev->disk),
				    "%s on a read-only map refused\n",
				    blk_op_str(req_op(rq)));
		return BLK_STS_IOERR;
	}
	switch (READ_ONCE(dev->resume_mode)) {
	case QBD_RESUME_ERROR:
		return BLK_STS_IOERR;
	case QBD_RESUME_DISCARD:
		return qbd_complete_locally(rq);
	}
	if (unlikely(READ_ONCE(dev->throttle.enabled)) &&
	    qbd_throttled(dev, hctx, rq))
		return BLK_STS_DEV_RESOURCE;

	ret = qbd_split_request(dev, rq, hctx->queue_num);
	if (ret == -EAGAIN) {
		/* No path is up yet: try again shortly. */
		blk_mq_delay_run_hw_queue(hctx, QBD_PATH_WAIT_MS);
		return BLK_STS_DEV_RESOURCE;
	}
	n = ret;
	if (!n) {
		dev_err_ratelimited(disk_to_dev(dev->disk),
				    "cannot route %s of %u bytes at %llu\n",
				    blk_op_str(req_op(rq)), blk_rq_bytes(rq),
				    blk_rq_pos(rq) << SECTOR_SHIFT);
		return BLK_STS_IOERR;
	}

	cmd->gen++;
	cmd->nr_pieces = n;
	cmd->status = 0;
	cmd->stale = false;
	cmd->reroute = false;
	atomic_set(&cmd->finishing, 0);
	cmd->start_ns = ktime_get_ns();
	if (!cmd->first_ns)
		WRITE_ONCE(cmd->first_ns, cmd->start_ns);
	atomic_set(&cmd->pending, n);
	atomic_inc(&dev->in_flight);
	blk_mq_start_request(rq);

	for (i = 0; i < n; i++) {
		struct qbd_piece *piece = &cmd->pieces[i];

		atomic_inc(&piece->conn->in_flight);
		if (!piece->conn->ops->queue(piece->conn, piece))
			qbd_piece_complete(piece, BLK_STS_IOERR);
	}
	return BLK_STS_OK;
}

static void qbd_complete_rq(struct request *rq)
{
	struct qbd_device *dev = rq->q->queuedata;
	struct qbd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	blk_status_t status = (__force blk_status_t)cmd->status;
	struct qbd_stats *st;
	u32 bytes = blk_rq_bytes(rq);

	st = get_cpu_ptr(dev->stats);
	switch (req_op(rq)) {
	case REQ_OP_READ:
		st->read_ops++;
		st->read_bytes += bytes;
		break;
	case REQ_OP_WRITE:
		st->write_ops++;
		st->write_bytes += bytes;
		break;
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		st->discard_ops++;
		st->discard_bytes += bytes;
		break;
	case REQ_OP_FLUSH:
		st->flush_ops++;
		break;
	default:
		break;
	}
	if (status != BLK_STS_OK)
		st->errors++;
	st->total_latency_ns += ktime_get_ns() - cmd->start_ns;
	st->completed++;
	put_cpu_ptr(dev->stats);

	atomic_dec(&dev->in_flight);
	cmd->first_ns = 0;
	blk_mq_end_request(rq, status);
}

/*
 * A request not answered in time: reset the connections that still hold
 * an unanswered piece of it (the others, to healthy servers, keep their
 * IO).  They reconnect and resend what was in flight, this request
 * included, or fail it once its retry budget is spent; either way the
 * timer only needs to run again.  A request with every piece answered
 * lost its completion to fault injection: complete it now.
 */
static enum blk_eh_timer_return qbd_timeout(struct request *rq)
{
	struct qbd_device *dev = rq->q->queuedata;
	struct qbd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	unsigned int i;

	if (!atomic_read(&cmd->pending)) {
		if (!atomic_xchg(&cmd->finishing, 1))
			qbd_finish_cmd(cmd);
		return BLK_EH_DONE;
	}
	this_cpu_inc(dev->stats->timeouts);
	dev_err_ratelimited(disk_to_dev(dev->disk),
			    "%s at %llu timed out after %u ms, resetting its connection\n",
			    blk_op_str(req_op(rq)), blk_rq_pos(rq) << SECTOR_SHIFT,
			    dev->io_timeout_ms);
	for (i = 0; i < cmd->nr_pieces; i++)
		if (!READ_ONCE(cmd->pieces[i].answered))
			cmd->pieces[i].conn->ops->reset(cmd->pieces[i].conn);
	return BLK_EH_RESET_TIMER;
}

static int qbd_init_request(struct blk_mq_tag_set *set, struct request *rq,
			    unsigned int hctx_idx, qbd_numa_node_t numa_node)
{
	struct qbd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	unsigned int i;

	cmd->first_ns = 0;
	for (i = 0; i < QBD_MAX_PIECES; i++) {
		INIT_LIST_HEAD(&cmd->pieces[i].send_node);
		INIT_LIST_HEAD(&cmd->pieces[i].inflight_node);
		cmd->pieces[i].index = i;
	}
	return 0;
}

static const struct blk_mq_ops qbd_mq_ops = {
	.queue_rq	= qbd_queue_rq,
	.complete	= qbd_complete_rq,
	.timeout	= qbd_timeout,
	.init_request	= qbd_init_request,
};

static int qbd_open(QBD_BDOPS_OPEN_ARGS)
{
	struct qbd_device *dev = QBD_BDOPS_OPEN_DISK->private_data;
	int ret = 0;

	mutex_lock(&dev->open_mutex);
	if (atomic_read(&dev->life) == QBD_STATE_DELETING)
		ret = -ENXIO;
	else
		dev->open_count++;
	mutex_unlock(&dev->open_mutex);
	return ret;
}

static void qbd_destroy_dev(struct qbd_device *dev);

/*
 * The last close of an unmapped device frees it.  This runs before the
 * block layer drops the opener's reference on the module, so the module
 * cannot go away under it.
 */
static void qbd_release(QBD_BDOPS_RELEASE_ARGS)
{
	struct qbd_device *dev = disk->private_data;
	bool last;

	mutex_lock(&dev->open_mutex);
	dev->open_count--;
	last = dev->torn_down && !dev->open_count;
	mutex_unlock(&dev->open_mutex);
	if (last)
		qbd_destroy_dev(dev);
}

static void qbd_free_dev(struct qbd_device *dev)
{
	if (!IS_ERR_OR_NULL(dev->ops))
		qbd_put_transport(dev->ops);
	if (dev->net)
		put_net(dev->net);
	qbd_auth_free(dev->hmac);
	qbd_crc_free(dev->crc);
	free_percpu(dev->stats);
	kfree(dev->conns);
	kfree(dev->addrs);
	memzero_explicit(dev->key, sizeof(dev->key));
	kfree(dev);
}

/*
 * Unmapped and closed by everyone: nobody can reach @dev any more.  The
 * index is reused only now, once no opener can hold the old disk.
 */
static void qbd_destroy_dev(struct qbd_device *dev)
{
	ida_free(&qbd_index_ida, dev->index);
	qbd_free_dev(dev);
}

/*
 * No free_disk: it would run after the block layer dropped the last
 * opener's module reference, and a module_put() of the device's own
 * reference there would return into a module that may be gone.
 */
static const struct block_device_operations qbd_bdops = {
	.owner		= THIS_MODULE,
	.open		= qbd_open,
	.release	= qbd_release,
};

struct qbd_device *qbd_find_locked(u32 index)
{
	struct qbd_device *dev;

	lockdep_assert_held(&qbd_devices_mutex);
	list_for_each_entry(dev, &qbd_devices, list)
		if (dev->index == index)
			return dev;
	return NULL;
}

static bool qbd_volume_in_list(const struct list_head *list,
			       const struct qbd_ioc_map *args)
{
	struct qbd_device *dev;

	list_for_each_entry(dev, list, list)
		if (dev->volume_id == args->volume_id ||
		    (!strcmp(dev->pool, args->pool) &&
		     !strcmp(dev->volume, args->volume)))
			return true;
	return false;
}

/* Mapped, or being mapped by another caller right now. */
static bool qbd_volume_mapped_locked(const struct qbd_ioc_map *args)
{
	lockdep_assert_held(&qbd_devices_mutex);
	return qbd_volume_in_list(&qbd_devices, args) ||
	       qbd_volume_in_list(&qbd_mapping, args);
}

void qbd_init_conn(struct qbd_device *dev, unsigned int i)
{
	struct qbd_conn *conn = &dev->conns[i];
	const struct qbd_ioc_addr *a;

	conn->dev = dev;
	conn->addr_index = i / dev->nr_hw_queues;
	conn->hwq = i % dev->nr_hw_queues;
	conn->ops = dev->ops;
	/* 0 would tell the server to fence nothing. */
	do {
		conn->client_id = get_random_u64();
	} while (!conn->client_id);
	conn->incarnation = 0;
	conn->open_epoch = 0;
	a = &dev->addrs[conn->addr_index];
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (void *)&conn->addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&conn->addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
	}
}

/* Takes over the reference on @ops, also when it fails. */
static struct qbd_device *qbd_alloc_dev(struct qbd_ioc_map *args,
					const struct qbd_ioc_addr *paths,
					const struct qbd_transport_ops *ops)
{
	struct qbd_device *dev;
	unsigned int i;

	dev = kzalloc_obj(*dev, GFP_KERNEL);
	if (!dev) {
		qbd_put_transport(ops);
		return NULL;
	}
	dev->ops = ops;
	INIT_LIST_HEAD(&dev->list);
	mutex_init(&dev->open_mutex);

	strscpy(dev->pool, args->pool, sizeof(dev->pool));
	strscpy(dev->volume, args->volume, sizeof(dev->volume));
	dev->volume_id = args->volume_id;
	dev->size = args->size;
	dev->shard_size = args->shard_size;
	dev->shard_shift = ilog2(args->shard_size);
	dev->epoch = args->epoch;
	dev->flags = args->flags;
	dev->transport = args->transport;
	dev->nr_addrs = args->nr_paths;
	dev->nr_paths = args->nr_paths;
	for (i = 0; i < dev->nr_paths; i++)
		dev->paths[i] = i;
	atomic_set(&dev->active_addr, 0);
	dev->queue_depth = args->queue_depth ?: QBD_DEFAULT_QUEUE_DEPTH;
	dev->nr_hw_queues = min_t(u32, args->nr_hw_queues ?: num_online_cpus(),
				  num_possible_cpus());
	dev->max_io_bytes = args->max_io_bytes ?: QBD_DEFAULT_MAX_IO_BYTES;
	dev->io_timeout_ms = args->io_timeout_ms ?: QBD_DEFAULT_IO_TIMEOUT_MS;
	dev->reconnect_delay_ms = args->reconnect_delay_ms ?:
				  QBD_DEFAULT_RECONNECT_DELAY_MS;
	dev->giveup_timeout_ms = args->giveup_timeout_ms ?:
				 QBD_DEFAULT_GIVEUP_TIMEOUT_MS;
	dev->heartbeat_ms = args->heartbeat_ms ?: QBD_DEFAULT_HEARTBEAT_MS;
	dev->key_len = args->key_len;
	memcpy(dev->key, args->key, args->key_len);
	strscpy(dev->host_id, args->host_id, sizeof(dev->host_id));

	dev->resume_mode = QBD_RESUME_NORMAL;
	atomic_set(&dev->life, QBD_STATE_LIVE);
	qbd_throttle_init(&dev->throttle);
	INIT_WORK(&dev->remap_work, qbd_remap_workfn);

	dev->addrs = kcalloc(QBD_MAX_ADDRS, sizeof(*paths), GFP_KERNEL);
	dev->conns = kcalloc(QBD_MAX_ADDRS * dev->nr_hw_queues,
			     sizeof(*dev->conns), GFP_KERNEL);
	dev->stats = alloc_percpu(struct qbd_stats);
	if (!dev->addrs || !dev->conns || !dev->stats) {
		qbd_free_dev(dev);
		return NULL;
	}
	memcpy(dev->addrs, paths, array_size(dev->nr_paths, sizeof(*paths)));
	if (dev->key_len) {
		dev->hmac = qbd_auth_alloc(dev->key, dev->key_len);
		if (IS_ERR(dev->hmac)) {
			dev->hmac = NULL;
			qbd_free_dev(dev);
			return NULL;
		}
	}
	if (!(dev->flags & QBD_MAP_NO_CRC32C)) {
		dev->crc = qbd_crc_alloc();
		if (IS_ERR(dev->crc)) {
			dev->crc = NULL;
			qbd_free_dev(dev);
			return NULL;
		}
	}
	for (i = 0; i < qbd_nr_conns(dev); i++) {
		spin_lock_init(&dev->conns[i].lock);
		qbd_init_conn(dev, i);
	}
	dev->net = get_net(current->nsproxy->net_ns);
	return dev;
}

/* Tear down conns[from, to): their threads are gone, and they are DOWN. */
void qbd_release_conns(struct qbd_device *dev, unsigned int from,
		       unsigned int to)
{
	while (to-- > from) {
		dev->conns[to].ops->release(&dev->conns[to]);
		/* One whose threads never started is still CLOSING. */
		qbd_conn_change_state(&dev->conns[to], QBD_CONN_DOWN);
	}
}

static void qbd_abort_conns(struct qbd_device *dev)
{
	unsigned int i;

	for (i = 0; i < qbd_nr_conns(dev); i++)
		dev->conns[i].ops->abort(&dev->conns[i]);
}

/*
 * The one way a device's life state changes; returns the state it left.
 * A move qbd_dev_move_ok() does not allow is a bug in the driver.
 */
int qbd_dev_set_life(struct qbd_device *dev, int life)
{
	int old = atomic_xchg(&dev->life, life);

	WARN_ONCE(!qbd_dev_move_ok(old, life),
		  "qbd: %s moved from state %d to %d\n", dev->disk_name, old, life);
	return old;
}

/* A path is as well as the worst of its connections (one per queue). */
static int qbd_path_state(struct qbd_device *dev, unsigned int addr)
{
	int state = QBD_STATE_LIVE;
	unsigned int q;

	for (q = 0; q < dev->nr_hw_queues; q++)
		state = qbd_fold_conn_state(state,
					    qbd_conn_state(qbd_conn_of(dev, addr, q)));
	return state;
}

/*
 * Live while IO has a live path (a standby path that is down shows in its
 * own state), unless the device is going away or suspended.
 */
int qbd_dev_state(struct qbd_device *dev)
{
	int life = atomic_read(&dev->life);
	int state = QBD_STATE_FAILED, s;
	unsigned int p;

	if (life != QBD_STATE_LIVE)
		return life;
	for (p = 0; p < dev->nr_paths; p++) {
		s = qbd_path_state(dev, dev->paths[p]);
		if (s == QBD_STATE_LIVE)
			return s;
		if (s == QBD_STATE_RECONNECTING)
			state = s;
	}
	return state;
}

/* Connect conns[from, to); on failure none of them stays connected. */
int qbd_connect_conns(struct qbd_device *dev, unsigned int from,
		      unsigned int to)
{
	unsigned int i;
	int ret;

	for (i = from; i < to; i++) {
		ret = dev->conns[i].ops->connect(&dev->conns[i]);
		if (ret) {
			qbd_release_conns(dev, from, i);
			return ret;
		}
	}
	return 0;
}

/*
 * Keep a connection's threads on the CPUs that submit to its hardware
 * queue: the wakeup that completes a request then stays on the CPU of the
 * task waiting for it, instead of an interrupt to another CPU, which may
 * be idle.  Only a hint: if no such CPU is online, the thread runs anywhere.
 * @t is created and not yet woken: it is given its CPUs, then woken.
 */
void qbd_conn_start_thread(struct qbd_conn *conn, struct task_struct *t)
{
	const struct blk_mq_queue_map *map =
		&conn->dev->tag_set.map[HCTX_TYPE_DEFAULT];
	cpumask_var_t mask;
	unsigned int cpu;

	if (zalloc_cpumask_var(&mask, GFP_KERNEL)) {
		for_each_possible_cpu(cpu)
			if (map->mq_map[cpu] == conn->hwq)
				cpumask_set_cpu(cpu, mask);
		if (!cpumask_empty(mask))
			qbd_kthread_prefer_cpus(t, mask);
		free_cpumask_var(mask);
	}
	wake_up_process(t);
}

int qbd_start_conns(struct qbd_device *dev, unsigned int from,
		    unsigned int to)
{
	unsigned int i;
	int ret;

	for (i = from; i < to; i++) {
		ret = dev->conns[i].ops->start(&dev->conns[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The queue's limits, validated by the block layer when the disk is
 * allocated.  Discards are capped at a shard so that one crosses at most
 * one boundary; the segment size is given even under a virt boundary,
 * where the block layer would otherwise choose it.
 */
static void qbd_init_limits(const struct qbd_device *dev,
			    struct queue_limits *lim)
{
	u32 shard_sectors = dev->shard_size >> SECTOR_SHIFT;

	*lim = (struct queue_limits) {
		.logical_block_size	= QBD_SECTOR_SIZE,
		.physical_block_size	= PAGE_SIZE,
		.io_min			= PAGE_SIZE,
		.max_hw_sectors		= dev->max_io_bytes >> SECTOR_SHIFT,
		.max_segments		= USHRT_MAX,
		.max_segment_size	= UINT_MAX,
		.chunk_sectors		= shard_sectors,
		.max_hw_discard_sectors	= min(shard_sectors, UINT_MAX >> 10),
		.discard_granularity	= PAGE_SIZE,
		.max_write_zeroes_sectors = min(shard_sectors, UINT_MAX >> 10),
	};
	if (dev->ops->page_segments) {
		lim->virt_boundary_mask = PAGE_SIZE - 1;
		lim->max_segments = (dev->max_io_bytes >> PAGE_SHIFT) + 1;
	}
}

int qbd_dev_map(struct qbd_ioc_map *args, const struct qbd_ioc_addr *paths)
{
	const struct qbd_transport_ops *ops;
	struct queue_limits lim;
	struct qbd_device *dev;
	struct gendisk *disk;
	int ret;

	if (!try_module_get(THIS_MODULE))
		return -ENODEV;
	/* May load qbd_rdma.ko: before taking the lock its init may need. */
	ops = qbd_get_transport(args->transport);
	if (IS_ERR(ops)) {
		module_put(THIS_MODULE);
		return PTR_ERR(ops);
	}

	/*
	 * The device waits on qbd_mapping while it connects and its disk
	 * is added (which reads the partition table): other devices' maps,
	 * unmaps and reports go on meanwhile.
	 */
	mutex_lock(&qbd_devices_mutex);
	if (qbd_volume_mapped_locked(args)) {
		mutex_unlock(&qbd_devices_mutex);
		qbd_put_transport(ops);
		ret = -EEXIST;
		goto out_put_module;
	}
	dev = qbd_alloc_dev(args, paths, ops);
	if (dev)
		list_add_tail(&dev->list, &qbd_mapping);
	mutex_unlock(&qbd_devices_mutex);
	if (!dev) {
		ret = -ENOMEM;
		goto out_put_module;
	}
	ret = ida_alloc_max(&qbd_index_ida, (1 << (MINORBITS - QBD_PART_SHIFT)) - 1,
			    GFP_KERNEL);
	if (ret < 0)
		goto out_free_dev;
	dev->index = ret;
	snprintf(dev->disk_name, sizeof(dev->disk_name), "qbd%d", dev->index);

	ret = qbd_connect_conns(dev, 0, qbd_nr_conns(dev));
	if (ret)
		goto out_free_index;
	/* Taken over once, by this map: never again by a reconnect. */
	WRITE_ONCE(dev->flags, dev->flags & ~QBD_MAP_TAKE_OVER);

	dev->tag_set.ops = &qbd_mq_ops;
	dev->tag_set.nr_hw_queues = dev->nr_hw_queues;
	dev->tag_set.queue_depth = dev->queue_depth;
	dev->tag_set.numa_node = NUMA_NO_NODE;
	dev->tag_set.cmd_size = sizeof(struct qbd_cmd);
	/* queue_rq may write to a socket. */
	dev->tag_set.flags = BLK_MQ_F_BLOCKING;
	dev->tag_set.timeout = msecs_to_jiffies(dev->io_timeout_ms);
	dev->tag_set.driver_data = dev;
	ret = qbd_alloc_tag_set(&dev->tag_set);
	if (ret)
		goto out_release_conns;

	/*
	 * Stable pages: a write's pages go to the socket without a copy and
	 * may be read by the network stack after the send returned.
	 */
	qbd_init_limits(dev, &lim);
	disk = qbd_alloc_disk(&dev->tag_set, &lim,
			      BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA |
			      BLK_FEAT_STABLE_WRITES, dev);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto out_free_tag_set;
	}
	dev->disk = disk;
	disk->major = qbd_major;
	disk->first_minor = dev->index << QBD_PART_SHIFT;
	disk->minors = 1 << QBD_PART_SHIFT;
	disk->fops = &qbd_bdops;
	disk->private_data = dev;
	strscpy(disk->disk_name, dev->disk_name, sizeof(disk->disk_name));
	set_capacity(disk, dev->size >> SECTOR_SHIFT);
	set_disk_ro(disk, dev->flags & QBD_MAP_READ_ONLY);

	ret = qbd_start_conns(dev, 0, qbd_nr_conns(dev));
	if (ret)
		goto out_put_disk;

	/* Now publish the device. */
	ret = device_add_disk(NULL, disk, qbd_disk_attr_groups);
	if (ret)
		goto out_put_disk;
	mutex_lock(&qbd_devices_mutex);
	list_move_tail(&dev->list, &qbd_devices);
	mutex_unlock(&qbd_devices_mutex);

	args->dev_index = dev->index;
	strscpy(args->disk_name, dev->disk_name, sizeof(args->disk_name));
	pr_info("%s: mapped %s/%s (id %llu, %llu bytes, %u paths)\n",
		dev->disk_name, dev->pool, dev->volume, dev->volume_id,
		dev->size, dev->nr_paths);
	return 0;

out_put_disk:
	qbd_abort_conns(dev);
	qbd_release_conns(dev, 0, qbd_nr_conns(dev));
	put_disk(disk);
	blk_mq_free_tag_set(&dev->tag_set);
	goto out_free_index;
out_free_tag_set:
	blk_mq_free_tag_set(&dev->tag_set);
out_release_conns:
	qbd_release_conns(dev, 0, qbd_nr_conns(dev));
out_free_index:
	ida_free(&qbd_index_ida, dev->index);
out_free_dev:
	mutex_lock(&qbd_devices_mutex);
	list_del(&dev->list);
	mutex_unlock(&qbd_devices_mutex);
	qbd_free_dev(dev);
out_put_module:
	module_put(THIS_MODULE);
	return ret;
}

int qbd_dev_unmap(u32 index, u32 flags)
{
	struct qbd_device *dev;
	bool last;
	int was;

	mutex_lock(&qbd_devices_mutex);
	dev = qbd_find_locked(index);
	if (!dev) {
		mutex_unlock(&qbd_devices_mutex);
		return -ENODEV;
	}
	mutex_lock(&dev->open_mutex);
	if (dev->open_count && !(flags & QBD_UNMAP_FORCE)) {
		mutex_unlock(&dev->open_mutex);
		mutex_unlock(&qbd_devices_mutex);
		return -EBUSY;
	}
	was = qbd_dev_set_life(dev, QBD_STATE_DELETING);
	mutex_unlock(&dev->open_mutex);
	list_del_init(&dev->list);
	mutex_unlock(&qbd_devices_mutex);

	/* Forced: fail what is in flight rather than wait for the servers. */
	if (flags & QBD_UNMAP_FORCE)
		qbd_abort_conns(dev);
	/* An update connecting to new servers sees DELETING and gives up. */
	wait_var_event(&dev->updating, !smp_load_acquire(&dev->updating));
	/* IO held by a suspend would keep del_gendisk waiting forever. */
	if (was == QBD_STATE_SUSPENDED) {
		WRITE_ONCE(dev->resume_mode, QBD_RESUME_ERROR);
		blk_mq_unquiesce_queue(dev->disk->queue);
	}
	del_gendisk(dev->disk);
	cancel_work_sync(&dev->remap_work);
	qbd_abort_conns(dev);
	qbd_release_conns(dev, 0, qbd_nr_conns(dev));
	blk_mq_free_tag_set(&dev->tag_set);
	pr_info("%s: unmapped %s/%s\n", dev->disk_name, dev->pool, dev->volume);
	put_disk(dev->disk);
	/* A forced unmap may leave openers: the last one frees @dev. */
	mutex_lock(&dev->open_mutex);
	dev->torn_down = true;
	last = !dev->open_count;
	mutex_unlock(&dev->open_mutex);
	if (last)
		qbd_destroy_dev(dev);
	/* In the ioctl of /dev/qbdctl, whose file holds the module. */
	module_put(THIS_MODULE);
	return 0;
}

int qbd_dev_list(u32 *indexes, u32 capacity, u32 *count)
{
	struct qbd_device *dev;
	u32 n = 0;

	mutex_lock(&qbd_devices_mutex);
	list_for_each_entry(dev, &qbd_devices, list) {
		if (n < capacity)
			indexes[n] = dev->index;
		n++;
	}
	mutex_unlock(&qbd_devices_mutex);
	*count = n;
	return 0;
}

void qbd_dev_get_stats(struct qbd_device *dev, struct qbd_ioc_stats *out)
{
	int cpu;

	memset(out, 0, sizeof(*out));
	for_each_possible_cpu(cpu) {
		const struct qbd_stats *st = per_cpu_ptr(dev->stats, cpu);

		out->read_ops += READ_ONCE(st->read_ops);
		out->read_bytes += READ_ONCE(st->read_bytes);
		out->write_ops += READ_ONCE(st->write_ops);
		out->write_bytes += READ_ONCE(st->write_bytes);
		out->discard_ops += READ_ONCE(st->discard_ops);
		out->discard_bytes += READ_ONCE(st->discard_bytes);
		out->flush_ops += READ_ONCE(st->flush_ops);
		out->errors += READ_ONCE(st->errors);
		out->timeouts += READ_ONCE(st->timeouts);
		out->total_latency_ns += READ_ONCE(st->total_latency_ns);
		out->completed += READ_ONCE(st->completed);
	}
	out->in_flight = atomic_read(&dev->in_flight);
}

/*
 * One entry per path: its connections summed, the state the first one
 * that is not live has (else live).
 */
static int qbd_copy_path_info(struct qbd_device *dev,
			      struct qbd_ioc_conn_info __user *upaths,
			      u32 capacity)
{
	struct qbd_ioc_conn_info ci;
	struct qbd_conn *conn;
	u32 p, q, state;

	for (p = 0; p < min(capacity, dev->nr_paths); p++) {
		memset(&ci, 0, sizeof(ci));
		ci.addr = dev->addrs[dev->paths[p]];
		ci.state = QBD_CONN_LIVE;
		for (q = 0; q < dev->nr_hw_queues; q++) {
			conn = qbd_conn_of(dev, dev->paths[p], q);
			state = qbd_conn_state(conn);
			if (ci.state == QBD_CONN_LIVE)
				ci.state = state;
			ci.in_flight += atomic_read(&conn->in_flight);
			ci.sent += atomic64_read(&conn->sent);
			ci.reconnects += atomic64_read(&conn->reconnects);
		}
		if (copy_to_user(&upaths[p], &ci, sizeof(ci)))
			return -EFAULT;
	}
	return 0;
}

int qbd_dev_info(struct qbd_ioc_info *info,
		 struct qbd_ioc_conn_info __user *upaths)
{
	struct qbd_device *dev;
	u32 capacity = info->paths_capacity;
	u64 paths_ptr = info->paths_ptr;
	u32 index = info->dev_index;
	unsigned int i;
	int ret = 0;

	mutex_lock(&qbd_devices_mutex);
	dev = qbd_find_locked(index);
	if (!dev) {
		ret = -ENODEV;
		goto out;
	}
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->dev_index = index;
	info->paths_ptr = paths_ptr;
	info->paths_capacity = capacity;
	info->nr_paths = dev->nr_paths;
	info->flags = dev->flags;
	info->transport = dev->transport;
	info->state = qbd_dev_state(dev);
	for (i = 0; i < dev->nr_paths; i++)
		if (dev->paths[i] == atomic_read(&dev->active_addr))
			info->active_path = i;
	info->queue_depth = dev->queue_depth;
	info->nr_hw_queues = dev->nr_hw_queues;
	info->max_io_bytes = dev->max_io_bytes;
	info->io_timeout_ms = dev->io_timeout_ms;
	info->volume_id = dev->volume_id;
	info->size = dev->size;
	info->shard_size = dev->shard_size;
	info->epoch = dev->epoch;
	strscpy(info->pool, dev->pool, sizeof(info->pool));
	strscpy(info->volume, dev->volume, sizeof(info->volume));
	strscpy(info->disk_name, dev->disk_name, sizeof(info->disk_name));
	info->resume_mode = atomic_read(&dev->life) == QBD_STATE_SUSPENDED ?
			    0 : dev->resume_mode;
	info->read_bps = dev->throttle_rates[QBD_TB_READ_BYTES];
	info->write_bps = dev->throttle_rates[QBD_TB_WRITE_BYTES];
	info->read_iops = dev->throttle_rates[QBD_TB_READ_OPS];
	info->write_iops = dev->throttle_rates[QBD_TB_WRITE_OPS];
	info->reconnect_delay_ms = dev->reconnect_delay_ms;
	info->giveup_timeout_ms = dev->giveup_timeout_ms;
	info->heartbeat_ms = dev->heartbeat_ms;
	for (i = 0; i < qbd_nr_conns(dev); i++)
		info->reconnect_attempts = max_t(u32, info->reconnect_attempts,
						 atomic_read(&dev->conns[i].attempts));
	qbd_dev_get_stats(dev, &info->stats);
	if (capacity)
		ret = qbd_copy_path_info(dev, upaths, capacity);
out:
	mutex_unlock(&qbd_devices_mutex);
	return ret;
}

int qbd_dev_register(void)
{
	qbd_major = register_blkdev(0, "qbd");
	return qbd_major < 0 ? qbd_major : 0;
}

void qbd_dev_unregister(void)
{
	unregister_blkdev(qbd_major, "qbd");
	ida_destroy(&qbd_index_ida);
}
