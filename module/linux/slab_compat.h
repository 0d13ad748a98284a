/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbd: allocation helpers of newer kernels, for the older ones.
 * kzalloc_obj() (Linux 7.0) allocates one zeroed object of the type of its
 * argument, so that the size cannot disagree with the pointer it is
 * assigned to.  It is a macro, so its absence is the test.
 */
#ifndef QBD_SLAB_COMPAT_H
#define QBD_SLAB_COMPAT_H

#include <linux/slab.h>

#ifndef kzalloc_obj
#define kzalloc_obj(P, gfp)	kzalloc(sizeof(P), gfp)
#endif

#endif /* QBD_SLAB_COMPAT_H */
