// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: /proc/qbdstat, one line per device.  The column order is stable;
 * new columns are only ever appended.
 *
 *   dev pool/volume state rd_ops rd_bytes wr_ops wr_bytes discard_ops
 *   discard_bytes flush_ops in_flight errors timeouts mean_lat_us
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "qbd.h"

#define QBD_PROC_NAME "qbdstat"

static int qbd_stat_show(struct seq_file *m, void *v)
{
	struct qbd_ioc_stats st;
	struct qbd_device *dev;

	seq_puts(m, "dev pool/volume state rd_ops rd_bytes wr_ops wr_bytes discard_ops discard_bytes flush_ops in_flight errors timeouts mean_lat_us\n");

	mutex_lock(&qbd_devices_mutex);
	list_for_each_entry(dev, &qbd_devices, list) {
		qbd_dev_get_stats(dev, &st);
		seq_printf(m, "%s %s/%s %s %llu %llu %llu %llu %llu %llu %llu %u %llu %llu %llu\n",
			   dev->disk_name, dev->pool, dev->volume,
			   qbd_dev_state_name(qbd_dev_state(dev)),
			   st.read_ops, st.read_bytes, st.write_ops,
			   st.write_bytes, st.discard_ops, st.discard_bytes,
			   st.flush_ops, st.in_flight, st.errors, st.timeouts,
			   st.completed ?
			   div64_u64(st.total_latency_ns, st.completed) / 1000 :
			   0);
	}
	mutex_unlock(&qbd_devices_mutex);
	return 0;
}

int qbd_proc_register(void)
{
	if (!proc_create_single(QBD_PROC_NAME, 0444, NULL, qbd_stat_show))
		return -ENOMEM;
	return 0;
}

void qbd_proc_unregister(void)
{
	remove_proc_entry(QBD_PROC_NAME, NULL);
}
