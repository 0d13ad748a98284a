/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: block layer API differences between the kernels qbd builds for,
 * 6.1 to 7.x.  The driver is written against the newest interface; each
 * older kernel's difference is found by a compile-test probe in
 * linux/probes/ (QBD_HAVE_*, generated into linux/probed.h by
 * module/Makefile), never by version number.  The probe files name the
 * release and commit that changed each interface.  A combination no
 * supported kernel has fails the build instead of misbehaving.
 */
#ifndef QBD_BLKDEV_COMPAT_H
#define QBD_BLKDEV_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>

#include "linux/probed.h"

/* probes/bdops_open_gendisk.c (6.5) */
#ifdef QBD_HAVE_BDOPS_OPEN_GENDISK
#define QBD_BDOPS_OPEN_ARGS	struct gendisk *disk, blk_mode_t mode
#define QBD_BDOPS_OPEN_DISK	(disk)
#define QBD_BDOPS_RELEASE_ARGS	struct gendisk *disk
#else
#define QBD_BDOPS_OPEN_ARGS	struct block_device *bdev, fmode_t mode
#define QBD_BDOPS_OPEN_DISK	(bdev->bd_disk)
#define QBD_BDOPS_RELEASE_ARGS	struct gendisk *disk, fmode_t mode
#endif

/* probes/init_request_int_node.c: the NUMA node ->init_request gets. */
#ifdef QBD_HAVE_INIT_REQUEST_INT_NODE
#define qbd_numa_node_t		int
#else
#define qbd_numa_node_t		unsigned int
#endif

/* probes/bvec_iter_bi_offset.c: how far into its current bvec @iter is. */
static inline unsigned int qbd_bvec_iter_offset(const struct bvec_iter *iter)
{
#ifdef QBD_HAVE_BVEC_ITER_BI_OFFSET
	return iter->bi_offset;
#else
	return iter->bi_bvec_done;
#endif
}

/* probes/blk_rq_map_sg_no_queue.c */
static inline int qbd_rq_map_sg(struct request *rq, struct scatterlist *sgl)
{
#ifdef QBD_HAVE_BLK_RQ_MAP_SG_NO_QUEUE
	return blk_rq_map_sg(rq, sgl);
#else
	return blk_rq_map_sg(rq->q, rq, sgl);
#endif
}

/* probes/blk_mq_f_should_merge.c: until 6.14 a queue merges only if asked. */
static inline int qbd_alloc_tag_set(struct blk_mq_tag_set *set)
{
#ifdef QBD_HAVE_BLK_MQ_F_SHOULD_MERGE
	set->flags |= BLK_MQ_F_SHOULD_MERGE;
#endif
	return blk_mq_alloc_tag_set(set);
}

/* probes/blk_features.c (6.11) and blk_mq_alloc_disk_limits.c (6.9) */
#if defined(QBD_HAVE_BLK_FEATURES)

/*
 * The features apart from the limits: before 6.11 queue_limits has no
 * field for them.
 */
static inline struct gendisk *qbd_alloc_disk(struct blk_mq_tag_set *set,
					     struct queue_limits *lim,
					     blk_features_t features,
					     void *queuedata)
{
	lim->features |= features;
	return blk_mq_alloc_disk(set, lim, queuedata);
}

#elif defined(QBD_HAVE_BLK_MQ_ALLOC_DISK_LIMITS)
#error "qbd: 6.9 and 6.10 (queue_limits without features) are not supported"
#else

/*
 * Before 6.11 the features were queue flags, set after allocation; these
 * values exist only between the driver and qbd_alloc_disk() below.
 */
#define BLK_FEAT_WRITE_CACHE	BIT(0)
#define BLK_FEAT_FUA		BIT(1)
#define BLK_FEAT_STABLE_WRITES	BIT(2)
#define blk_features_t		unsigned int

static inline void qbd_apply_limits(struct request_queue *q,
				    const struct queue_limits *lim,
				    blk_features_t features)
{
	blk_queue_logical_block_size(q, lim->logical_block_size);
	blk_queue_physical_block_size(q, lim->physical_block_size);
	blk_queue_io_min(q, lim->io_min);
	blk_queue_max_hw_sectors(q, lim->max_hw_sectors);
	blk_queue_max_segments(q, lim->max_segments);
	/* Before the boundary, which warns about a segment size set after it. */
	blk_queue_max_segment_size(q, lim->max_segment_size);
	if (lim->virt_boundary_mask)
		blk_queue_virt_boundary(q, lim->virt_boundary_mask);
	blk_queue_chunk_sectors(q, lim->chunk_sectors);
	blk_queue_max_discard_sectors(q, lim->max_hw_discard_sectors);
	q->limits.discard_granularity = lim->discard_granularity;
	blk_queue_max_write_zeroes_sectors(q, lim->max_write_zeroes_sectors);
	blk_queue_write_cache(q, features & BLK_FEAT_WRITE_CACHE,
			      features & BLK_FEAT_FUA);
	if (features & BLK_FEAT_STABLE_WRITES)
		blk_queue_flag_set(QUEUE_FLAG_STABLE_WRITES, q);
	/* The defaults of 6.11 on: not rotational, no entropy. */
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_flag_clear(QUEUE_FLAG_ADD_RANDOM, q);
}

static inline struct gendisk *qbd_alloc_disk(struct blk_mq_tag_set *set,
					     struct queue_limits *lim,
					     blk_features_t features,
					     void *queuedata)
{
	struct gendisk *disk;

	disk = blk_mq_alloc_disk(set, queuedata);
	if (!IS_ERR(disk))
		qbd_apply_limits(disk->queue, lim, features);
	return disk;
}

#endif

#endif /* QBD_BLKDEV_COMPAT_H */
