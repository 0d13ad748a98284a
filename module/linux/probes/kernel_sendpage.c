// SPDX-License-Identifier: GPL-2.0
/*
 * Until Linux 6.5, commit dc97391e6610 ("sock: Remove ->sendpage*() in
 * favour of sendmsg(MSG_SPLICE_PAGES)"), after 270a1c3de47e ("tcp: Support
 * MSG_SPLICE_PAGES"): kernel_sendpage() is how a page goes to TCP without
 * a copy.  Debian's 6.1 defines MSG_SPLICE_PAGES (b841b901c452, backported)
 * while its TCP ignores the flag and copies, so the flag being defined
 * proves nothing: this probe decides.
 */
#include <linux/net.h>

int qbd_probe(struct socket *sock, struct page *page);
int qbd_probe(struct socket *sock, struct page *page)
{
	return kernel_sendpage(sock, page, 0, PAGE_SIZE, 0);
}
