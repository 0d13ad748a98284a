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

static void qbd_io_stays_on_the_active_path_while_it_lives(struct kunit *test)
{
	static const int both_live[] = { QBD_CONN_LIVE, QBD_CONN_LIVE };

	KUNIT_EXPECT_EQ(test, qbd_pick_path(both_live, 2, 0), 0);
	/* After a failover IO stays where it went, even once 0 is back. */
	KUNIT_EXPECT_EQ(test, qbd_pick_path(both_live, 2, 1), 1);
}

static void qbd_io_moves_to_the_next_live_path(struct kunit *test)
{
	static const int first_down[] = { QBD_CONN_CONNECTING, QBD_CONN_LIVE,
					  QBD_CONN_LIVE };
	static const int wraps[] = { QBD_CONN_LIVE, QBD_CONN_FAILED,
				     QBD_CONN_CONNECTING };

	KUNIT_EXPECT_EQ(test, qbd_pick_path(first_down, 3, 0), 1);
	/* The search goes on from the active path and wraps around. */
	KUNIT_EXPECT_EQ(test, qbd_pick_path(wraps, 3, 1), 0);
	KUNIT_EXPECT_EQ(test, qbd_pick_path(wraps, 3, 2), 0);
}

static void qbd_io_waits_for_a_path_coming_back(struct kunit *test)
{
	static const int both_back_soon[] = { QBD_CONN_CONNECTING, QBD_CONN_CONNECTING };
	static const int one_gave_up[] = { QBD_CONN_FAILED, QBD_CONN_CONNECTING };
	static const int all_gave_up[] = { QBD_CONN_FAILED, QBD_CONN_RELEASED };
	static const int single[] = { QBD_CONN_CONNECTING };

	KUNIT_EXPECT_EQ(test, qbd_pick_path(both_back_soon, 2, 0), -EAGAIN);
	KUNIT_EXPECT_EQ(test, qbd_pick_path(one_gave_up, 2, 0), -EAGAIN);
	/* Everyone gave up: the active path, which fails the IO at once. */
	KUNIT_EXPECT_EQ(test, qbd_pick_path(all_gave_up, 2, 1), 1);
	/* One path: IO waits on its connection, which resends it. */
	KUNIT_EXPECT_EQ(test, qbd_pick_path(single, 1, 0), 0);
}

static void qbd_conn_moves_checked(struct kunit *test)
{
	/* A connection's whole life, as the transports drive it. */
	static const int life[] = {
		QBD_CONN_DOWN, QBD_CONN_CONNECTING, QBD_CONN_LIVE,
		QBD_CONN_CONNECTING, QBD_CONN_FAILED, QBD_CONN_LIVE,
		QBD_CONN_CONNECTING, QBD_CONN_LIVE, QBD_CONN_CLOSING,
		QBD_CONN_DOWN, QBD_CONN_RELEASED, QBD_CONN_CONNECTING,
		QBD_CONN_DOWN, QBD_CONN_RELEASED, QBD_CONN_CONNECTING,
		QBD_CONN_FAILED, QBD_CONN_CLOSING, QBD_CONN_DOWN,
	};
	/* Moves that are refused, each {from, to}. */
	static const int refused[][2] = {
		/* Live only after a handshake; gave up only while reconnecting. */
		{ QBD_CONN_DOWN, QBD_CONN_LIVE },
		{ QBD_CONN_LIVE, QBD_CONN_FAILED },
		/* A released connection has no threads left to go down with. */
		{ QBD_CONN_RELEASED, QBD_CONN_DOWN },
		{ QBD_CONN_LIVE, QBD_CONN_RELEASED },
		{ QBD_CONN_LIVE, 42 },
		/*
		 * A connection torn down while its thread reconnects: the
		 * thread's moves are refused, which is how it learns to stop,
		 * and a live one goes down only through CLOSING (its threads
		 * stop first).
		 */
		{ QBD_CONN_CLOSING, QBD_CONN_CONNECTING },
		{ QBD_CONN_CLOSING, QBD_CONN_LIVE },
		{ QBD_CONN_CLOSING, QBD_CONN_FAILED },
		{ QBD_CONN_LIVE, QBD_CONN_DOWN },
		{ QBD_CONN_DOWN, QBD_CONN_CLOSING },
		/* Giving up happens once per outage; staying is no move. */
		{ QBD_CONN_FAILED, QBD_CONN_FAILED },
		{ QBD_CONN_FAILED, QBD_CONN_CONNECTING },
	};
	unsigned int i;

	for (i = 1; i < ARRAY_SIZE(life); i++)
		KUNIT_EXPECT_TRUE_MSG(test, qbd_conn_move_ok(life[i - 1], life[i]),
				      "move %d -> %d", life[i - 1], life[i]);
	for (i = 0; i < ARRAY_SIZE(refused); i++)
		KUNIT_EXPECT_FALSE_MSG(test, qbd_conn_move_ok(refused[i][0], refused[i][1]),
				       "move %d -> %d", refused[i][0], refused[i][1]);
	/* New IO is sent or held while the connection can still answer it. */
	KUNIT_EXPECT_TRUE(test, qbd_conn_takes_io(QBD_CONN_LIVE));
	KUNIT_EXPECT_TRUE(test, qbd_conn_takes_io(QBD_CONN_CONNECTING));
	KUNIT_EXPECT_FALSE(test, qbd_conn_takes_io(QBD_CONN_FAILED));
	KUNIT_EXPECT_FALSE(test, qbd_conn_takes_io(QBD_CONN_CLOSING));
	KUNIT_EXPECT_FALSE(test, qbd_conn_takes_io(QBD_CONN_DOWN));
	KUNIT_EXPECT_FALSE(test, qbd_conn_takes_io(QBD_CONN_RELEASED));
}

static void qbd_dev_moves_checked(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, qbd_dev_move_ok(QBD_STATE_LIVE, QBD_STATE_SUSPENDED));
	KUNIT_EXPECT_TRUE(test, qbd_dev_move_ok(QBD_STATE_SUSPENDED, QBD_STATE_LIVE));
	KUNIT_EXPECT_TRUE(test, qbd_dev_move_ok(QBD_STATE_SUSPENDED, QBD_STATE_DELETING));
	KUNIT_EXPECT_TRUE(test, qbd_dev_move_ok(QBD_STATE_LIVE, QBD_STATE_DELETING));
	/* Deleting is for good; the connections' states are not the device's. */
	KUNIT_EXPECT_FALSE(test, qbd_dev_move_ok(QBD_STATE_DELETING, QBD_STATE_LIVE));
	KUNIT_EXPECT_FALSE(test, qbd_dev_move_ok(QBD_STATE_DELETING, QBD_STATE_SUSPENDED));
	KUNIT_EXPECT_FALSE(test, qbd_dev_move_ok(QBD_STATE_LIVE, QBD_STATE_RECONNECTING));
}

static struct kunit_case qbd_state_test_cases[] = {
	KUNIT_CASE(qbd_dev_moves_checked),
	KUNIT_CASE(qbd_conn_moves_checked),
	KUNIT_CASE_PARAM(qbd_device_state_from_connections, qbd_state_gen_params),
	KUNIT_CASE(qbd_recovery_returns_to_live),
	KUNIT_CASE(qbd_io_stays_on_the_active_path_while_it_lives),
	KUNIT_CASE(qbd_io_moves_to_the_next_live_path),
	KUNIT_CASE(qbd_io_waits_for_a_path_coming_back),
	{}
};

static struct kunit_suite qbd_state_suite = {
	.name = "qbd_state",
	.test_cases = qbd_state_test_cases,
};

kunit_test_suite(qbd_state_suite);
