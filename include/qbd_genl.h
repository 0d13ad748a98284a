/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * qbd driver events over generic netlink, shared by qbd.ko and the qbd
 * tool ("qbd --events").
 *
 * The family QBD_GENL_NAME multicasts one QBD_GENL_CMD_EVENT message to
 * the group QBD_GENL_MCGRP_EVENTS for each change of a volume's state that
 * userspace may act on.  A message carries QBD_GENL_ATTR_EVENT and
 * QBD_GENL_ATTR_DEV_INDEX, QBD_GENL_ATTR_DISK, QBD_GENL_ATTR_POOL and
 * QBD_GENL_ATTR_VOLUME always; QBD_GENL_ATTR_ADDR for the events of one
 * connection; QBD_GENL_ATTR_SIZE for QBD_EVENT_RESIZED; and
 * QBD_GENL_ATTR_EPOCH for QBD_EVENT_REMAP_WANTED.  Attributes may be added;
 * a listener ignores those it does not know.
 */
#ifndef QBD_GENL_H
#define QBD_GENL_H

#define QBD_GENL_NAME		"qbd"
#define QBD_GENL_VERSION	1
#define QBD_GENL_MCGRP_EVENTS	"events"

enum qbd_genl_cmd {
	QBD_GENL_CMD_UNSPEC,
	QBD_GENL_CMD_EVENT,
	__QBD_GENL_CMD_MAX,
};

enum qbd_genl_attr {
	QBD_GENL_ATTR_UNSPEC,
	QBD_GENL_ATTR_EVENT,		/* u32, enum qbd_event */
	QBD_GENL_ATTR_DEV_INDEX,	/* u32, the X of /dev/qbdX */
	QBD_GENL_ATTR_DISK,		/* string, "qbdX" */
	QBD_GENL_ATTR_POOL,		/* string */
	QBD_GENL_ATTR_VOLUME,		/* string */
	QBD_GENL_ATTR_ADDR,		/* string, the server, "ip:port" */
	QBD_GENL_ATTR_SIZE,		/* u64, bytes */
	QBD_GENL_ATTR_EPOCH,		/* u64, the map's epoch the driver has */
	QBD_GENL_ATTR_PAD,		/* aligns the u64s */
	__QBD_GENL_ATTR_MAX,
};

#define QBD_GENL_ATTR_MAX	(__QBD_GENL_ATTR_MAX - 1)

enum qbd_event {
	QBD_EVENT_CONN_LOST = 1,	/* a connection broke; reconnecting */
	QBD_EVENT_CONN_RESTORED,	/* it is back */
	QBD_EVENT_GAVE_UP,		/* its server was unreachable for the
					 * give-up time: IO fails until it is back
					 */
	QBD_EVENT_REMAP_WANTED,		/* a server has a newer map: qbd -r */
	QBD_EVENT_RESIZED,		/* the disk has a new size */
};

#endif /* QBD_GENL_H */
