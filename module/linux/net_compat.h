/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: socket API differences between the kernels qbd builds for.
 */
#ifndef QBD_NET_COMPAT_H
#define QBD_NET_COMPAT_H

#include <linux/bvec.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>

/*
 * Zero-copy send of one page fragment.  6.5 ("net: Add MSG_SPLICE_PAGES")
 * replaced ->sendpage with sendmsg(MSG_SPLICE_PAGES); the flag is a macro,
 * so its presence is the probe.
 */
static inline int qbd_send_page(struct socket *sock, struct page *page,
				int offset, size_t len, int flags)
{
#ifdef MSG_SPLICE_PAGES
	struct bio_vec bvec;
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };

	bvec_set_page(&bvec, page, len, offset);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bvec, 1, len);
	return sock_sendmsg(sock, &msg);
#else
	return kernel_sendpage(sock, page, offset, len, flags);
#endif
}

#endif /* QBD_NET_COMPAT_H */
