// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: a device is as well as its worst connection: failed (gave up) beats
 * reconnecting (down or connecting), which beats live.
 */
#include "qbd_ioctl.h"
#include "qbd_state.h"

int qbd_fold_conn_state(int dev_state, int conn_state)
{
	switch (conn_state) {
	case QBD_CONN_FAILED:
		return QBD_STATE_FAILED;
	case QBD_CONN_LIVE:
		return dev_state;
	default:
		return dev_state == QBD_STATE_FAILED ? QBD_STATE_FAILED :
		       QBD_STATE_RECONNECTING;
	}
}
