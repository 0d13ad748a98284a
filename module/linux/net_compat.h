/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: socket API differences between the kernels qbd builds for, found
 * by the probes in linux/probes/ (see blkdev_compat.h).
 */
#ifndef QBD_NET_COMPAT_H
#define QBD_NET_COMPAT_H

#include <linux/bvec.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "linux/probed.h"

/*
 * Zero-copy send of one page fragment: the socket takes a reference on
 * the page instead of copying it.  probes/kernel_sendpage.c: where
 * kernel_sendpage() exists it is the way, even where MSG_SPLICE_PAGES is
 * defined (Debian's 6.1, whose TCP ignores the flag and copies); from
 * 6.5 on, sendmsg(MSG_SPLICE_PAGES) is.
 */
static inline int qbd_send_page(struct socket *sock, struct page *page,
				int offset, size_t len, int flags)
{
#ifdef QBD_HAVE_KERNEL_SENDPAGE
	return kernel_sendpage(sock, page, offset, len, flags);
#else
	struct bio_vec bvec;
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };

	bvec_set_page(&bvec, page, len, offset);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bvec, 1, len);
	return sock_sendmsg(sock, &msg);
#endif
}

/* probes/sockaddr_unsized.c */
static inline int qbd_kernel_connect(struct socket *sock,
				     struct sockaddr_storage *addr, int len)
{
#ifdef QBD_HAVE_SOCKADDR_UNSIZED
	return kernel_connect(sock, (struct sockaddr_unsized *)addr, len, 0);
#else
	return kernel_connect(sock, (struct sockaddr *)addr, len, 0);
#endif
}

/*
 * probes/sk_use_task_frag.c: a socket written from other tasks' contexts
 * (queue_rq in a submitter, writeback) must not use the page_frag of
 * whichever task runs the send, which that task may be filling itself.
 * Before the field, sockets of kernel users used sk->sk_frag only.
 */
static inline void qbd_sock_no_task_frag(struct sock *sk)
{
#ifdef QBD_HAVE_SK_USE_TASK_FRAG
	sk->sk_use_task_frag = false;
#endif
}

#endif /* QBD_NET_COMPAT_H */
