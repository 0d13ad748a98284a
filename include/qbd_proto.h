/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * qbd wire protocol: the one definition shared by qbd.ko, qbd-server and
 * the qbd tool.
 *
 * Every integer on the wire is little-endian.  Every message starts with a
 * fixed-size header carrying the magic and the protocol version, so a peer
 * speaking something else is detected on its first bytes.
 *
 * A data connection goes through:
 *   client: HELLO (payload struct qbd_hello)
 *   server: reply (payload struct qbd_hello_reply)
 *   client: AUTH  (payload struct qbd_auth)    when the server has keys
 *   server: reply (status 0 or -EACCES)
 *   client: OPEN  (payload struct qbd_open)
 *   server: reply (payload struct qbd_open_reply)
 *   then any number of READ/WRITE/FLUSH/DISCARD/WRITE_ZEROES/HEARTBEAT,
 *   answered in any order and matched by tag.
 *
 * A control connection does the same HELLO/AUTH and then CTL_* requests.
 *
 * WRITE payload follows the request header; READ payload follows the reply
 * header.  All other payloads follow their header and are sized by the
 * header's length field.
 */
#ifndef QBD_PROTO_H
#define QBD_PROTO_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/build_bug.h>
#else
#include <linux/types.h>
#endif

#define QBD_PROTO_MAGIC		0x50444251U	/* "QBDP" little-endian */
#define QBD_PROTO_VERSION	1
#define QBD_DEFAULT_PORT	7800
#define QBD_DEFAULT_CTL_PORT	7800

/* Limits every implementation enforces on what it receives. */
#define QBD_SECTOR_SIZE		512U
#define QBD_MAX_IO_BYTES	(4U << 20)	/* largest READ/WRITE payload */
#define QBD_MAX_CTL_BYTES	(1U << 20)	/* largest control payload */
#define QBD_NAME_MAX		64		/* pool or volume name incl. NUL */
#define QBD_ADDR_MAX		64		/* "host:port" incl. NUL */
#define QBD_NONCE_BYTES		32
#define QBD_MAC_BYTES		32		/* HMAC-SHA256 */
#define QBD_KEY_MAX		64		/* a host's key, bytes */
#define QBD_KEY_MIN		16
#define QBD_HOST_ID_MAX		64		/* host id incl. NUL */

enum qbd_opcode {
	QBD_OP_HELLO		= 1,
	QBD_OP_AUTH		= 2,
	QBD_OP_OPEN		= 3,

	QBD_OP_READ		= 16,
	QBD_OP_WRITE		= 17,
	QBD_OP_FLUSH		= 18,
	QBD_OP_DISCARD		= 19,
	QBD_OP_WRITE_ZEROES	= 20,
	QBD_OP_HEARTBEAT	= 21,

	QBD_OP_CTL_CREATE	= 32,	/* payload qbd_ctl_create */
	QBD_OP_CTL_DELETE	= 33,	/* payload qbd_ctl_name */
	QBD_OP_CTL_LIST		= 34,	/* payload qbd_ctl_name (pool, "" = all) */
	QBD_OP_CTL_RESIZE	= 35,	/* payload qbd_ctl_resize */
	QBD_OP_CTL_INFO		= 36,	/* payload qbd_ctl_name */
	/*
	 * 37 and 38 were CTL_ADOPT and CTL_MOVE, of the retired server
	 * cluster: never reused.  A server answers them -EOPNOTSUPP.
	 */
	QBD_OP_CTL_HOLDERS	= 39,	/* payload qbd_ctl_name */
	QBD_OP_CTL_RELEASE	= 40,	/* payload qbd_ctl_name */
};

/* Request flags. */
#define QBD_REQ_FUA		(1U << 0)	/* WRITE: durable before reply */
#define QBD_REQ_CRC		(1U << 1)	/* crc32c of the payload is set */
/*
 * (1U << 2) was QBD_REQ_FORWARDED, of the retired server cluster (a
 * change forwarded to a peer, a shard mover's OPEN): never reused, and
 * refused as an unknown flag.
 */
/*
 * OPEN: the client maps the volume read-only; the server opens it for
 * reading only and answers WRITE, DISCARD and WRITE_ZEROES with -EROFS.
 */
#define QBD_REQ_READ_ONLY	(1U << 3)
/*
 * One writer per volume.  A read-write OPEN claims the volume for the host
 * HELLO named; while one host holds it, another host's read-write OPEN is
 * answered -EBUSY (CTL_HOLDERS says who holds it).  The claim lasts while
 * the host has the volume open read-write and for the server's grace
 * period after its last such connection ended, so that a host reconnecting
 * finds its claim; CTL_RELEASE by the holder ends it at once.
 *
 * QBD_REQ_SHARED: the host shares the volume with every other host that
 * asks for sharing too (a cluster filesystem's hosts); an exclusive claim
 * still refuses them, and they refuse an exclusive OPEN.
 *
 * QBD_REQ_TAKE_OVER: the other hosts' claims end and their connections
 * are fenced (no more of their IO reaches the disk, and what they started
 * has finished) before this OPEN is answered: for a holder known to be
 * gone.  -EAGAIN when their IO did not finish in time.
 */
#define QBD_REQ_SHARED		(1U << 4)
#define QBD_REQ_TAKE_OVER	(1U << 5)
#define QBD_REQ_FLAGS_KNOWN	(QBD_REQ_FUA | QBD_REQ_CRC | QBD_REQ_READ_ONLY | \
				 QBD_REQ_SHARED | QBD_REQ_TAKE_OVER)

/*
 * Feature bits negotiated in HELLO; unknown bits are refused.
 *
 * QBD_FEAT_CRC32C: once agreed, every WRITE carries QBD_REQ_CRC and the
 * crc32c of its payload, and the server stores none whose payload does not
 * match (QBD_STATUS_BAD_CRC); every READ reply with data carries
 * QBD_REQ_CRC and the crc32c of its data, which the client checks before
 * it completes the read.  The crc32c is CRC-32C (Castagnoli) as iSCSI and
 * NVMe/TCP use it: seeded with ~0 and inverted at the end
 * (crc32c("123456789") = 0xe3069283).
 */
#define QBD_FEAT_CRC32C		(1ULL << 0)	/* payload checksums */
#define QBD_FEAT_FUA		(1ULL << 1)
#define QBD_FEAT_DISCARD	(1ULL << 2)
#define QBD_FEAT_WRITE_ZEROES	(1ULL << 3)
#define QBD_FEAT_RDMA_INLINE	(1ULL << 4)	/* RDMA: small WRITEs inline */
#define QBD_FEAT_RDMA_REMOTE_INV (1ULL << 5)	/* RDMA: replies invalidate */
#define QBD_FEATURES_KNOWN	(QBD_FEAT_CRC32C | QBD_FEAT_FUA | \
				 QBD_FEAT_DISCARD | QBD_FEAT_WRITE_ZEROES | \
				 QBD_FEAT_RDMA_INLINE | QBD_FEAT_RDMA_REMOTE_INV)

/* Status values beyond the negative errnos: a stale epoch asks for remap. */
#define QBD_STATUS_STALE_EPOCH	(-116)	/* -ESTALE */
/* A WRITE's payload did not match its crc32c: nothing of it was stored. */
#define QBD_STATUS_BAD_CRC	(-74)	/* -EBADMSG */

/**
 * struct qbd_req_hdr - every client-to-server message starts with this
 * @magic:	QBD_PROTO_MAGIC
 * @version:	QBD_PROTO_VERSION
 * @opcode:	enum qbd_opcode
 * @flags:	QBD_REQ_*
 * @length:	payload bytes (WRITE: bytes that follow; READ: bytes wanted;
 *		DISCARD/WRITE_ZEROES: range length, nothing follows)
 * @tag:	opaque to the server, echoed in the reply
 * @volume_id:	volume the connection opened (0 before OPEN)
 * @epoch:	volume metadata epoch the client believes current
 * @offset:	byte offset in the volume
 * @crc32c:	crc32c of the WRITE payload when QBD_REQ_CRC is set
 * @reserved:	zero
 */
struct qbd_req_hdr {
	__le32	magic;
	__le16	version;
	__le16	opcode;
	__le32	flags;
	__le32	length;
	__le64	tag;
	__le64	volume_id;
	__le64	epoch;
	__le64	offset;
	__le32	crc32c;
	__u8	reserved[12];
};

/**
 * struct qbd_reply_hdr - every server-to-client message starts with this
 * @magic:	QBD_PROTO_MAGIC
 * @version:	QBD_PROTO_VERSION
 * @opcode:	opcode of the request answered
 * @status:	0 or a negative errno (QBD_STATUS_STALE_EPOCH asks for remap)
 * @length:	payload bytes that follow (READ data on success only)
 * @crc32c:	crc32c of the payload when QBD_REQ_CRC is set in @flags
 * @flags:	QBD_REQ_CRC or 0
 * @tag:	the request's tag
 * @reserved:	zero
 */
struct qbd_reply_hdr {
	__le32	magic;
	__le16	version;
	__le16	opcode;
	__le32	status;
	__le32	length;
	__le32	crc32c;
	__le32	flags;
	__le64	tag;
	__u8	reserved[32];
};

/**
 * struct qbd_hello - payload of QBD_OP_HELLO
 * @features:	QBD_FEAT_* the client wants; the server refuses unknown bits
 * @client_id:	random per connection, for the server's log
 * @nonce:	client challenge for mutual authentication
 * @host_id:	the client host's name in the server's keys file,
 *		NUL-terminated; empty for a host without a key
 */
struct qbd_hello {
	__le64	features;
	__le64	client_id;
	__u8	nonce[QBD_NONCE_BYTES];
	char	host_id[QBD_HOST_ID_MAX];
	__u8	reserved[16];
};

/* qbd_hello_reply.auth values */
#define QBD_AUTH_NONE		0	/* server has no keys: anyone may OPEN */
#define QBD_AUTH_HMAC_SHA256	1	/* server requires QBD_OP_AUTH */

/**
 * struct qbd_hello_reply - payload of the HELLO reply
 * @features:	features accepted (a subset of those asked)
 * @auth:	QBD_AUTH_*
 * @max_io_bytes: largest READ/WRITE the server takes
 * @nonce:	server challenge
 * @server_mac:	HMAC-SHA256(key, "qbd-server" | client nonce | server
 *		nonce) when @auth is QBD_AUTH_HMAC_SHA256, with the key the
 *		server's keys file gives @host_id: proves the server knows
 *		this host's key
 *
 * A server with keys refuses a HELLO whose @host_id it has no key for
 * (-EACCES): a host it does not know, or one whose key was revoked.
 */
struct qbd_hello_reply {
	__le64	features;
	__le32	auth;
	__le32	max_io_bytes;
	__u8	nonce[QBD_NONCE_BYTES];
	__u8	server_mac[QBD_MAC_BYTES];
	__u8	reserved[16];
};

/**
 * struct qbd_auth - payload of QBD_OP_AUTH
 * @client_mac:	HMAC-SHA256(key, "qbd-client" | server nonce | client nonce)
 */
struct qbd_auth {
	__u8	client_mac[QBD_MAC_BYTES];
};

#define QBD_AUTH_SERVER_LABEL	"qbd-server"
#define QBD_AUTH_CLIENT_LABEL	"qbd-client"

/**
 * struct qbd_open - payload of QBD_OP_OPEN: bind the connection to a volume
 * @volume_id:	volume to serve on this connection
 * @epoch:	epoch of the client's shard map
 * @client_id:	names the client's connection slot across its reconnects
 *		(random, never reused); 0 for a tool that needs no fencing
 * @incarnation: bumped by the client at every OPEN of that slot
 *
 * Session fencing: before the server answers an OPEN, no request of an
 * older incarnation of the same @client_id can reach the volume any more
 * (the server stopped taking them and waited for the disk IO it had
 * started).  A request the client resends after a reconnect can then never
 * be overtaken by its own earlier copy.  An OPEN whose incarnation is not
 * newer than one already opened is answered -ESTALE, and -EBUSY when the
 * older incarnation's disk IO did not finish in time.
 */
struct qbd_open {
	__le64	volume_id;
	__le64	epoch;
	__le64	client_id;
	__le64	incarnation;
};

/**
 * struct qbd_open_reply - payload of the OPEN reply
 * @size:	volume size in bytes
 * @shard_size:	bytes per shard (power of two)
 * @epoch:	current epoch
 */
struct qbd_open_reply {
	__le64	size;
	__le64	shard_size;
	__le64	epoch;
	__u8	reserved[8];
};

/** struct qbd_ctl_name - a pool/volume name pair (NUL-terminated) */
struct qbd_ctl_name {
	char	pool[QBD_NAME_MAX];
	char	volume[QBD_NAME_MAX];
};

/** struct qbd_ctl_create - payload of QBD_OP_CTL_CREATE */
struct qbd_ctl_create {
	struct qbd_ctl_name name;
	__le64	size;		/* bytes, multiple of 512 */
	__le64	shard_size;	/* bytes, power of two, 0 = server default */
	__u8	reserved[16];	/* zero (was a replica count) */
};

/** struct qbd_ctl_resize - payload of QBD_OP_CTL_RESIZE (grow only) */
struct qbd_ctl_resize {
	struct qbd_ctl_name name;
	__le64	new_size;
	__u8	reserved[8];
};

/**
 * struct qbd_ctl_volume - a volume, as every path to it sees it
 * @name:	pool and volume
 * @volume_id:	the same on every server that serves the volume
 * @size:	bytes
 * @shard_size:	bytes, power of two: no read or write crosses a multiple
 *		of it (the queue's chunk size)
 * @epoch:	epoch of the volume's metadata (OPEN and IO carry it)
 * @reserved:	zero (held a shard count, a replica count and a fence
 *		flag of the retired server cluster)
 *
 * CTL_LIST replies with a __le32 count and that many of these.
 */
struct qbd_ctl_volume {
	struct qbd_ctl_name name;
	__le64	volume_id;
	__le64	size;
	__le64	shard_size;
	__le64	epoch;
	__u8	reserved[16];
};

/** struct qbd_ctl_addr - one server address, "host:port", NUL-terminated */
struct qbd_ctl_addr {
	char	addr[QBD_ADDR_MAX];
};

/**
 * struct qbd_ctl_info_reply - the reply to CTL_INFO (and to CTL_CREATE
 * and CTL_RESIZE, the volume as they left it)
 * @volume:	the volume
 * @path:	the address this server advertises for it: one path to the
 *		volume.  A client that wants every path asks every server it
 *		knows and keeps those that answer with the same volume.
 */
struct qbd_ctl_info_reply {
	struct qbd_ctl_volume volume;
	struct qbd_ctl_addr path;
};

/**
 * struct qbd_ctl_holder - a host that holds a volume read-write
 * @host_id:	as its HELLO named it, NUL-terminated
 * @flags:	QBD_HOLDER_*
 * @connections: its read-write connections open now; 0 while its claim
 *		lasts out the grace period, and 0 for QBD_HOLDER_ELSEWHERE
 * @reserved:	zero
 *
 * CTL_HOLDERS replies with a __le32 count and that many of these.
 */
struct qbd_ctl_holder {
	char	host_id[QBD_HOST_ID_MAX];
	__le32	flags;
	__le32	connections;
	__u8	reserved[8];
};

#define QBD_HOLDER_SHARED	(1U << 0)	/* opened with QBD_REQ_SHARED */
/* Holds it through another server of the volume (an rbd gateway). */
#define QBD_HOLDER_ELSEWHERE	(1U << 1)

/*
 * RDMA transport.  One reliable-connected queue pair per connection, set
 * up with rdma_cm (RDMA_PS_TCP) on the same address and port number as the
 * server's TCP listener.  Each client message is one SEND of struct
 * qbd_rdma_req, each server message one SEND of struct qbd_rdma_reply, so
 * receive buffers have a fixed size.  The setup steps (HELLO, AUTH, OPEN)
 * and their replies carry their payloads inline, hdr.length saying how many
 * bytes of @payload are used.  A READ or WRITE carries in @data one span of
 * the client's memory registered for remote access: the server RDMA-READs
 * a WRITE's data from it, or RDMA-WRITEs a READ's data into it before it
 * sends the reply (whose hdr.length is then the IO length, with nothing
 * inline).  hdr.length of a READ or WRITE equals data.length.  Control
 * operations are served over TCP only.  The connection's credit is the
 * client's: it never has more requests outstanding than it posted
 * receives for replies.
 *
 * With QBD_FEAT_RDMA_INLINE agreed in HELLO, a WRITE of at most
 * QBD_RDMA_INLINE_DATA_MAX bytes may instead carry its data in the same
 * SEND, right after struct qbd_rdma_req: @data_flags has
 * QBD_RDMA_DATA_INLINE, data.length is the IO length, data.addr and
 * data.rkey are 0.  A small write then costs the client no memory
 * registration and invalidation, and the server no RDMA READ round trip.
 * A server that agrees posts receives of QBD_RDMA_RECV_MAX bytes.
 *
 * With QBD_FEAT_RDMA_REMOTE_INV agreed, the reply to a READ or WRITE that
 * named a registered span is a SEND with Invalidate of data.rkey (the
 * client registers each span with a fast-registration region): the
 * client needs no invalidation of its own.
 */
#define QBD_RDMA_INLINE_MAX	128
#define QBD_RDMA_INLINE_DATA_MAX 4096
#define QBD_RDMA_DATA_INLINE	(1U << 0)

/** struct qbd_rdma_sge - a registered span of the client's memory */
struct qbd_rdma_sge {
	__le64	addr;
	__le32	rkey;
	__le32	length;
};

/** struct qbd_rdma_req - a client message on the RDMA transport */
struct qbd_rdma_req {
	struct qbd_req_hdr	hdr;
	struct qbd_rdma_sge	data;
	__le32			data_flags;	/* QBD_RDMA_DATA_* */
	__u8			reserved[44];
	__u8			payload[QBD_RDMA_INLINE_MAX];
};

/* The largest client message: a request and its inline write data. */
#define QBD_RDMA_RECV_MAX	(sizeof(struct qbd_rdma_req) + \
				 QBD_RDMA_INLINE_DATA_MAX)

/** struct qbd_rdma_reply - a server message on the RDMA transport */
struct qbd_rdma_reply {
	struct qbd_reply_hdr	hdr;
	__u8			payload[QBD_RDMA_INLINE_MAX];
};

#ifdef __cplusplus
#define QBD_STATIC_ASSERT static_assert
#else
#define QBD_STATIC_ASSERT _Static_assert
#endif
#define QBD_PROTO_ASSERT_SIZE(type, size) \
	QBD_STATIC_ASSERT(sizeof(type) == (size), #type " has the wrong size")

QBD_PROTO_ASSERT_SIZE(struct qbd_req_hdr, 64);
QBD_PROTO_ASSERT_SIZE(struct qbd_reply_hdr, 64);
QBD_PROTO_ASSERT_SIZE(struct qbd_hello, 128);
QBD_PROTO_ASSERT_SIZE(struct qbd_hello_reply, 96);
QBD_PROTO_ASSERT_SIZE(struct qbd_auth, 32);
QBD_PROTO_ASSERT_SIZE(struct qbd_open, 32);
QBD_PROTO_ASSERT_SIZE(struct qbd_open_reply, 32);
QBD_PROTO_ASSERT_SIZE(struct qbd_ctl_name, 128);
QBD_PROTO_ASSERT_SIZE(struct qbd_ctl_create, 160);
QBD_PROTO_ASSERT_SIZE(struct qbd_ctl_resize, 144);
QBD_PROTO_ASSERT_SIZE(struct qbd_ctl_volume, 176);
QBD_PROTO_ASSERT_SIZE(struct qbd_ctl_addr, 64);
QBD_PROTO_ASSERT_SIZE(struct qbd_ctl_info_reply, 240);
QBD_PROTO_ASSERT_SIZE(struct qbd_ctl_holder, 80);
QBD_PROTO_ASSERT_SIZE(struct qbd_rdma_sge, 16);
QBD_PROTO_ASSERT_SIZE(struct qbd_rdma_req, 256);
QBD_PROTO_ASSERT_SIZE(struct qbd_rdma_reply, 192);

#endif /* QBD_PROTO_H */
