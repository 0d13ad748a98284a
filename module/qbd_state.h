/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: a device's state from its connections' states, and the replica a
 * read goes to.  Pure, for KUnit.
 */
#ifndef QBD_STATE_H
#define QBD_STATE_H

#include <linux/types.h>

/* Folds one connection's state into the device state so far. */
int qbd_fold_conn_state(int dev_state, int conn_state);

/* Index of the replica to read from, or -EAGAIN to wait for one. */
int qbd_pick_read_replica(const int *conn_states, unsigned int n);

#endif /* QBD_STATE_H */
