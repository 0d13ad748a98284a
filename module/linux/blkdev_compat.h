/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: block layer API differences between the kernels qbd builds for.
 * The driver is written against Debian 12's 6.1; each wrapper names the
 * release that changed the interface.  Anything not wired yet fails the
 * build instead of misbehaving.
 */
#ifndef QBD_BLKDEV_COMPAT_H
#define QBD_BLKDEV_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/version.h>

/*
 * 6.9 ("block: pass a queue_limits argument to blk_mq_alloc_disk") moved
 * queue limits into an argument of blk_mq_alloc_disk and later removed the
 * blk_queue_* setters qbd_dev.c uses.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#error "qbd: the queue_limits API of Linux 6.9+ is not wired up yet"
#endif

/*
 * 6.5 ("block: pass a gendisk to ->open", "block: remove the unused mode
 * argument to ->release") changed the block_device_operations prototypes.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define QBD_BDOPS_OPEN_ARGS	struct gendisk *disk, blk_mode_t mode
#define QBD_BDOPS_OPEN_DISK	(disk)
#define QBD_BDOPS_RELEASE_ARGS	struct gendisk *disk
#else
#define QBD_BDOPS_OPEN_ARGS	struct block_device *bdev, fmode_t mode
#define QBD_BDOPS_OPEN_DISK	(bdev->bd_disk)
#define QBD_BDOPS_RELEASE_ARGS	struct gendisk *disk, fmode_t mode
#endif

#endif /* QBD_BLKDEV_COMPAT_H */
