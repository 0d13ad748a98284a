/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * qbd control ABI: ioctls on /dev/qbdctl, shared by qbd.ko and the qbd tool.
 *
 * Every argument struct starts with @argsz, the size the caller passes; the
 * driver refuses sizes it does not know, and unknown flag bits, so the ABI
 * can grow without silently misreading old or new callers.  Strings are
 * fixed arrays that must be NUL-terminated.
 */
#ifndef QBD_IOCTL_H
#define QBD_IOCTL_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include "qbd_proto.h"

#define QBD_CTL_NAME		"qbdctl"
#define QBD_CTL_PATH		"/dev/qbdctl"
#define QBD_ABI_VERSION		2
#define QBD_DISK_NAME_MAX	32
#define QBD_VERSION_MAX		32
#define QBD_MAX_DEVICES		1024
#define QBD_MAX_PATHS		16	/* servers (paths) per volume */

enum qbd_transport {
	QBD_TRANSPORT_TCP	= 1,
	QBD_TRANSPORT_RDMA	= 2,
};

/** struct qbd_ioc_version - QBD_IOC_VERSION */
struct qbd_ioc_version {
	__u32	argsz;
	__u32	abi_version;			/* out: QBD_ABI_VERSION */
	char	module_version[QBD_VERSION_MAX];/* out */
	__u8	reserved[24];
};

/**
 * struct qbd_ioc_addr - one server, resolved by the tool
 * @family:	AF_INET or AF_INET6
 * @port:	TCP/RDMA-CM port, host byte order
 * @addr:	4 or 16 bytes of address, network byte order
 */
struct qbd_ioc_addr {
	__u16	family;
	__u16	port;
	__u32	reserved;
	__u8	addr[16];
};

/* qbd_ioc_map.flags */
#define QBD_MAP_READ_ONLY	(1U << 0)
/* No crc32c over payloads (QBD_FEAT_CRC32C): for measuring what it costs. */
#define QBD_MAP_NO_CRC32C	(1U << 1)
/*
 * One writer per volume (QBD_REQ_SHARED and QBD_REQ_TAKE_OVER in
 * qbd_proto.h): share the volume with other hosts that map it shared, or
 * take it over from the hosts that hold it.  TAKE_OVER applies to the
 * connections the map makes; the driver clears it once mapped, so that a
 * reconnect never takes the volume back from a host that took it over
 * since.
 */
#define QBD_MAP_SHARED		(1U << 2)
#define QBD_MAP_TAKE_OVER	(1U << 3)
#define QBD_MAP_FLAGS_KNOWN	(QBD_MAP_READ_ONLY | QBD_MAP_NO_CRC32C | \
				 QBD_MAP_SHARED | QBD_MAP_TAKE_OVER)

/**
 * struct qbd_ioc_map - QBD_IOC_MAP: create /dev/qbdX for a volume
 * @argsz:	sizeof(struct qbd_ioc_map)
 * @flags:	QBD_MAP_*
 * @transport:	enum qbd_transport
 * @nr_paths:	entries at @paths_ptr (1..QBD_MAX_PATHS)
 * @volume_id:	server's volume id, the same on every path
 * @size:	bytes, multiple of 512
 * @shard_size:	bytes, power of two, at least 4096: no read or write
 *		crosses a multiple of it (the queue's chunk size)
 * @epoch:	epoch of the volume's metadata
 * @pool:	pool name
 * @volume:	volume name
 * @paths_ptr:	user pointer to @nr_paths struct qbd_ioc_addr: the servers
 *		that serve the volume, in order of preference.  All IO goes
 *		to one of them (the active path); when its connection breaks
 *		or its IO times out, what was in flight is sent again on the
 *		next live one.
 * @queue_depth: requests in flight per hardware queue (0 = default)
 * @nr_hw_queues: hardware queues (0 = number of CPUs)
 * @max_io_bytes: largest request (0 = default 1 MiB)
 * @io_timeout_ms: a request not answered in this time resets its
 *		connection, which reconnects and resends (0 = default 30 s)
 * @reconnect_delay_ms: first wait before reconnecting; doubles on every
 *		failed attempt up to 8 times as long (0 = default 500 ms)
 * @giveup_timeout_ms: how long IO waits for a lost server; after that
 *		queued and new IO fails with EIO until the server is back
 *		(0 = default 60 s)
 * @heartbeat_ms: an idle connection is probed this often; a probe not
 *		answered within @io_timeout_ms resets it (0 = default 10 s)
 * @key_len:	bytes of @key used, 0 for a host without a key
 * @key:	this host's key, proven to the server and proven by it
 *		(HMAC-SHA256, include/qbd_proto.h)
 * @dev_index:	out: X of /dev/qbdX
 * @disk_name:	out: "qbdX"
 * @host_id:	this host's name in the servers' keys files, NUL-terminated
 *		(empty with no key)
 */
struct qbd_ioc_map {
	__u32	argsz;
	__u32	flags;
	__u32	transport;
	__u32	nr_paths;
	__u32	reserved0[2];
	__u64	volume_id;
	__u64	size;
	__u64	shard_size;
	__u64	epoch;
	char	pool[QBD_NAME_MAX];
	char	volume[QBD_NAME_MAX];
	__u64	paths_ptr;
	__u64	reserved3;
	__u32	queue_depth;
	__u32	nr_hw_queues;
	__u32	max_io_bytes;
	__u32	io_timeout_ms;
	__u32	reconnect_delay_ms;
	__u32	giveup_timeout_ms;
	__u32	heartbeat_ms;
	__u32	reserved1;
	__u32	key_len;
	__u8	key[QBD_KEY_MAX];
	__u32	dev_index;
	char	disk_name[QBD_DISK_NAME_MAX];
	char	host_id[QBD_HOST_ID_MAX];
};

/* qbd_ioc_unmap.flags */
#define QBD_UNMAP_FORCE		(1U << 0)	/* fail in-flight IO, detach */
#define QBD_UNMAP_FLAGS_KNOWN	(QBD_UNMAP_FORCE)

/** struct qbd_ioc_unmap - QBD_IOC_UNMAP: remove /dev/qbd<dev_index> */
struct qbd_ioc_unmap {
	__u32	argsz;
	__u32	flags;
	__u32	dev_index;
	__u8	reserved[20];
};

/** struct qbd_ioc_list - QBD_IOC_LIST: indexes of mapped devices */
struct qbd_ioc_list {
	__u32	argsz;
	__u32	count;		/* out: devices mapped */
	__u32	capacity;	/* in: entries at @indexes_ptr */
	__u32	reserved;
	__u64	indexes_ptr;	/* user pointer to @capacity __u32 */
};

/* qbd_ioc_info.state */
enum qbd_dev_state {
	QBD_STATE_CONNECTING	= 1,
	QBD_STATE_LIVE		= 2,
	QBD_STATE_RECONNECTING	= 3,
	QBD_STATE_SUSPENDED	= 4,
	QBD_STATE_FAILED	= 5,
	QBD_STATE_DELETING	= 6,
};

/** struct qbd_ioc_stats - counters of one device (also in /proc/qbdstat) */
struct qbd_ioc_stats {
	__u64	read_ops;
	__u64	read_bytes;
	__u64	write_ops;
	__u64	write_bytes;
	__u64	discard_ops;
	__u64	discard_bytes;
	__u64	flush_ops;
	__u64	errors;
	__u64	timeouts;
	__u64	total_latency_ns;	/* over all completed requests */
	__u64	completed;
	__u32	in_flight;
	__u32	reserved;
};

/**
 * struct qbd_ioc_info - QBD_IOC_INFO: what the driver knows of one device
 * @argsz:	sizeof(struct qbd_ioc_info)
 * @dev_index:	in: device to describe
 * @paths_ptr:	in: user pointer to @paths_capacity qbd_ioc_conn_info or 0
 * @paths_capacity: in: entries at @paths_ptr
 * @nr_paths:	out: paths of the device (may exceed capacity), one
 *		qbd_ioc_conn_info each, in the order of the map
 * @active_path: out: index of the path IO is sent to
 * other fields: out, as given at map time plus live state
 */
struct qbd_ioc_info {
	__u32	argsz;
	__u32	dev_index;
	__u64	paths_ptr;
	__u32	paths_capacity;
	__u32	nr_paths;
	__u32	flags;
	__u32	transport;
	__u32	state;
	__u32	active_path;
	__u32	reserved0;
	__u32	queue_depth;
	__u32	nr_hw_queues;
	__u32	max_io_bytes;
	__u32	io_timeout_ms;
	__u32	reserved1;
	__u64	volume_id;
	__u64	size;
	__u64	shard_size;
	__u64	epoch;
	char	pool[QBD_NAME_MAX];
	char	volume[QBD_NAME_MAX];
	char	disk_name[QBD_DISK_NAME_MAX];
	struct qbd_ioc_stats stats;
	__u32	reconnect_delay_ms;
	__u32	giveup_timeout_ms;
	__u32	heartbeat_ms;
	__u32	reconnect_attempts;	/* failed attempts of the worst connection */
	__u32	resume_mode;		/* enum qbd_resume_mode in force */
	__u32	reserved3;
	__u64	read_bps;		/* throttle, 0 = unlimited */
	__u64	write_bps;
	__u64	read_iops;
	__u64	write_iops;
	__u8	reserved2[8];
};

/* qbd_ioc_conn_info.state */
enum qbd_conn_state {
	QBD_CONN_DOWN		= 0,
	QBD_CONN_CONNECTING	= 1,
	QBD_CONN_LIVE		= 2,
	QBD_CONN_FAILED		= 3,	/* gave up: IO fails until reconnected */
	QBD_CONN_RELEASED	= 4,	/* a remap dropped its server */
	QBD_CONN_CLOSING	= 5,	/* being torn down: IO fails, no retry */
};

/**
 * struct qbd_ioc_conn_info - one path of a device: its connections (one
 * per hardware queue) summed, @state the worst of them
 */
struct qbd_ioc_conn_info {
	struct qbd_ioc_addr addr;
	__u32	state;		/* enum qbd_conn_state */
	__u32	in_flight;
	__u64	sent;
	__u64	reconnects;
};

/**
 * struct qbd_ioc_throttle - QBD_IOC_SET_THROTTLE: limits, 0 = unlimited
 *
 * Token buckets in the driver; a request over its budget waits (it is
 * never failed).  Bursts up to a tenth of a second of each rate pass.
 * Each rate is at most QBD_MAX_THROTTLE_RATE (-EINVAL beyond).
 */
#define QBD_MAX_THROTTLE_RATE	(1ULL << 50)	/* bytes or IOs per second */
struct qbd_ioc_throttle {
	__u32	argsz;
	__u32	dev_index;
	__u64	read_bps;
	__u64	write_bps;
	__u64	read_iops;
	__u64	write_iops;
	__u8	reserved[24];
};

/* qbd_ioc_resume.mode */
enum qbd_resume_mode {
	QBD_RESUME_NORMAL	= 1,	/* send what was held, carry on */
	QBD_RESUME_ERROR	= 2,	/* fail every request with EIO */
	/* complete requests without the server: writes are dropped, reads
	 * return zeros; destroys data
	 */
	QBD_RESUME_DISCARD	= 3,
};

/** struct qbd_ioc_suspend - QBD_IOC_SUSPEND and QBD_IOC_RESUME */
struct qbd_ioc_suspend {
	__u32	argsz;
	__u32	dev_index;
	__u32	mode;		/* RESUME: enum qbd_resume_mode; SUSPEND: 0 */
	__u8	reserved[20];
};

/*
 * QBD_IOC_UPDATE: new metadata for a mapped volume (remap after its
 * servers changed, or online growth).  A struct qbd_ioc_map whose
 * @dev_index names the device; pool, volume, volume_id, transport,
 * options must match the mapping (the host id and key stay those of
 * the map).  The epoch must not go back; the size must not shrink;
 * shard_size must not change.  IO is held while
 * the paths are swapped; the active path stays active when the new list
 * still names it.
 */

#define QBD_IOC_MAGIC		0xbd
#define QBD_IOC_VERSION		_IOWR(QBD_IOC_MAGIC, 0, struct qbd_ioc_version)
#define QBD_IOC_MAP		_IOWR(QBD_IOC_MAGIC, 1, struct qbd_ioc_map)
#define QBD_IOC_UNMAP		_IOW(QBD_IOC_MAGIC, 2, struct qbd_ioc_unmap)
#define QBD_IOC_LIST		_IOWR(QBD_IOC_MAGIC, 3, struct qbd_ioc_list)
#define QBD_IOC_INFO		_IOWR(QBD_IOC_MAGIC, 4, struct qbd_ioc_info)
#define QBD_IOC_SET_THROTTLE	_IOW(QBD_IOC_MAGIC, 5, struct qbd_ioc_throttle)
#define QBD_IOC_SUSPEND		_IOW(QBD_IOC_MAGIC, 6, struct qbd_ioc_suspend)
#define QBD_IOC_RESUME		_IOW(QBD_IOC_MAGIC, 7, struct qbd_ioc_suspend)
#define QBD_IOC_UPDATE		_IOWR(QBD_IOC_MAGIC, 8, struct qbd_ioc_map)

QBD_PROTO_ASSERT_SIZE(struct qbd_ioc_version, 64);
QBD_PROTO_ASSERT_SIZE(struct qbd_ioc_addr, 24);
QBD_PROTO_ASSERT_SIZE(struct qbd_ioc_map, 400);
QBD_PROTO_ASSERT_SIZE(struct qbd_ioc_unmap, 32);
QBD_PROTO_ASSERT_SIZE(struct qbd_ioc_list, 24);
QBD_PROTO_ASSERT_SIZE(struct qbd_ioc_stats, 96);
QBD_PROTO_ASSERT_SIZE(struct qbd_ioc_info, 416);
QBD_PROTO_ASSERT_SIZE(struct qbd_ioc_conn_info, 48);
QBD_PROTO_ASSERT_SIZE(struct qbd_ioc_throttle, 64);
QBD_PROTO_ASSERT_SIZE(struct qbd_ioc_suspend, 32);

#endif /* QBD_IOCTL_H */
