// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: validation of ioctl arguments.  Pure functions over copied-in
 * structures, so the KUnit suite can feed them hostile input.
 */
#include <linux/errno.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/string.h>

#include "qbd.h"

static bool qbd_str_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size);
}

/* A pool or volume name: non-empty, no '/', printable, NUL-terminated. */
static bool qbd_name_ok(const char *s, size_t size)
{
	size_t i;

	if (!qbd_str_terminated(s, size) || !s[0])
		return false;
	for (i = 0; s[i]; i++)
		if (s[i] == '/' || s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

int qbd_validate_addr(const struct qbd_ioc_addr *addr)
{
	if (addr->family != AF_INET && addr->family != AF_INET6)
		return -EINVAL;
	if (!addr->port || addr->reserved)
		return -EINVAL;
	return 0;
}

int qbd_validate_map(const struct qbd_ioc_map *args)
{
	if (args->argsz != sizeof(*args))
		return -EINVAL;
	if (args->flags & ~QBD_MAP_FLAGS_KNOWN)
		return -EINVAL;
	if (args->transport != QBD_TRANSPORT_TCP &&
	    args->transport != QBD_TRANSPORT_RDMA)
		return -EPROTONOSUPPORT;
	if (!qbd_name_ok(args->pool, sizeof(args->pool)) ||
	    !qbd_name_ok(args->volume, sizeof(args->volume)))
		return -EINVAL;
	if (!args->size || args->size % QBD_SECTOR_SIZE ||
	    args->size > QBD_MAX_VOLUME_SIZE)
		return -EINVAL;
	if (!is_power_of_2(args->shard_size) ||
	    args->shard_size < QBD_MIN_SHARD_SIZE ||
	    args->shard_size > QBD_MAX_SHARD_SIZE)
		return -EINVAL;
	if (!args->nr_paths || args->nr_paths > QBD_MAX_PATHS)
		return -EINVAL;
	if (!args->paths_ptr)
		return -EINVAL;
	if (args->queue_depth > QBD_MAX_QUEUE_DEPTH)
		return -EINVAL;
	if (args->nr_hw_queues > 256)
		return -EINVAL;
	if (args->max_io_bytes &&
	    (args->max_io_bytes < PAGE_SIZE ||
	     args->max_io_bytes > QBD_MAX_IO_BYTES ||
	     args->max_io_bytes % QBD_SECTOR_SIZE))
		return -EINVAL;
	if (args->io_timeout_ms &&
	    (args->io_timeout_ms < QBD_MIN_IO_TIMEOUT_MS ||
	     args->io_timeout_ms > QBD_MAX_IO_TIMEOUT_MS))
		return -EINVAL;
	if (args->reconnect_delay_ms > QBD_MAX_TIMER_MS ||
	    args->giveup_timeout_ms > QBD_MAX_TIMER_MS ||
	    args->heartbeat_ms > QBD_MAX_TIMER_MS)
		return -EINVAL;
	/* A key is proven under a host id: the server looks it up by it. */
	if (args->key_len &&
	    (args->key_len < QBD_KEY_MIN || args->key_len > QBD_KEY_MAX ||
	     !qbd_name_ok(args->host_id, sizeof(args->host_id))))
		return -EINVAL;
	if (!args->key_len && args->host_id[0] &&
	    !qbd_name_ok(args->host_id, sizeof(args->host_id)))
		return -EINVAL;
	if (!qbd_str_terminated(args->host_id, sizeof(args->host_id)))
		return -EINVAL;
	if (args->reserved0[0] || args->reserved0[1] || args->reserved1 ||
	    args->reserved3)
		return -EINVAL;
	return 0;
}

/*
 * Each path valid and named once: a path listed twice would be tried
 * twice as the next one, and its connections exist once.
 */
int qbd_validate_paths(const struct qbd_ioc_addr *paths, u32 nr_paths)
{
	u32 p, other;
	int ret;

	for (p = 0; p < nr_paths; p++) {
		ret = qbd_validate_addr(&paths[p]);
		if (ret)
			return ret;
		for (other = 0; other < p; other++)
			if (!memcmp(&paths[other], &paths[p], sizeof(paths[p])))
				return -EINVAL;
	}
	return 0;
}

/* Rates past QBD_MAX_THROTTLE_RATE would overflow the token arithmetic. */
int qbd_validate_throttle(const struct qbd_ioc_throttle *args)
{
	if (args->argsz != sizeof(*args) ||
	    memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	if (args->read_bps > QBD_MAX_THROTTLE_RATE ||
	    args->write_bps > QBD_MAX_THROTTLE_RATE ||
	    args->read_iops > QBD_MAX_THROTTLE_RATE ||
	    args->write_iops > QBD_MAX_THROTTLE_RATE)
		return -EINVAL;
	return 0;
}

