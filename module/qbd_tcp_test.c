// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: what the driver makes of every TCP socket it opens.  Writeback
 * may wait on these sockets, so their allocations must not recurse into
 * IO and may use the reserves; queue_rq writes to them from a submitter's
 * context, so they must not use that task's page frag, which the task may
 * be filling itself (the corruption nbd and nvme-tcp met from 6.2 on).
 */
#include <kunit/test.h>
#include <linux/in.h>
#include <linux/net.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "linux/net_compat.h"
#include "qbd.h"

static void qbd_tcp_socket_is_safe_under_reclaim(struct kunit *test)
{
	struct socket *sock;
	struct sock *sk;

	KUNIT_ASSERT_EQ(test, sock_create_kern(&init_net, AF_INET, SOCK_STREAM,
					       IPPROTO_TCP, &sock), 0);
	sk = sock->sk;
	qbd_tcp_prepare_sock(sk, HZ);
#ifdef QBD_HAVE_SK_USE_TASK_FRAG
	KUNIT_EXPECT_FALSE(test, sk->sk_use_task_frag);
#endif
	KUNIT_EXPECT_TRUE(test, sock_flag(sk, SOCK_MEMALLOC));
	KUNIT_EXPECT_FALSE(test, sk->sk_allocation & (__GFP_IO | __GFP_FS));
	KUNIT_EXPECT_TRUE(test, sk->sk_allocation & __GFP_MEMALLOC);
	KUNIT_EXPECT_EQ(test, sk->sk_sndtimeo, (long)HZ);
	KUNIT_EXPECT_EQ(test, sk->sk_rcvtimeo, (long)HZ);
	sock_release(sock);
}

static struct kunit_case qbd_tcp_cases[] = {
	KUNIT_CASE(qbd_tcp_socket_is_safe_under_reclaim),
	{}
};

static struct kunit_suite qbd_tcp_suite = {
	.name = "qbd_tcp",
	.test_cases = qbd_tcp_cases,
};

kunit_test_suite(qbd_tcp_suite);
