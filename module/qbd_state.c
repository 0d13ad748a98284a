// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: a device is as well as its worst connection: failed (gave up) beats
 * reconnecting (down or connecting), which beats live.  And which of a
 * volume's paths IO goes to, given the states of their connections.
 */
#include <linux/errno.h>
#include <linux/types.h>

#include "qbd_ioctl.h"
#include "qbd_state.h"

/*
 * The life of a connection: DOWN until it connects; CONNECTING while it
 * (re)connects; LIVE; FAILED once it gave up (it keeps trying, and goes
 * LIVE when the server is back); CLOSING once it is torn down (IO fails,
 * nothing reconnects), from any of those; DOWN again when its threads are
 * done; RELEASED once a remap dropped its server, until a later map names
 * it.  The transports read from the state alone whether to send, hold or
 * fail IO and whether to reconnect.  Staying in a state is no move.
 */
bool qbd_conn_move_ok(int from, int to)
{
	switch (to) {
	case QBD_CONN_CONNECTING:
		return from == QBD_CONN_DOWN || from == QBD_CONN_LIVE ||
		       from == QBD_CONN_RELEASED;
	case QBD_CONN_LIVE:
		return from == QBD_CONN_CONNECTING || from == QBD_CONN_FAILED;
	case QBD_CONN_FAILED:
		return from == QBD_CONN_CONNECTING;
	case QBD_CONN_CLOSING:
		return from == QBD_CONN_CONNECTING || from == QBD_CONN_LIVE ||
		       from == QBD_CONN_FAILED;
	case QBD_CONN_DOWN:
		return from == QBD_CONN_CONNECTING || from == QBD_CONN_CLOSING;
	case QBD_CONN_RELEASED:
		return from == QBD_CONN_DOWN;
	default:
		return false;
	}
}

/*
 * The life of a device, apart from its connections: live, suspended
 * (IO held) and back, and deleting from either, for good.
 */
bool qbd_dev_move_ok(int from, int to)
{
	if (from == to)
		return true;
	switch (to) {
	case QBD_STATE_LIVE:
		return from == QBD_STATE_SUSPENDED;
	case QBD_STATE_SUSPENDED:
		return from == QBD_STATE_LIVE;
	case QBD_STATE_DELETING:
		return from == QBD_STATE_LIVE || from == QBD_STATE_SUSPENDED;
	default:
		return false;
	}
}

int qbd_fold_conn_state(int dev_state, int conn_state)
{
	switch (conn_state) {
	case QBD_CONN_FAILED:
		return QBD_STATE_FAILED;
	case QBD_CONN_LIVE:
	case QBD_CONN_RELEASED:		/* no longer one of the device's */
	case QBD_CONN_CLOSING:		/* going, by unmap or remap */
		return dev_state;
	default:
		return dev_state == QBD_STATE_FAILED ? QBD_STATE_FAILED :
		       QBD_STATE_RECONNECTING;
	}
}

/*
 * The path IO goes to, given the states of each path's connection and the
 * active one: the active path while it is live, else the next live one
 * after it (IO moves there and stays).  While none is live but one is
 * still reconnecting, none yet (-EAGAIN: the request waits for whichever
 * comes back first).  When every one has given up or is gone, the active
 * path, where the request fails at once.  A single path has nowhere else
 * to go: IO stays queued on its connection, which resends it once back.
 */
int qbd_pick_path(const int *conn_states, unsigned int n, unsigned int active)
{
	bool reconnecting = false;
	unsigned int i, p;

	if (n <= 1 || active >= n)
		return 0;
	for (i = 0; i < n; i++) {
		p = (active + i) % n;
		if (conn_states[p] == QBD_CONN_LIVE)
			return p;
		if (conn_states[p] == QBD_CONN_CONNECTING ||
		    conn_states[p] == QBD_CONN_DOWN)
			reconnecting = true;
	}
	return reconnecting ? -EAGAIN : active;
}
