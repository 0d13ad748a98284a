// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.14, "kthread: Implement preferred affinity": the kthread core
 * sets a new kthread's affinity when it first runs, overriding what
 * set_cpus_allowed_ptr() gave it before; kthread_affine_preferred(),
 * called before the first wakeup, is how a kthread keeps its CPUs.
 */
#include <linux/kthread.h>

int qbd_probe(struct task_struct *t, const struct cpumask *mask);
int qbd_probe(struct task_struct *t, const struct cpumask *mask)
{
	return kthread_affine_preferred(t, mask);
}
