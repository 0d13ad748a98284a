// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: a device is as well as its worst connection: failed (gave up) beats
 * reconnecting (down or connecting), which beats live.  And where a read of
 * a replicated shard goes, given the states of its replicas' connections.
 */
#include <linux/errno.h>
#include <linux/types.h>

#include "qbd_ioctl.h"
#include "qbd_state.h"

int qbd_fold_conn_state(int dev_state, int conn_state)
{
	switch (conn_state) {
	case QBD_CONN_FAILED:
		return QBD_STATE_FAILED;
	case QBD_CONN_LIVE:
	case QBD_CONN_RELEASED:		/* no longer one of the device's */
		return dev_state;
	default:
		return dev_state == QBD_STATE_FAILED ? QBD_STATE_FAILED :
		       QBD_STATE_RECONNECTING;
	}
}

/*
 * The replica a read goes to: the first whose connection is live.  While
 * none is live but one is still reconnecting, none yet (-EAGAIN: the read
 * waits for whichever comes back first).  When every one has given up or
 * is gone, the primary, where the read fails at once.
 */
int qbd_pick_read_replica(const int *conn_states, unsigned int n)
{
	bool reconnecting = false;
	unsigned int r;

	for (r = 0; r < n; r++) {
		if (conn_states[r] == QBD_CONN_LIVE)
			return r;
		if (conn_states[r] == QBD_CONN_CONNECTING)
			reconnecting = true;
	}
	return reconnecting ? -EAGAIN : 0;
}
