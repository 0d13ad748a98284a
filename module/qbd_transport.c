// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: the table of transports.  TCP is part of qbd.ko; RDMA lives in
 * qbd_rdma.ko, which registers itself when loaded (and is loaded on
 * demand), so a host without RDMA never loads ib_core.  A device holds a
 * reference on its transport's module for as long as it exists.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kmod.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>

#include "qbd.h"

static DEFINE_MUTEX(qbd_transports_mutex);
/* Indexed by enum qbd_transport; protected by qbd_transports_mutex. */
static const struct qbd_transport_ops *qbd_transports[QBD_TRANSPORT_RDMA + 1] = {
	[QBD_TRANSPORT_TCP] = &qbd_tcp_ops,
};

int qbd_register_transport(u32 id, const struct qbd_transport_ops *ops)
{
	int ret = 0;

	if (id >= ARRAY_SIZE(qbd_transports) || id == QBD_TRANSPORT_TCP)
		return -EINVAL;
	mutex_lock(&qbd_transports_mutex);
	if (qbd_transports[id])
		ret = -EBUSY;
	else
		qbd_transports[id] = ops;
	mutex_unlock(&qbd_transports_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(qbd_register_transport);

void qbd_unregister_transport(u32 id)
{
	mutex_lock(&qbd_transports_mutex);
	if (id < ARRAY_SIZE(qbd_transports) && id != QBD_TRANSPORT_TCP)
		qbd_transports[id] = NULL;
	mutex_unlock(&qbd_transports_mutex);
}
EXPORT_SYMBOL_GPL(qbd_unregister_transport);

static const struct qbd_transport_ops *qbd_find_transport(u32 id)
{
	const struct qbd_transport_ops *ops;

	mutex_lock(&qbd_transports_mutex);
	ops = qbd_transports[id];
	if (ops && !try_module_get(ops->owner))
		ops = NULL;	/* being unloaded */
	mutex_unlock(&qbd_transports_mutex);
	return ops;
}

/*
 * The transport @id with a reference on its module, loading qbd_rdma.ko
 * when RDMA is asked for.  ERR_PTR(-EPROTONOSUPPORT) when it cannot be had.
 */
const struct qbd_transport_ops *qbd_get_transport(u32 id)
{
	const struct qbd_transport_ops *ops;

	if (id >= ARRAY_SIZE(qbd_transports) || !id)
		return ERR_PTR(-EPROTONOSUPPORT);
	ops = qbd_find_transport(id);
	if (!ops && id == QBD_TRANSPORT_RDMA) {
		request_module("qbd_rdma");
		ops = qbd_find_transport(id);
	}
	return ops ?: ERR_PTR(-EPROTONOSUPPORT);
}

void qbd_put_transport(const struct qbd_transport_ops *ops)
{
	module_put(ops->owner);
}

/*
 * The one way a connection's state changes, as nvme_change_ctrl_state():
 * true when @conn moved to @state, false when qbd_conn_move_ok() refuses
 * the move (the state stays).  A refusal is how a thread learns that the
 * connection moved under it: a reconnect that finds it CLOSING stops.
 * Under conn->lock.
 */
bool __qbd_conn_change_state(struct qbd_conn *conn, int state)
{
	lockdep_assert_held(&conn->lock);
	if (!qbd_conn_move_ok(conn->state, state))
		return false;
	WRITE_ONCE(conn->state, state);
	return true;
}
EXPORT_SYMBOL_GPL(__qbd_conn_change_state);

bool qbd_conn_change_state(struct qbd_conn *conn, int state)
{
	bool moved;

	spin_lock_bh(&conn->lock);
	moved = __qbd_conn_change_state(conn, state);
	spin_unlock_bh(&conn->lock);
	return moved;
}
EXPORT_SYMBOL_GPL(qbd_conn_change_state);

/* Torn down, or its thread told to stop: nothing reconnects it. */
bool qbd_conn_closing(struct qbd_conn *conn)
{
	return qbd_conn_state(conn) == QBD_CONN_CLOSING ||
	       kthread_should_stop();
}
EXPORT_SYMBOL_GPL(qbd_conn_closing);

/*
 * Whether the outage @conn is in began before its last reconnect: the
 * connection broke with requests in flight and answered none of them
 * since it was opened.  A server that accepts connections and hangs up on
 * the first request would otherwise restart the give-up clock with every
 * reconnect, and the requests would be sent again for ever.
 */
static bool qbd_outage_goes_on(struct qbd_conn *conn)
{
	return conn->outage_start && atomic_read(&conn->in_flight) &&
	       atomic64_read(&conn->answered) == conn->answered_at_open;
}

/* See qbd_reconnect(). */
static int qbd_reconnect_noio(struct qbd_conn *conn,
			      const struct qbd_reconnect_ops *ops, void *ctx)
{
	struct qbd_device *dev = conn->dev;
	unsigned long first = msecs_to_jiffies(dev->reconnect_delay_ms);
	unsigned long max_delay = first << QBD_RECONNECT_BACKOFF_SHIFT;
	unsigned long giveup_at;
	int ret;

	qbd_event_conn(conn, QBD_EVENT_CONN_LOST);
	if (qbd_outage_goes_on(conn)) {
		/* The connection that broke counts as a failed attempt. */
		atomic_inc(&conn->attempts);
	} else {
		conn->outage_start = jiffies;
		conn->outage_delay = first;
		atomic_set(&conn->attempts, 0);
	}
	giveup_at = conn->outage_start + msecs_to_jiffies(dev->giveup_timeout_ms);
	for (;;) {
		if (qbd_conn_closing(conn))
			return -ESHUTDOWN;
		/* Moves once; from then on new IO fails at once. */
		if (time_after(jiffies, giveup_at) &&
		    qbd_conn_change_state(conn, QBD_CONN_FAILED)) {
			dev_err_ratelimited(disk_to_dev(dev->disk),
					    "%pISpc unreachable for %u ms, failing IO\n",
					    &conn->addr, dev->giveup_timeout_ms);
			ops->give_up(ctx);
			qbd_event_conn(conn, QBD_EVENT_GAVE_UP);
		}
		schedule_timeout_interruptible(conn->outage_delay);
		if (qbd_conn_closing(conn))
			return -ESHUTDOWN;

		ret = ops->open(ctx);
		/* Also the wait before the next try if this one breaks. */
		conn->outage_delay = min(conn->outage_delay * 2, max_delay);
		if (!ret)
			break;
		atomic_inc(&conn->attempts);
		dev_warn_ratelimited(disk_to_dev(dev->disk),
				     "reconnect %d to %pISpc failed: %d, next in %u ms\n",
				     atomic_read(&conn->attempts), &conn->addr,
				     ret, jiffies_to_msecs(conn->outage_delay));
	}
	conn->answered_at_open = atomic64_read(&conn->answered);
	atomic64_inc(&conn->reconnects);
	dev_info_ratelimited(disk_to_dev(dev->disk), "reconnected to %pISpc\n",
			     &conn->addr);
	qbd_event_conn(conn, QBD_EVENT_CONN_RESTORED);
	return 0;
}

/*
 * Re-establish a lost connection: @ops->open with exponential backoff from
 * the device's reconnect delay, until it works (0) or the connection is
 * closing (-ESHUTDOWN; the caller is woken with wake_up_process).  Once the
 * outage has lasted the give-up time, the connection is FAILED (new IO
 * fails) and @ops->give_up fails what waits, once; trying goes on, so
 * the device recovers by itself when the server is back.  Only the
 * connection's one reconnecting thread calls this.
 *
 * Writeback may be waiting on this very device: every allocation on the
 * way (a socket, a queue pair, the handshake's buffers) is made without
 * IO, so reclaim never waits on the connection being rebuilt.  The thread
 * that runs this exists already; nothing is forked here.
 */
int qbd_reconnect(struct qbd_conn *conn, const struct qbd_reconnect_ops *ops,
		  void *ctx)
{
	unsigned int noio = memalloc_noio_save();
	int ret = qbd_reconnect_noio(conn, ops, ctx);

	memalloc_noio_restore(noio);
	return ret;
}
EXPORT_SYMBOL_GPL(qbd_reconnect);

/*
 * A connection thread that has nothing left to do waits here until
 * release() reaps it with kthread_stop().
 */
void qbd_wait_for_stop(void)
{
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
}
EXPORT_SYMBOL_GPL(qbd_wait_for_stop);
