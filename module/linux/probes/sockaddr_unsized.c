// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.19, commits bf33247a90d3 ("net: Add struct sockaddr_unsized for
 * sockaddr of unknown length") and 85cb0757d7e1 ("net: Convert proto_ops
 * connect() callbacks to use sockaddr_unsized"): kernel_connect() takes
 * a struct sockaddr_unsized.
 */
#include <linux/net.h>
#include <linux/socket.h>

int qbd_probe(struct socket *sock, struct sockaddr_storage *addr, int len);
int qbd_probe(struct socket *sock, struct sockaddr_storage *addr, int len)
{
	return kernel_connect(sock, (struct sockaddr_unsized *)addr, len, 0);
}
