/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: block layer API differences between the kernels qbd builds for.
 * The driver is written against Debian 12's 6.1.  Each difference is
 * detected by a probe in Kbuild (QBD_HAVE_*), never by version number, and
 * each names the release that changed the interface.  What is not wired
 * up yet fails the build instead of misbehaving.
 */
#ifndef QBD_BLKDEV_COMPAT_H
#define QBD_BLKDEV_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>

/*
 * 6.9 ("block: pass a queue_limits argument to blk_mq_alloc_disk") moved
 * queue limits into an argument of blk_mq_alloc_disk and later removed the
 * blk_queue_* setters qbd_dev.c uses.
 */
#ifdef QBD_HAVE_QUEUE_LIMITS_ALLOC
#error "qbd: the queue_limits API of Linux 6.9+ is not wired up yet"
#endif

/*
 * 6.5 ("block: pass a gendisk to ->open", "block: remove the unused mode
 * argument to ->release") changed the block_device_operations prototypes
 * together with the introduction of blk_mode_t.
 */
#ifdef QBD_HAVE_BLK_MODE_T
#define QBD_BDOPS_OPEN_ARGS	struct gendisk *disk, blk_mode_t mode
#define QBD_BDOPS_OPEN_DISK	(disk)
#define QBD_BDOPS_RELEASE_ARGS	struct gendisk *disk
#else
#define QBD_BDOPS_OPEN_ARGS	struct block_device *bdev, fmode_t mode
#define QBD_BDOPS_OPEN_DISK	(bdev->bd_disk)
#define QBD_BDOPS_RELEASE_ARGS	struct gendisk *disk, fmode_t mode
#endif

#endif /* QBD_BLKDEV_COMPAT_H */
