// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: network block device for qbd-server volumes over TCP and RDMA.
 *
 * Module entry: registers the block major, /dev/qbdctl and /proc/qbdstat.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/module.h>

#include "qbd.h"

/*
 * Protects both lists and the membership of a device in them; held only
 * for moments, never across network IO (a map connects with its device on
 * qbd_mapping, an update with its device's @updating set).
 */
DEFINE_MUTEX(qbd_devices_mutex);
LIST_HEAD(qbd_devices);		/* of qbd_device.list: published devices */
LIST_HEAD(qbd_mapping);		/* of qbd_device.list: maps being set up */

static int __init qbd_init(void)
{
	int ret;

	ret = qbd_dev_register();
	if (ret)
		return ret;
	ret = qbd_events_register();
	if (ret)
		goto out_unregister_dev;
	ret = qbd_proc_register();
	if (ret)
		goto out_unregister_events;
	ret = qbd_ctl_register();
	if (ret)
		goto out_unregister_proc;

	pr_info("version %s loaded\n", QBD_MODULE_VERSION);
	return 0;

out_unregister_proc:
	qbd_proc_unregister();
out_unregister_events:
	qbd_events_unregister();
out_unregister_dev:
	qbd_dev_unregister();
	return ret;
}

static void __exit qbd_exit(void)
{
	/* No device can exist: each holds a module reference. */
	qbd_ctl_unregister();
	qbd_proc_unregister();
	qbd_events_unregister();
	qbd_dev_unregister();
	pr_info("unloaded\n");
}

module_init(qbd_init);
module_exit(qbd_exit);

MODULE_AUTHOR("qbd developers");
MODULE_DESCRIPTION("qbd network block device (TCP and RDMA)");
MODULE_LICENSE("GPL");
MODULE_VERSION(QBD_MODULE_VERSION);
/*
 * The crc32c of qbd_crc.c comes from the crypto API, which loads it on
 * first use through the kernel's modprobe helper: loaded with qbd instead,
 * a map made where that helper cannot see the modules (before the root
 * file system is switched to) finds it.
 */
MODULE_SOFTDEP("pre: crc32c");
