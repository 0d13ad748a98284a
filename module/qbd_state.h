/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: a device's state from its connections' states, and the path IO
 * goes to.  Pure, for KUnit.
 */
#ifndef QBD_STATE_H
#define QBD_STATE_H

#include <linux/types.h>

#include "qbd_ioctl.h"

/* Whether a connection may go from state @from to @to. */
bool qbd_conn_move_ok(int from, int to);

/*
 * Whether a connection in @state takes a new piece: sent while LIVE, held
 * while CONNECTING; refused (failed at once) otherwise.
 */
static inline bool qbd_conn_takes_io(int state)
{
	return state == QBD_CONN_LIVE || state == QBD_CONN_CONNECTING;
}

/* Whether a device may go from life state @from to @to. */
bool qbd_dev_move_ok(int from, int to);

/* Folds one connection's state into the device state so far. */
int qbd_fold_conn_state(int dev_state, int conn_state);

/* Index of the path to send to, or -EAGAIN to wait for one. */
int qbd_pick_path(const int *conn_states, unsigned int n, unsigned int active);

#endif /* QBD_STATE_H */
