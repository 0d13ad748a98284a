// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: connection state transitions as the device shows them.  All live
 * is live; one connection down or connecting makes the device
 * reconnecting; one that gave up makes it failed, whatever the others do;
 * order does not matter.
 */
#include <kunit/test.h>

#include "qbd_ioctl.h"
#include "qbd_state.h"

struct qbd_state_case {
	const char *name;
	int conns[4];
	int expected;
};

static const struct qbd_state_case qbd_state_cases[] = {
	{ "all live", { QBD_CONN_LIVE, QBD_CONN_LIVE, QBD_CONN_LIVE, QBD_CONN_LIVE },
	  QBD_STATE_LIVE },
	{ "one connecting", { QBD_CONN_LIVE, QBD_CONN_CONNECTING, QBD_CONN_LIVE, QBD_CONN_LIVE },
	  QBD_STATE_RECONNECTING },
	{ "one down", { QBD_CONN_DOWN, QBD_CONN_LIVE, QBD_CONN_LIVE, QBD_CONN_LIVE },
	  QBD_STATE_RECONNECTING },
	{ "failed first", { QBD_CONN_FAILED, QBD_CONN_CONNECTING, QBD_CONN_LIVE, QBD_CONN_LIVE },
	  QBD_STATE_FAILED },
	{ "failed last", { QBD_CONN_CONNECTING, QBD_CONN_LIVE, QBD_CONN_DOWN, QBD_CONN_FAILED },
	  QBD_STATE_FAILED },
	{ "all failed", { QBD_CONN_FAILED, QBD_CONN_FAILED, QBD_CONN_FAILED, QBD_CONN_FAILED },
	  QBD_STATE_FAILED },
};

static void qbd_state_case_desc(const struct qbd_state_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(qbd_state, qbd_state_cases, qbd_state_case_desc);

static void qbd_device_state_from_connections(struct kunit *test)
{
	const struct qbd_state_case *c = test->param_value;
	int state = QBD_STATE_LIVE;
	int i;

	for (i = 0; i < 4; i++)
		state = qbd_fold_conn_state(state, c->conns[i]);
	KUNIT_EXPECT_EQ(test, state, c->expected);
}

static void qbd_recovery_returns_to_live(struct kunit *test)
{
	/* A device is folded afresh each time: a reconnected link is live. */
	KUNIT_EXPECT_EQ(test, qbd_fold_conn_state(QBD_STATE_LIVE, QBD_CONN_LIVE),
			QBD_STATE_LIVE);
	KUNIT_EXPECT_EQ(test, qbd_fold_conn_state(QBD_STATE_RECONNECTING, QBD_CONN_LIVE),
			QBD_STATE_RECONNECTING);
}

static void qbd_reads_go_to_a_live_replica_or_wait(struct kunit *test)
{
	static const int live_second[] = { QBD_CONN_CONNECTING, QBD_CONN_LIVE };
	static const int both_back_soon[] = { QBD_CONN_CONNECTING, QBD_CONN_CONNECTING };
	static const int one_gave_up[] = { QBD_CONN_FAILED, QBD_CONN_CONNECTING };
	static const int all_gave_up[] = { QBD_CONN_FAILED, QBD_CONN_DOWN };
	static const int primary_live[] = { QBD_CONN_LIVE, QBD_CONN_LIVE };

	KUNIT_EXPECT_EQ(test, qbd_pick_read_replica(primary_live, 2), 0);
	KUNIT_EXPECT_EQ(test, qbd_pick_read_replica(live_second, 2), 1);
	/* Nobody live yet: wait for whichever reconnects first. */
	KUNIT_EXPECT_EQ(test, qbd_pick_read_replica(both_back_soon, 2), -EAGAIN);
	KUNIT_EXPECT_EQ(test, qbd_pick_read_replica(one_gave_up, 2), -EAGAIN);
	/* Everyone gave up: the primary, which fails the read at once. */
	KUNIT_EXPECT_EQ(test, qbd_pick_read_replica(all_gave_up, 2), 0);
}

static struct kunit_case qbd_state_test_cases[] = {
	KUNIT_CASE_PARAM(qbd_device_state_from_connections, qbd_state_gen_params),
	KUNIT_CASE(qbd_recovery_returns_to_live),
	KUNIT_CASE(qbd_reads_go_to_a_live_replica_or_wait),
	{}
};

static struct kunit_suite qbd_state_suite = {
	.name = "qbd_state",
	.test_cases = qbd_state_test_cases,
};

kunit_test_suite(qbd_state_suite);
