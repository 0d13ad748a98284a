// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: ioctl argument validation.  A well-formed map request passes;
 * every single corruption of it is refused, as are path lists naming a
 * server twice and malformed addresses.
 */
#include <kunit/test.h>
#include <linux/in.h>
#include <linux/string.h>

#include "qbd.h"

static void qbd_good_map(struct qbd_ioc_map *m)
{
	memset(m, 0, sizeof(*m));
	m->argsz = sizeof(*m);
	m->transport = QBD_TRANSPORT_TCP;
	m->nr_paths = 2;
	m->volume_id = 7;
	m->size = 4ULL << 20;
	m->shard_size = 1ULL << 20;
	strscpy(m->pool, "pool", sizeof(m->pool));
	strscpy(m->volume, "vol-1", sizeof(m->volume));
	m->paths_ptr = 0x1000;
}

struct qbd_map_case {
	const char *name;
	void (*corrupt)(struct qbd_ioc_map *m);
	int expected;
};

static void c_argsz(struct qbd_ioc_map *m)
{
	m->argsz--;
}

static void c_flags(struct qbd_ioc_map *m)
{
	m->flags = 0x80;
}

static void c_transport(struct qbd_ioc_map *m)
{
	m->transport = 9;
}

static void c_pool_unterminated(struct qbd_ioc_map *m)
{
	memset(m->pool, 'a', sizeof(m->pool));
}

static void c_pool_empty(struct qbd_ioc_map *m)
{
	m->pool[0] = 0;
}

static void c_volume_slash(struct qbd_ioc_map *m)
{
	m->volume[1] = '/';
}

static void c_volume_space(struct qbd_ioc_map *m)
{
	m->volume[0] = ' ';
}

static void c_size_zero(struct qbd_ioc_map *m)
{
	m->size = 0;
}

static void c_size_unaligned(struct qbd_ioc_map *m)
{
	m->size += 1;
}

static void c_size_huge(struct qbd_ioc_map *m)
{
	m->size = ~0ULL << 9;
}

static void c_shard_not_pow2(struct qbd_ioc_map *m)
{
	m->shard_size += 4096;
}

static void c_shard_small(struct qbd_ioc_map *m)
{
	m->shard_size = 2048;
}

static void c_nr_paths_zero(struct qbd_ioc_map *m)
{
	m->nr_paths = 0;
}

static void c_nr_paths_many(struct qbd_ioc_map *m)
{
	m->nr_paths = QBD_MAX_PATHS + 1;
}

static void c_paths_null(struct qbd_ioc_map *m)
{
	m->paths_ptr = 0;
}

static void c_reserved0(struct qbd_ioc_map *m)
{
	m->reserved0[1] = 1;
}

static void c_reserved3(struct qbd_ioc_map *m)
{
	m->reserved3 = 0x2000;
}

static void c_depth(struct qbd_ioc_map *m)
{
	m->queue_depth = 100000;
}

static void c_max_io_small(struct qbd_ioc_map *m)
{
	m->max_io_bytes = 512;
}

static void c_max_io_odd(struct qbd_ioc_map *m)
{
	m->max_io_bytes = 65537;
}

static void c_timeout(struct qbd_ioc_map *m)
{
	m->io_timeout_ms = 10;
}

static void c_giveup(struct qbd_ioc_map *m)
{
	m->giveup_timeout_ms = ~0U;
}

static void c_key_long(struct qbd_ioc_map *m)
{
	strscpy(m->host_id, "host1", sizeof(m->host_id));
	m->key_len = QBD_KEY_MAX + 1;
}

static void c_key_short(struct qbd_ioc_map *m)
{
	strscpy(m->host_id, "host1", sizeof(m->host_id));
	m->key_len = QBD_KEY_MIN - 1;
}

static void c_key_no_host_id(struct qbd_ioc_map *m)
{
	m->key_len = QBD_KEY_MIN;
}

static void c_host_id_unterminated(struct qbd_ioc_map *m)
{
	memset(m->host_id, 'h', sizeof(m->host_id));
}

static void c_host_id_space(struct qbd_ioc_map *m)
{
	strscpy(m->host_id, "host 1", sizeof(m->host_id));
}

static void c_reserved1(struct qbd_ioc_map *m)
{
	m->reserved1 = 1;
}

static const struct qbd_map_case qbd_map_cases[] = {
	{ "argsz", c_argsz, -EINVAL },
	{ "unknown flag", c_flags, -EINVAL },
	{ "unknown transport", c_transport, -EPROTONOSUPPORT },
	{ "unterminated pool", c_pool_unterminated, -EINVAL },
	{ "empty pool", c_pool_empty, -EINVAL },
	{ "slash in volume", c_volume_slash, -EINVAL },
	{ "space in volume", c_volume_space, -EINVAL },
	{ "zero size", c_size_zero, -EINVAL },
	{ "unaligned size", c_size_unaligned, -EINVAL },
	{ "huge size", c_size_huge, -EINVAL },
	{ "shard size not a power of two", c_shard_not_pow2, -EINVAL },
	{ "shard size too small", c_shard_small, -EINVAL },
	{ "no path", c_nr_paths_zero, -EINVAL },
	{ "too many paths", c_nr_paths_many, -EINVAL },
	{ "null path table", c_paths_null, -EINVAL },
	{ "reserved0", c_reserved0, -EINVAL },
	{ "reserved3 (the old shard map)", c_reserved3, -EINVAL },
	{ "queue depth", c_depth, -EINVAL },
	{ "max io too small", c_max_io_small, -EINVAL },
	{ "max io unaligned", c_max_io_odd, -EINVAL },
	{ "io timeout too short", c_timeout, -EINVAL },
	{ "give-up time absurd", c_giveup, -EINVAL },
	{ "key too long", c_key_long, -EINVAL },
	{ "key too short", c_key_short, -EINVAL },
	{ "key without a host id", c_key_no_host_id, -EINVAL },
	{ "unterminated host id", c_host_id_unterminated, -EINVAL },
	{ "space in host id", c_host_id_space, -EINVAL },
	{ "reserved1", c_reserved1, -EINVAL },
};

static void qbd_map_case_desc(const struct qbd_map_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(qbd_map, qbd_map_cases, qbd_map_case_desc);

static void qbd_good_map_passes(struct kunit *test)
{
	struct qbd_ioc_map m;

	qbd_good_map(&m);
	KUNIT_EXPECT_EQ(test, qbd_validate_map(&m), 0);
}

/* A host with a key names itself; one without may name itself for logs. */
static void qbd_host_id_and_key_pass(struct kunit *test)
{
	struct qbd_ioc_map m;

	qbd_good_map(&m);
	strscpy(m.host_id, "web1.example.com", sizeof(m.host_id));
	KUNIT_EXPECT_EQ(test, qbd_validate_map(&m), 0);
	m.key_len = QBD_KEY_MIN;
	KUNIT_EXPECT_EQ(test, qbd_validate_map(&m), 0);
	m.key_len = QBD_KEY_MAX;
	KUNIT_EXPECT_EQ(test, qbd_validate_map(&m), 0);
}

static void qbd_corrupt_map_refused(struct kunit *test)
{
	const struct qbd_map_case *c = test->param_value;
	struct qbd_ioc_map m;

	qbd_good_map(&m);
	c->corrupt(&m);
	KUNIT_EXPECT_EQ(test, qbd_validate_map(&m), c->expected);
}

static void qbd_path_named_twice_refused(struct kunit *test)
{
	struct qbd_ioc_addr p[3] = {
		{ .family = AF_INET, .port = 7800, .addr = { 10, 0, 0, 1 } },
		{ .family = AF_INET, .port = 7800, .addr = { 10, 0, 0, 2 } },
		{ .family = AF_INET, .port = 7800, .addr = { 10, 0, 0, 1 } },
	};

	KUNIT_EXPECT_EQ(test, qbd_validate_paths(p, 2), 0);
	KUNIT_EXPECT_EQ(test, qbd_validate_paths(p, 3), -EINVAL);
	/* Another port is another server. */
	p[2].port = 7801;
	KUNIT_EXPECT_EQ(test, qbd_validate_paths(p, 3), 0);
	/* Each path is a valid address. */
	p[1].port = 0;
	KUNIT_EXPECT_EQ(test, qbd_validate_paths(p, 3), -EINVAL);
}

static void qbd_throttle_rates_bounded(struct kunit *test)
{
	struct qbd_ioc_throttle t = { .argsz = sizeof(t) };

	KUNIT_EXPECT_EQ(test, qbd_validate_throttle(&t), 0);
	t.read_bps = QBD_MAX_THROTTLE_RATE;
	t.write_iops = QBD_MAX_THROTTLE_RATE;
	KUNIT_EXPECT_EQ(test, qbd_validate_throttle(&t), 0);
	t.write_iops = QBD_MAX_THROTTLE_RATE + 1;
	KUNIT_EXPECT_EQ(test, qbd_validate_throttle(&t), -EINVAL);
	t.write_iops = 0;
	t.read_bps = U64_MAX;
	KUNIT_EXPECT_EQ(test, qbd_validate_throttle(&t), -EINVAL);
	t.read_bps = 0;
	t.argsz = 0;
	KUNIT_EXPECT_EQ(test, qbd_validate_throttle(&t), -EINVAL);
}

static void qbd_addresses_checked(struct kunit *test)
{
	struct qbd_ioc_addr a = { .family = AF_INET, .port = 7800 };

	KUNIT_EXPECT_EQ(test, qbd_validate_addr(&a), 0);
	a.family = AF_INET6;
	KUNIT_EXPECT_EQ(test, qbd_validate_addr(&a), 0);
	a.family = AF_UNIX;
	KUNIT_EXPECT_EQ(test, qbd_validate_addr(&a), -EINVAL);
	a.family = AF_INET;
	a.port = 0;
	KUNIT_EXPECT_EQ(test, qbd_validate_addr(&a), -EINVAL);
	a.port = 1;
	a.reserved = 1;
	KUNIT_EXPECT_EQ(test, qbd_validate_addr(&a), -EINVAL);
}

static struct kunit_case qbd_validate_cases[] = {
	KUNIT_CASE(qbd_good_map_passes),
	KUNIT_CASE(qbd_host_id_and_key_pass),
	KUNIT_CASE_PARAM(qbd_corrupt_map_refused, qbd_map_gen_params),
	KUNIT_CASE(qbd_path_named_twice_refused),
	KUNIT_CASE(qbd_throttle_rates_bounded),
	KUNIT_CASE(qbd_addresses_checked),
	{}
};

static struct kunit_suite qbd_validate_suite = {
	.name = "qbd_validate",
	.test_cases = qbd_validate_cases,
};

kunit_test_suite(qbd_validate_suite);
