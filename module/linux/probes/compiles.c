// SPDX-License-Identifier: GPL-2.0
/*
 * Compiles on every kernel: when even this fails, the probes say nothing
 * about the interfaces and the build stops (module/Makefile).
 */
#include <linux/module.h>

int qbd_probe;
