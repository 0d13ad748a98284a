// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: operations on a live device: throttle, suspend and resume, and
 * update of the volume map (remap after a shard moved, online growth).
 * Each runs under qbd_devices_mutex, which keeps the device alive; an
 * update drops it while it connects to new servers (see qbd_device).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

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
	} else if (dev->suspended) {
		ret = -EALREADY;
	} else {
		/* New requests wait in blk-mq; those in flight finish. */
		blk_mq_quiesce_queue(dev->disk->queue);
		dev->suspended = true;
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
	if (dev->suspended) {
		dev->suspended = false;
		blk_mq_unquiesce_queue(dev->disk->queue);
	}
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
	    dev->transport != args->transport || dev->flags != args->flags ||
	    dev->shard_size != args->shard_size ||
	    dev->nr_replicas != args->nr_replicas)
		return -EINVAL;
	if (args->epoch < dev->epoch)
		return -ESTALE;
	if (args->size < dev->size)
		return -EINVAL;		/* shrinking is never done online */
	return 0;
}

static bool qbd_addr_released(struct qbd_device *dev, unsigned int a)
{
	return atomic_read(&qbd_conn_of(dev, a, 0)->state) == QBD_CONN_RELEASED;
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
				atomic_set(&dev->conns[b].state,
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
			atomic_set(&dev->conns[b].state, QBD_CONN_RELEASED);
		dev_info(disk_to_dev(dev->disk),
			 "released the connections to %pISpc, which the volume map no longer names\n",
			 &dev->conns[a * q].addr);
	}
}

int qbd_dev_update(struct qbd_ioc_map *args, const struct qbd_ioc_addr *addrs,
		   const u16 *shard_map)
{
	size_t map_len = array3_size(args->nr_shards, args->nr_replicas,
				     sizeof(u16));
	unsigned long *flush = NULL, *used = NULL;
	u16 *new_map = NULL, *old_map;
	u32 nr_addrs, old_nr_addrs, i;
	struct qbd_device *dev;
	u64 old_size;
	int ret;

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

	new_map = kvmalloc(map_len, GFP_KERNEL);
	flush = bitmap_zalloc(QBD_MAX_ADDRS, GFP_KERNEL);
	used = bitmap_zalloc(QBD_MAX_ADDRS, GFP_KERNEL);
	if (!new_map || !flush || !used) {
		ret = -ENOMEM;
		goto out_relock;
	}

	/*
	 * Servers already known keep their index and connections; new ones
	 * are appended.  Nothing is published until every new one connected.
	 */
	nr_addrs = old_nr_addrs;
	for (i = 0; i < args->nr_addrs; i++) {
		if (qbd_addr_index(dev->addrs, nr_addrs, &addrs[i]) >= 0)
			continue;
		if (nr_addrs == QBD_MAX_ADDRS) {
			ret = -E2BIG;
			goto out_relock;
		}
		dev->addrs[nr_addrs++] = addrs[i];
	}
	for (i = 0; i < args->nr_shards * args->nr_replicas; i++)
		new_map[i] = shard_map[i] == QBD_NO_ADDR ? QBD_NO_ADDR :
			qbd_addr_index(dev->addrs, nr_addrs,
				       &addrs[shard_map[i]]);
	qbd_compute_flush_addrs(new_map, args->nr_shards, args->nr_replicas,
				flush);
	for (i = 0; i < args->nr_shards * args->nr_replicas; i++)
		if (new_map[i] != QBD_NO_ADDR)
			set_bit(new_map[i], used);
	if (bitmap_weight(flush, QBD_MAX_ADDRS) > dev->max_pieces) {
		ret = -E2BIG;	/* a FLUSH could not reach every server */
		goto out_relock;
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
	if (!ret && dev->deleting)
		ret = -ENODEV;	/* unmapped meanwhile: it waits for us */
	if (ret) {
		qbd_release_conns(dev, old_nr_addrs * dev->nr_hw_queues,
				  nr_addrs * dev->nr_hw_queues);
		goto out_free;
	}

	/* queue_rq reads the map without a lock: swap it while quiesced. */
	blk_mq_quiesce_queue(dev->disk->queue);
	old_map = dev->shard_map;
	old_size = dev->size;
	dev->shard_map = new_map;
	dev->nr_shards = args->nr_shards;
	dev->nr_addrs = nr_addrs;
	bitmap_copy(dev->flush_addrs, flush, QBD_MAX_ADDRS);
	dev->epoch = args->epoch;
	dev->size = args->size;
	/* Quiescing nests: a suspended device stays suspended. */
	blk_mq_unquiesce_queue(dev->disk->queue);
	new_map = old_map;
	clear_bit(0, &dev->remap_requested);
	qbd_release_dropped_addrs(dev, used);

	if (dev->size != old_size)
		set_capacity_and_notify(dev->disk, dev->size >> SECTOR_SHIFT);
	dev_info(disk_to_dev(dev->disk),
		 "volume map updated: epoch %llu, %llu bytes, %u shards, %u servers\n",
		 dev->epoch, dev->size, dev->nr_shards, dev->nr_addrs);
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
	bitmap_free(used);
	bitmap_free(flush);
	kvfree(new_map);
	/* The last touch of @dev: an unmap waiting for it may free it. */
	smp_store_release(&dev->updating, false);
	wake_up_var(&dev->updating);
	mutex_unlock(&qbd_devices_mutex);
	return ret;
}
