// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.2, commit fb87bd47516d ("net: Introduce sk_use_task_frag in
 * struct sock."): a socket written from other tasks' contexts (queue_rq,
 * writeback) must not use the current task's page_frag, which that task
 * may be filling itself.
 */
#include <net/sock.h>

void qbd_probe(struct sock *sk);
void qbd_probe(struct sock *sk)
{
	sk->sk_use_task_frag = false;
}
