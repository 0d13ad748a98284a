// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: /sys/block/qbdX/qbd/, the attributes udev names devices by.
 */
#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/sysfs.h>

#include "qbd.h"

static const char * const qbd_state_names[] = {
	[QBD_STATE_CONNECTING]		= "connecting",
	[QBD_STATE_LIVE]		= "live",
	[QBD_STATE_RECONNECTING]	= "reconnecting",
	[QBD_STATE_SUSPENDED]		= "suspended",
	[QBD_STATE_FAILED]		= "failed",
	[QBD_STATE_DELETING]		= "deleting",
};

const char *qbd_dev_state_name(int state)
{
	if (state <= 0 || state >= ARRAY_SIZE(qbd_state_names) ||
	    !qbd_state_names[state])
		return "unknown";
	return qbd_state_names[state];
}

static struct qbd_device *qbd_dev_of(struct device *d)
{
	return dev_to_disk(d)->private_data;
}

static ssize_t pool_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", qbd_dev_of(d)->pool);
}
static DEVICE_ATTR_RO(pool);

static ssize_t volume_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%s\n", qbd_dev_of(d)->volume);
}
static DEVICE_ATTR_RO(volume);

static ssize_t volume_id_show(struct device *d, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%llu\n", qbd_dev_of(d)->volume_id);
}
static DEVICE_ATTR_RO(volume_id);

static ssize_t transport_show(struct device *d, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  qbd_dev_of(d)->transport == QBD_TRANSPORT_RDMA ?
			  "rdma" : "tcp");
}
static DEVICE_ATTR_RO(transport);

static ssize_t state_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  qbd_dev_state_name(qbd_dev_state(qbd_dev_of(d))));
}
static DEVICE_ATTR_RO(state);

static ssize_t epoch_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%llu\n", qbd_dev_of(d)->epoch);
}
static DEVICE_ATTR_RO(epoch);

static ssize_t shard_size_show(struct device *d, struct device_attribute *attr,
			       char *buf)
{
	return sysfs_emit(buf, "%llu\n", qbd_dev_of(d)->shard_size);
}
static DEVICE_ATTR_RO(shard_size);

/* The server IO goes to now (it changes when a path fails over). */
static ssize_t active_path_show(struct device *d, struct device_attribute *attr,
				char *buf)
{
	struct qbd_device *dev = qbd_dev_of(d);

	return sysfs_emit(buf, "%pISpc\n",
			  &qbd_conn_of(dev, atomic_read(&dev->active_addr),
				       0)->addr);
}
static DEVICE_ATTR_RO(active_path);

/* Whether payloads carry a crc32c (QBD_FEAT_CRC32C). */
static ssize_t crc32c_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%s\n", qbd_dev_of(d)->crc ? "on" : "off");
}
static DEVICE_ATTR_RO(crc32c);

/* Payloads whose crc32c did not match, in either direction. */
static ssize_t crc_errors_show(struct device *d, struct device_attribute *attr,
			       char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&qbd_dev_of(d)->crc_errors));
}
static DEVICE_ATTR_RO(crc_errors);

static struct attribute *qbd_disk_attrs[] = {
	&dev_attr_pool.attr,
	&dev_attr_volume.attr,
	&dev_attr_volume_id.attr,
	&dev_attr_transport.attr,
	&dev_attr_state.attr,
	&dev_attr_epoch.attr,
	&dev_attr_shard_size.attr,
	&dev_attr_active_path.attr,
	&dev_attr_crc32c.attr,
	&dev_attr_crc_errors.attr,
	NULL,
};

static const struct attribute_group qbd_disk_attr_group = {
	.name	= "qbd",
	.attrs	= qbd_disk_attrs,
};

const struct attribute_group *qbd_disk_attr_groups[] = {
	&qbd_disk_attr_group,
	NULL,
};
