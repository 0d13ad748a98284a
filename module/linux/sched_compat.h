/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: kthread affinity differences between the kernels qbd builds for,
 * found by the probes in linux/probes/ (see blkdev_compat.h).
 */
#ifndef QBD_SCHED_COMPAT_H
#define QBD_SCHED_COMPAT_H

#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include "linux/probed.h"

/*
 * Prefer @mask for @t, a kthread created and not yet woken.
 * probes/kthread_affine_preferred.c: from 6.14 the kthread core applies
 * its own affinity at the first run unless told this way.
 */
static inline void qbd_kthread_prefer_cpus(struct task_struct *t,
					   const struct cpumask *mask)
{
#ifdef QBD_HAVE_KTHREAD_AFFINE_PREFERRED
	kthread_affine_preferred(t, mask);
#else
	set_cpus_allowed_ptr(t, mask);
#endif
}

#endif /* QBD_SCHED_COMPAT_H */
