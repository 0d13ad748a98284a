// SPDX-License-Identifier: GPL-2.0
/*
 * Driver events over generic netlink (include/qbd_genl.h): the changes of
 * a volume's state that userspace may act on, multicast as they happen
 * ("qbd --events" prints them).  Nothing waits for a listener: an event
 * nobody listens to, or one that cannot be allocated, is dropped, and the
 * kernel log says the same.
 */
#include <net/genetlink.h>

#include "qbd.h"
#include "qbd_genl.h"

static const struct genl_multicast_group qbd_genl_mcgrps[] = {
	{ .name = QBD_GENL_MCGRP_EVENTS },
};

/* Multicast only: listeners send it nothing. */
static struct genl_family qbd_genl_family = {
	.name		= QBD_GENL_NAME,
	.version	= QBD_GENL_VERSION,
	.maxattr	= QBD_GENL_ATTR_MAX,
	.module		= THIS_MODULE,
	.mcgrps		= qbd_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(qbd_genl_mcgrps),
};

/*
 * @addr: the server of a connection's event, or NULL.  @gfp: GFP_NOIO
 * where writeback may wait on this very device (reconnects, remaps).
 */
static void qbd_event(struct qbd_device *dev, enum qbd_event event,
		      const struct sockaddr_storage *addr, gfp_t gfp)
{
	char server[64];
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, gfp);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &qbd_genl_family, 0, QBD_GENL_CMD_EVENT);
	if (!hdr)
		goto out_free;
	if (nla_put_u32(skb, QBD_GENL_ATTR_EVENT, event) ||
	    nla_put_u32(skb, QBD_GENL_ATTR_DEV_INDEX, dev->index) ||
	    nla_put_string(skb, QBD_GENL_ATTR_DISK, dev->disk_name) ||
	    nla_put_string(skb, QBD_GENL_ATTR_POOL, dev->pool) ||
	    nla_put_string(skb, QBD_GENL_ATTR_VOLUME, dev->volume))
		goto out_free;
	if (addr) {
		snprintf(server, sizeof(server), "%pISpc", addr);
		if (nla_put_string(skb, QBD_GENL_ATTR_ADDR, server))
			goto out_free;
	}
	if (event == QBD_EVENT_RESIZED &&
	    nla_put_u64_64bit(skb, QBD_GENL_ATTR_SIZE, dev->size,
			      QBD_GENL_ATTR_PAD))
		goto out_free;
	if (event == QBD_EVENT_REMAP_WANTED &&
	    nla_put_u64_64bit(skb, QBD_GENL_ATTR_EPOCH, dev->epoch,
			      QBD_GENL_ATTR_PAD))
		goto out_free;
	genlmsg_end(skb, hdr);
	/* -ESRCH: nobody listens.  The skb is freed either way. */
	genlmsg_multicast(&qbd_genl_family, skb, 0, 0, gfp);
	return;

out_free:
	nlmsg_free(skb);
}

void qbd_event_conn(struct qbd_conn *conn, enum qbd_event event)
{
	qbd_event(conn->dev, event, &conn->addr, GFP_NOIO);
}
EXPORT_SYMBOL_GPL(qbd_event_conn);

void qbd_event_dev(struct qbd_device *dev, enum qbd_event event, gfp_t gfp)
{
	qbd_event(dev, event, NULL, gfp);
}

int qbd_events_register(void)
{
	return genl_register_family(&qbd_genl_family);
}

void qbd_events_unregister(void)
{
	genl_unregister_family(&qbd_genl_family);
}
