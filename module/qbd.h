/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: private definitions shared by the files of qbd.ko.
 */
#ifndef QBD_H
#define QBD_H

#include <linux/bits.h>
#include <linux/blk-mq.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/socket.h>
#include <linux/spinlock.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <net/net_namespace.h>

#include "qbd_genl.h"
#include "qbd_ioctl.h"
#include "qbd_proto.h"
#include "qbd_shard.h"
#include "qbd_state.h"
#include "qbd_throttle.h"

#define QBD_DEFAULT_QUEUE_DEPTH		128
#define QBD_MAX_QUEUE_DEPTH		1024
#define QBD_DEFAULT_MAX_IO_BYTES	SZ_1M
#define QBD_DEFAULT_IO_TIMEOUT_MS	30000
#define QBD_MIN_IO_TIMEOUT_MS		1000
#define QBD_MAX_IO_TIMEOUT_MS		(3600 * 1000)
#define QBD_CONNECT_TIMEOUT_MS		5000
#define QBD_DEFAULT_RECONNECT_DELAY_MS	500
#define QBD_RECONNECT_BACKOFF_SHIFT	3	/* max delay: 8 times the first */
#define QBD_DEFAULT_GIVEUP_TIMEOUT_MS	60000
#define QBD_DEFAULT_HEARTBEAT_MS	10000
#define QBD_MAX_TIMER_MS		(24 * 3600 * 1000)
#define QBD_MIN_SHARD_SIZE		4096ULL
#define QBD_MAX_SHARD_SIZE		BIT_ULL(40)	/* chunk_sectors is 32 bit */
#define QBD_MAX_VOLUME_SIZE		BIT_ULL(60)

/*
 * A request crossing a shard boundary becomes one piece per shard.  Reads
 * and writes never cross (chunk_sectors is the shard size); discard and
 * write-zeroes are capped at one shard, so they cross at most once.
 */
#define QBD_MAX_PIECES			2

/*
 * Addresses a device may know: the paths of its map and those a remap
 * dropped (released), kept so that their connection slots keep their
 * client identity should a later map name them again.
 */
#define QBD_MAX_ADDRS			(2 * QBD_MAX_PATHS)

/* A request the servers call stale is tried again this often. */
#define QBD_REQUEUE_DELAY_MS		1000
/* A request whose paths are all reconnecting is tried again this often. */
#define QBD_PATH_WAIT_MS		50

struct qbd_device;
struct qbd_conn;

/**
 * struct qbd_piece - the part of a request that goes to one shard
 * @send_node:	entry in the connection's send list, under its lock
 * @inflight_node: entry in the connection's in-flight list, under its lock;
 *		whoever takes a piece off that list owns its completion
 * @conn:	connection it is sent on
 * @offset:	byte offset in the volume
 * @length:	bytes
 * @index:	position in qbd_cmd.pieces, part of the wire tag
 * @answered:	its reply (or its failure) is in: a timeout of the request
 *		leaves its connection alone
 * @tx_sock_gen, @tx_seq, @tx_bytes: TCP, under its connection's lock: the
 *		socket the request was last written to, where in that socket's
 *		byte stream it starts and how long it is; a reply is taken
 *		only once the server acknowledged all of it
 */
struct qbd_piece {
	struct list_head	send_node;
	struct list_head	inflight_node;
	struct qbd_conn		*conn;
	u64			offset;
	u32			length;
	u8			index;
	u8			crc_retries;	/* resends for bad crc32c */
	bool			answered;
	u32			tx_sock_gen;
	u32			tx_seq;
	u32			tx_bytes;
};

/**
 * struct qbd_cmd - per-request context, allocated with the tag set
 * @nr_pieces:	pieces in use
 * @pending:	pieces not yet answered; the last one completes the request
 * @status:	first error of any piece (a blk_status_t, set by cmpxchg)
 * @gen:	bumped for every use of the tag, so a late reply for an
 *		earlier use of the same tag is recognised and dropped
 * @start_ns:	when queue_rq took the request, for the latency figures
 * @first_ns:	when queue_rq first took it, 0 until then: every retry
 *		(a stale epoch's requeue, a resend after a reset) ends
 *		giveup_timeout after it, one budget for all of them
 * @finishing:	set by whoever completes or requeues the request once all
 *		its pieces are in: the last piece, or a timeout that finds a
 *		completion lost to fault injection
 * @stale:	a server answered with a stale epoch: requeue, don't complete
 * @reroute:	its connection broke while the volume has another path:
 *		requeue at once, routing picks a live path
 * @pieces:	what is sent to each shard, QBD_MAX_PIECES of them
 */
struct qbd_cmd {
	u16			nr_pieces;
	atomic_t		pending;
	int			status;
	u32			gen;
	u64			start_ns;
	u64			first_ns;
	atomic_t		finishing;
	bool			stale;
	bool			reroute;
	struct qbd_piece	pieces[QBD_MAX_PIECES];
};

/**
 * struct qbd_transport_ops - what the block code needs of a transport
 * @name:	"tcp" or "rdma"
 * @owner:	module that provides it (NULL: qbd.ko itself)
 * @page_segments: requests must map onto whole pages but the first and
 *		last (a page-sized virt boundary), as memory registration needs
 * @connect:	establish the connection and run the handshake; sleeps
 * @start:	start the transport's threads once the disk exists
 * @queue:	hand a piece to the connection; never sleeps; false when
 *		the connection has given up and the piece must fail
 * @reset:	drop the connection; it reconnects and resends what was in
 *		flight; may sleep, idempotent
 * @abort:	fail everything queued or in flight and never reconnect;
 *		may sleep, idempotent
 * @release:	stop threads and free the transport's resources
 */
struct qbd_transport_ops {
	const char	*name;
	struct module	*owner;
	bool		page_segments;
	int		(*connect)(struct qbd_conn *conn);
	int		(*start)(struct qbd_conn *conn);
	bool		(*queue)(struct qbd_conn *conn, struct qbd_piece *piece);
	void		(*reset)(struct qbd_conn *conn);
	void		(*abort)(struct qbd_conn *conn);
	void		(*release)(struct qbd_conn *conn);
};

/**
 * struct qbd_conn - one connection to one server for one hardware queue
 * @dev:	owning device
 * @addr_index:	index in dev->addrs
 * @hwq:	hardware queue it serves
 * @addr:	server address
 * @ops:	transport
 * @lock:	protects @state, and the transport's lists of pieces, so that
 *		a piece is queued, sent, held or failed by the state it sees
 * @state:	enum qbd_conn_state, protected by @lock; changed only by
 *		qbd_conn_change_state(); read without the lock only to show
 *		or to route (qbd_conn_state())
 * @in_flight:	pieces handed to the transport and not completed
 * @sent:	pieces sent
 * @reconnects:	times the connection was re-established
 * @attempts:	failed reconnect attempts since it was lost
 * @client_id:	names this connection slot to the server across reconnects
 *		(struct qbd_open); random, set when the slot is set up
 * @incarnation: bumped by every OPEN of the slot; owned by the thread
 *		that connects (the map, then the transport's reconnect)
 * @open_epoch:	set by an update before it connects the slot: OPEN names
 *		the epoch being installed, which servers already serve,
 *		not the device's older one (whichever is newer is sent)
 * @priv:	the transport's state
 */
struct qbd_conn {
	struct qbd_device		*dev;
	u16				addr_index;
	u16				hwq;
	struct sockaddr_storage		addr;
	const struct qbd_transport_ops	*ops;
	spinlock_t			lock;		/* see @lock above */
	int				state;
	atomic_t			in_flight;
	atomic64_t			sent;
	atomic64_t			reconnects;
	atomic_t			attempts;
	atomic64_t			answered;	/* replies to requests */
	/* Owned by the thread that reconnects: see qbd_reconnect(). */
	u64				answered_at_open;
	unsigned long			outage_start;	/* jiffies, 0: none */
	unsigned long			outage_delay;	/* next backoff */
	u64				client_id;
	u64				incarnation;
	u64				open_epoch;
	void				*priv;
};

/* A glance at @conn's state, which may change at once; see @lock. */
static inline int qbd_conn_state(const struct qbd_conn *conn)
{
	return READ_ONCE(conn->state);
}

/* A reply that matched its request came in on @conn: the server serves. */
static inline void qbd_conn_answered(struct qbd_conn *conn)
{
	atomic64_inc(&conn->answered);
}

/* Counters of one device, per CPU, summed when read. */
struct qbd_stats {
	u64	read_ops;
	u64	read_bytes;
	u64	write_ops;
	u64	write_bytes;
	u64	discard_ops;
	u64	discard_bytes;
	u64	flush_ops;
	u64	errors;
	u64	timeouts;
	u64	total_latency_ns;
	u64	completed;
};

/**
 * struct qbd_device - one mapped volume, /dev/qbdX
 *
 * Fields set at map time and never changed afterwards need no lock.  The
 * volume map (size, epoch, nr_addrs, nr_paths, paths) changes only under
 * qbd_devices_mutex with the queue quiesced, so queue_rq reads it without
 * a lock.  @active_addr is changed by queue_rq (cmpxchg) when the active
 * path's connection is not live and another is.  @list and @updating are protected by
 * qbd_devices_mutex.  An update connects to new servers with @updating
 * set and the mutex dropped: it alone writes addrs[] and conns[] past
 * nr_addrs meanwhile, and an unmap waits for it to clear @updating.
 */
struct qbd_device {
	int			index;
	char			disk_name[QBD_DISK_NAME_MAX];
	char			pool[QBD_NAME_MAX];
	char			volume[QBD_NAME_MAX];
	u64			volume_id;
	u64			size;
	u64			shard_size;
	unsigned int		shard_shift;
	u64			epoch;
	/* QBD_MAP_*; QBD_MAP_TAKE_OVER is cleared (WRITE_ONCE) once mapped */
	u32			flags;
	u32			transport;
	u32			nr_addrs;	/* known: paths and released */
	u32			nr_paths;
	u32			queue_depth;
	u32			nr_hw_queues;
	u32			max_io_bytes;
	u32			io_timeout_ms;
	u32			reconnect_delay_ms;
	u32			giveup_timeout_ms;
	u32			heartbeat_ms;
	u32			key_len;
	u8			key[QBD_KEY_MAX];	/* this host's */
	struct crypto_shash	*hmac;		/* keyed with @key, or NULL */
	char			host_id[QBD_HOST_ID_MAX];
	/* crc32c of payloads, or NULL with QBD_MAP_NO_CRC32C */
	struct crypto_shash	*crc;
	atomic64_t		crc_errors;	/* payloads that mismatched */

	const struct qbd_transport_ops *ops;	/* holds its module */
	struct qbd_ioc_addr	*addrs;		/* QBD_MAX_ADDRS, nr_addrs used */
	/* The volume's paths in order of preference: indexes into addrs. */
	u16			paths[QBD_MAX_PATHS];
	atomic_t		active_addr;	/* where IO goes */
	/* QBD_MAX_ADDRS * nr_hw_queues: a remap may add servers */
	struct qbd_conn		*conns;
	struct net		*net;		/* namespace of the mapper */

	struct blk_mq_tag_set	tag_set;
	struct gendisk		*disk;
	struct qbd_stats __percpu *stats;
	atomic_t		in_flight;
	/*
	 * LIVE, SUSPENDED or DELETING (enum qbd_dev_state), changed only by
	 * qbd_dev_set_life() under qbd_devices_mutex (DELETING under
	 * open_mutex too, which qbd_open() reads it under); read anywhere.
	 * What qbd_dev_state() reports folds the paths' states in.
	 */
	atomic_t		life;

	/* Resume mode and throttle: under qbd_devices_mutex. */
	u32			resume_mode;	/* read by queue_rq */
	u64			throttle_rates[QBD_TB_COUNT];
	struct qbd_throttle	throttle;

	struct work_struct	remap_work;	/* sends the remap uevent */
	unsigned long		remap_requested; /* bit 0: event pending */

	/*
	 * Protects open_count and torn_down: the unmap that finds no
	 * opener, or the last release after an unmap, frees the device.
	 */
	struct mutex		open_mutex;
	unsigned int		open_count;
	bool			torn_down;	/* unmap is done with it */
	bool			updating;	/* see above */

	struct list_head	list;	/* in qbd_mapping, then qbd_devices */
};

static inline struct qbd_conn *qbd_conn_of(struct qbd_device *dev,
					   unsigned int addr_index,
					   unsigned int hwq)
{
	return &dev->conns[addr_index * dev->nr_hw_queues + hwq];
}

/* Connections that may be in use: those of the addresses mapped. */
static inline unsigned int qbd_nr_conns(const struct qbd_device *dev)
{
	return dev->nr_addrs * dev->nr_hw_queues;
}

static inline struct qbd_cmd *qbd_piece_cmd(struct qbd_piece *piece)
{
	return container_of(piece - piece->index, struct qbd_cmd, pieces[0]);
}

static inline struct request *qbd_piece_rq(struct qbd_piece *piece)
{
	return blk_mq_rq_from_pdu(qbd_piece_cmd(piece));
}

/* qbd_main.c */
extern struct mutex qbd_devices_mutex;
extern struct list_head qbd_devices;
extern struct list_head qbd_mapping;

/* qbd_dev.c */
int qbd_dev_map(struct qbd_ioc_map *args, const struct qbd_ioc_addr *paths);
int qbd_dev_unmap(u32 index, u32 flags);
int qbd_dev_info(struct qbd_ioc_info *info,
		 struct qbd_ioc_conn_info __user *conns);
int qbd_dev_list(u32 *indexes, u32 capacity, u32 *count);
void qbd_dev_get_stats(struct qbd_device *dev, struct qbd_ioc_stats *out);
void qbd_piece_complete(struct qbd_piece *piece, blk_status_t status);
int qbd_dev_state(struct qbd_device *dev);
int qbd_dev_set_life(struct qbd_device *dev, int life);
void qbd_piece_stale(struct qbd_piece *piece);
struct qbd_piece *qbd_piece_in_flight(struct qbd_conn *conn, u64 wire_tag);
bool qbd_piece_can_reroute(struct qbd_piece *piece);
bool qbd_piece_expired(struct qbd_piece *piece);
void qbd_piece_reroute(struct qbd_piece *piece);

/* qbd_dev_ops.c: operations on a live device */
int qbd_dev_set_throttle(const struct qbd_ioc_throttle *args);
int qbd_dev_suspend(u32 index);
int qbd_dev_resume(u32 index, u32 mode);
int qbd_dev_update(struct qbd_ioc_map *args, const struct qbd_ioc_addr *paths);
struct qbd_device *qbd_find_locked(u32 index);
void qbd_init_conn(struct qbd_device *dev, unsigned int i);
int qbd_connect_conns(struct qbd_device *dev, unsigned int from,
		      unsigned int to);
void qbd_conn_start_thread(struct qbd_conn *conn, struct task_struct *t);
int qbd_start_conns(struct qbd_device *dev, unsigned int from,
		    unsigned int to);
void qbd_release_conns(struct qbd_device *dev, unsigned int from,
		       unsigned int to);

int qbd_dev_register(void);
void qbd_dev_unregister(void);

/* qbd_ctl.c */
int qbd_ctl_register(void);
void qbd_ctl_unregister(void);
int qbd_validate_map(const struct qbd_ioc_map *args);
int qbd_validate_paths(const struct qbd_ioc_addr *paths, u32 nr_paths);
int qbd_validate_addr(const struct qbd_ioc_addr *addr);
int qbd_validate_throttle(const struct qbd_ioc_throttle *args);

/* qbd_events.c: generic netlink events (include/qbd_genl.h) */
void qbd_event_conn(struct qbd_conn *conn, enum qbd_event event);
void qbd_event_dev(struct qbd_device *dev, enum qbd_event event, gfp_t gfp);
int qbd_events_register(void);
void qbd_events_unregister(void);

/* qbd_proc.c */
int qbd_proc_register(void);
void qbd_proc_unregister(void);

/* qbd_sysfs.c */
extern const struct attribute_group *qbd_disk_attr_groups[];
const char *qbd_dev_state_name(int state);

/* qbd_proto.c: wire encoding, pure functions */
void qbd_encode_req(struct qbd_req_hdr *hdr, u16 opcode, u32 flags,
		    u32 length, u64 tag, u64 volume_id, u64 epoch, u64 offset);
int qbd_check_reply(const struct qbd_reply_hdr *hdr, u32 flags);
u64 qbd_make_tag(u16 hwq, u16 tag, u8 piece, u32 gen);
void qbd_split_tag(u64 wire_tag, u16 *hwq, u16 *tag, u8 *piece, u32 *gen);

/* Tag of heartbeats: no hardware queue has this number. */
#define QBD_HEARTBEAT_HWQ	0xffff

/* qbd_auth.c */
struct crypto_shash;
struct crypto_shash *qbd_auth_alloc(const u8 *key, u32 key_len);
void qbd_auth_free(struct crypto_shash *tfm);
int qbd_auth_mac(struct crypto_shash *tfm, const char *label,
		 const u8 *nonce_a, const u8 *nonce_b, u8 *mac);

/*
 * qbd_crc.c: crc32c of payloads as the wire carries it.  A payload that
 * fails it is sent again on a new connection this many times before its
 * request fails.
 */
#define QBD_CRC_RETRIES		3
struct bio;
struct crypto_shash *qbd_crc_alloc(void);
void qbd_crc_free(struct crypto_shash *tfm);
u32 qbd_crc_bios(struct crypto_shash *tfm, struct bio *bio);
u32 qbd_crc_buf(struct crypto_shash *tfm, const void *buf, unsigned int len);
bool qbd_crc_mismatch(struct qbd_conn *conn, struct qbd_piece *piece);

/* qbd_tcp.c */
extern const struct qbd_transport_ops qbd_tcp_ops;
struct sock;
void qbd_tcp_prepare_sock(struct sock *sk, long timeo);

/* qbd_transport.c */
int qbd_register_transport(u32 id, const struct qbd_transport_ops *ops);
void qbd_unregister_transport(u32 id);
const struct qbd_transport_ops *qbd_get_transport(u32 id);
void qbd_put_transport(const struct qbd_transport_ops *ops);

/* How a transport reconnects; see qbd_reconnect(). */
struct qbd_reconnect_ops {
	int	(*open)(void *ctx);
	void	(*give_up)(void *ctx);
};

bool __qbd_conn_change_state(struct qbd_conn *conn, int state);
bool qbd_conn_change_state(struct qbd_conn *conn, int state);
bool qbd_conn_closing(struct qbd_conn *conn);
int qbd_reconnect(struct qbd_conn *conn, const struct qbd_reconnect_ops *ops,
		  void *ctx);
void qbd_wait_for_stop(void);

/* qbd_handshake.c: HELLO, AUTH and OPEN over any transport */
typedef int (*qbd_call_fn)(void *ctx, u16 opcode, const void *payload,
			   u32 len, void *reply, u32 reply_len);
int qbd_handshake(struct qbd_conn *conn, u64 features, qbd_call_fn call,
		  void *ctx);
int qbd_reply_status(const struct qbd_reply_hdr *reply, u16 opcode,
		     u32 reply_len);
u32 qbd_setup_flags(const struct qbd_device *dev, u16 opcode);
u16 qbd_wire_opcode(struct request *rq, u32 *flags);
blk_status_t qbd_status_to_blk(s32 status);

#endif /* QBD_H */
