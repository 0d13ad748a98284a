// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: operations on a live device: throttle, suspend and resume, and
 * update of the volume map (remap after a shard moved, online growth).
 * Each runs under qbd_devices_mutex, which keeps the device alive; an
 * update drops it while it connects to new servers (see qbd_device).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/slab.h>

#include "qbd.h"

int qbd_dev_set_throttle(const struct qbd_ioc_throttle *args)
{
	const u64 rates[QBD_TB_COUNT] = {
		[QBD_TB_READ_BYTES]	= args->read_bps,
		[QBD_TB_WRITE_BYTES]	= args->write_bps,
		[QBD_TB_READ_OPS]	= args->read_iops,
		[QBD_TB_WRITE_OPS]	= args->write_iops,
	};
	struct qbd_device *dev;
	int ret = 0;

	mutex_lock(&qbd_devices_mutex);
	dev = qbd_find_locked(args->dev_index);
	if (!dev) {
		ret = -ENODEV;
		goto out;
	}
	qbd_throttle_set(&dev->throttle, rates, ktime_get_ns());
	memcpy(dev->throttle_rates, rates, sizeof(rates));
	/* Requests held by the old limits are looked at again. */
	blk_mq_run_hw_queues(dev->disk->queue, true);
	dev_info(disk_to_dev(dev->disk),
		 "throttle read %llu B/s %llu IO/s, write %llu B/s %llu IO/s (0 = unlimited)\n",
		 args->read_bps, args->read_iops, args->write_bps,
		 args->write_iops);
out:
	mutex_unlock(&qbd_devices_mutex);
	return ret;
}

int qbd_dev_suspend(u32 index)
{
	struct qbd_device *dev;
	int ret = 0;

	mutex_lock(&qbd_devices_mutex);
	dev = qbd_find_locked(index);
	if (!dev) {
		ret = -ENODEV;
	} else if (atomic_read(&dev->life) == QBD_STATE_SUSPENDED) {
		ret = -EALREADY;
	} else {
		/* New requests wait in blk-mq; those in flight finish. */
		blk_mq_quiesce_queue(dev->disk->queue);
		qbd_dev_set_life(dev, QBD_STATE_SUSPENDED);
		dev_info(disk_to_dev(dev->disk), "suspended\n");
	}
	mutex_unlock(&qbd_devices_mutex);
	return ret;
}

int qbd_dev_resume(u32 index, u32 mode)
{
	static const char * const names[] = {
		[QBD_RESUME_NORMAL]	= "normal",
		[QBD_RESUME_ERROR]	= "error",
		[QBD_RESUME_DISCARD]	= "discard",
	};
	struct qbd_device *dev;
	int ret = 0;

	if (mode < QBD_RESUME_NORMAL || mode > QBD_RESUME_DISCARD)
		return -EINVAL;

	mutex_lock(&qbd_devices_mutex);
	dev = qbd_find_locked(index);
	if (!dev) {
		ret = -ENODEV;
		goto out;
	}
	WRITE_ONCE(dev->resume_mode, mode);
	if (qbd_dev_set_life(dev, QBD_STATE_LIVE) == QBD_STATE_SUSPENDED)
		blk_mq_unquiesce_queue(dev->disk->queue);
	dev_info(disk_to_dev(dev->disk), "resumed, mode %s\n", names[mode]);
out:
	mutex_unlock(&qbd_devices_mutex);
	return ret;
}

static int qbd_addr_index(const struct qbd_ioc_addr *table, u32 n,
			  const struct qbd_ioc_addr *addr)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (!memcmp(&table[i], addr, sizeof(*addr)))
			return i;
	return -ENOENT;
}

/* The parts of a mapping an update may not change. */
static int qbd_check_update(struct qbd_device *dev,
			    const struct qbd_ioc_map *args)
{
	if (strcmp(dev->pool, args->pool) || strcmp(dev->volume, args->volume) ||
	    dev->volume_id != args->volume_id ||
	    dev->transport != args->transport ||
	    (dev->flags ^ args->flags) & ~QBD_MAP_TAKE_OVER ||
	    dev->shard_size != args->shard_size)
		return -EINVAL;
	if (args->epoch < dev->epoch)
		return -ESTALE;
	if (args->size < dev->size)
		return -EINVAL;		/* shrinking is never done online */
	return 0;
}

static bool qbd_addr_released(struct qbd_device *dev, unsigned int a)
{
	return qbd_conn_state(qbd_conn_of(dev, a, 0)) == QBD_CONN_RELEASED;
}

/*
 * Connect again the servers a remap had released and the new map names
 * again; on failure none of them stays connected (they stay released).
 */
static int qbd_revive_addrs(struct qbd_device *dev, const unsigned long *used,
			    u32 nr_addrs, u64 epoch)
{
	unsigned int q = dev->nr_hw_queues, a, b;
	int ret;

	for (a = 0; a < nr_addrs; a++) {
		if (!test_bit(a, used) || !qbd_addr_released(dev, a))
			continue;
		for (b = a * q; b < (a + 1) * q; b++) {
			qbd_init_conn(dev, b);
			dev->conns[b].open_epoch = epoch;
		}
		ret = qbd_connect_conns(dev, a * q, (a + 1) * q);
		if (!ret)
			ret = qbd_start_conns(dev, a * q, (a + 1) * q);
		if (ret) {
			qbd_release_conns(dev, a * q, (a + 1) * q);
			for (b = a * q; b < (a + 1) * q; b++)
				qbd_conn_change_state(&dev->conns[b],
						      QBD_CONN_RELEASED);
			return ret;
		}
	}
	return 0;
}

/*
 * Release the connections of servers the new map no longer names, once
 * they hold no IO (after the swap nothing new is routed to them); one
 * still holding IO is left to a later update.  Under qbd_devices_mutex.
 */
static void qbd_release_dropped_addrs(struct qbd_device *dev,
				      const unsigned long *used)
{
	unsigned int q = dev->nr_hw_queues, a, b;
	bool idle;

	for (a = 0; a < dev->nr_addrs; a++) {
		if (test_bit(a, used) || qbd_addr_released(dev, a))
			continue;
		idle = true;
		for (b = a * q; b < (a + 1) * q; b++)
			idle &= !atomic_read(&dev->conns[b].in_flight);
		if (!idle)
			continue;
		qbd_release_conns(dev, a * q, (a + 1) * q);
		for (b = a * q; b < (a + 1) * q; b++)
			qbd_conn_change_state(&dev->conns[b], QBD_CONN_RELEASED);
		dev_info(disk_to_dev(dev->disk),
			 "released the connections to %pISpc, which the volume map no longer names\n",
			 &dev->conns[a * q].addr);
	}
}

static bool qbd_paths_name(const u16 *paths, u32 nr_paths, u16 addr)
{
	u32 p;

	for (p = 0; p < nr_paths; p++)
		if (paths[p] == addr)
			return true;
	return false;
}

int qbd_dev_update(struct qbd_ioc_map *args, const struct qbd_ioc_addr *paths)
{
	DECLARE_BITMAP(used, QBD_MAX_ADDRS);
	u16 new_paths[QBD_MAX_PATHS];
	u32 nr_addrs, old_nr_addrs, i;
	struct qbd_device *dev;
	u64 old_size;
	int ret, a;

	mutex_lock(&qbd_devices_mutex);
	dev = qbd_find_locked(args->dev_index);
	if (!dev)
		ret = -ENODEV;
	else if (dev->updating)
		ret = -EBUSY;
	else
		ret = qbd_check_update(dev, args);
	if (ret) {
		mutex_unlock(&qbd_devices_mutex);
		return ret;
	}
	/* An unmap waits for this to end; nothing else changes the map. */
	dev->updating = true;
	mutex_unlock(&qbd_devices_mutex);
	old_nr_addrs = dev->nr_addrs;

	/*
	 * Servers already known keep their index and connections; new ones
	 * are appended.  Nothing is published until every new one connected.
	 */
	bitmap_zero(used, QBD_MAX_ADDRS);
	nr_addrs = old_nr_addrs;
	for (i = 0; i < args->nr_paths; i++) {
		a = qbd_addr_index(dev->addrs, nr_addrs, &paths[i]);
		if (a < 0) {
			if (nr_addrs == QBD_MAX_ADDRS) {
				ret = -E2BIG;
				goto out_relock;
			}
			a = nr_addrs;
			dev->addrs[nr_addrs++] = paths[i];
		}
		new_paths[i] = a;
		set_bit(a, used);
	}

	for (i = old_nr_addrs * dev->nr_hw_queues;
	     i < nr_addrs * dev->nr_hw_queues; i++) {
		qbd_init_conn(dev, i);
		dev->conns[i].open_epoch = args->epoch;
	}
	ret = qbd_connect_conns(dev, old_nr_addrs * dev->nr_hw_queues,
				nr_addrs * dev->nr_hw_queues);
	if (ret)
		goto out_relock;
	ret = qbd_start_conns(dev, old_nr_addrs * dev->nr_hw_queues,
			      nr_addrs * dev->nr_hw_queues);
	if (!ret)
		ret = qbd_revive_addrs(dev, used, old_nr_addrs, args->epoch);
	mutex_lock(&qbd_devices_mutex);
	if (!ret && atomic_read(&dev->life) == QBD_STATE_DELETING)
		ret = -ENODEV;	/* unmapped meanwhile: it waits for us */
	if (ret) {
		qbd_release_conns(dev, old_nr_addrs * dev->nr_hw_queues,
				  nr_addrs * dev->nr_hw_queues);
		goto out_free;
	}

	/* queue_rq reads the paths without a lock: swap them while quiesced. */
	blk_mq_quiesce_queue(dev->disk->queue);
	old_size = dev->size;
	memcpy(dev->paths, new_paths, args->nr_paths * sizeof(new_paths[0]));
	dev->nr_paths = args->nr_paths;
	dev->nr_addrs = nr_addrs;
	/* The active path stays active while the map still names it. */
	if (!qbd_paths_name(new_paths, args->nr_paths,
			    atomic_read(&dev->active_addr)))
		atomic_set(&dev->active_addr, new_paths[0]);
	dev->epoch = args->epoch;
	dev->size = args->size;
	/* Quiescing nests: a suspended device stays suspended. */
	blk_mq_unquiesce_queue(dev->disk->queue);
	clear_bit(0, &dev->remap_requested);
	qbd_release_dropped_addrs(dev, used);

	if (dev->size != old_size) {
		set_capacity_and_notify(dev->disk, dev->size >> SECTOR_SHIFT);
		qbd_event_dev(dev, QBD_EVENT_RESIZED, GFP_KERNEL);
	}
	dev_info(disk_to_dev(dev->disk),
		 "volume map updated: epoch %llu, %llu bytes, %u paths\n",
		 dev->epoch, dev->size, dev->nr_paths);
	args->dev_index = dev->index;
	strscpy(args->disk_name, dev->disk_name, sizeof(args->disk_name));
	ret = 0;
	goto out_free;
out_relock:
	mutex_lock(&qbd_devices_mutex);
out_free:
	if (ret)
		memset(&dev->addrs[old_nr_addrs], 0,
		       (QBD_MAX_ADDRS - old_nr_addrs) * sizeof(*dev->addrs));
	/* The last touch of @dev: an unmap waiting for it may free it. */
	smp_store_release(&dev->updating, false);
	wake_up_var(&dev->updating);
	mutex_unlock(&qbd_devices_mutex);
	return ret;
}
