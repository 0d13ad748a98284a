// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: /dev/qbdctl, the control device.  Every argument is copied in,
 * checked completely, and only then acted upon.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "qbd.h"

static long qbd_ioctl_version(void __user *argp)
{
	struct qbd_ioc_version v;

	if (copy_from_user(&v, argp, sizeof(v)))
		return -EFAULT;
	if (v.argsz != sizeof(v))
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	v.argsz = sizeof(v);
	v.abi_version = QBD_ABI_VERSION;
	strscpy(v.module_version, QBD_MODULE_VERSION, sizeof(v.module_version));
	return copy_to_user(argp, &v, sizeof(v)) ? -EFAULT : 0;
}

static long qbd_ioctl_map(void __user *argp, bool update)
{
	struct qbd_ioc_map *args;
	struct qbd_ioc_addr *addrs = NULL;
	u16 *shard_map = NULL;
	size_t map_len;
	u32 i;
	long ret;

	args = memdup_user(argp, sizeof(*args));
	if (IS_ERR(args))
		return PTR_ERR(args);
	ret = qbd_validate_map(args);
	if (ret)
		goto out_free_args;

	addrs = memdup_user(u64_to_user_ptr(args->addrs_ptr),
			    array_size(args->nr_addrs, sizeof(*addrs)));
	if (IS_ERR(addrs)) {
		ret = PTR_ERR(addrs);
		addrs = NULL;
		goto out_free_args;
	}
	for (i = 0; i < args->nr_addrs; i++) {
		ret = qbd_validate_addr(&addrs[i]);
		if (ret)
			goto out_free_addrs;
	}

	map_len = array3_size(args->nr_shards, args->nr_replicas,
			      sizeof(*shard_map));
	shard_map = kvmalloc(map_len, GFP_KERNEL);
	if (!shard_map) {
		ret = -ENOMEM;
		goto out_free_addrs;
	}
	if (copy_from_user(shard_map, u64_to_user_ptr(args->shard_map_ptr),
			   map_len)) {
		ret = -EFAULT;
		goto out_free_map;
	}
	ret = qbd_validate_shard_map(args, shard_map);
	if (ret)
		goto out_free_map;

	ret = update ? qbd_dev_update(args, addrs, shard_map) :
		       qbd_dev_map(args, addrs, shard_map);
	if (ret)
		goto out_free_map;
	/* The device is live: report its name even if the copy fails. */
	ret = copy_to_user(argp, args, sizeof(*args)) ? -EFAULT : 0;

out_free_map:
	kvfree(shard_map);
out_free_addrs:
	kfree(addrs);
out_free_args:
	memzero_explicit(args->secret, sizeof(args->secret));
	kfree(args);
	return ret;
}

static long qbd_ioctl_unmap(void __user *argp)
{
	struct qbd_ioc_unmap args;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.argsz != sizeof(args) || args.flags & ~QBD_UNMAP_FLAGS_KNOWN ||
	    memchr_inv(args.reserved, 0, sizeof(args.reserved)))
		return -EINVAL;
	return qbd_dev_unmap(args.dev_index, args.flags);
}

static long qbd_ioctl_list(void __user *argp)
{
	struct qbd_ioc_list args;
	u32 *indexes;
	u32 count;
	long ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.argsz != sizeof(args) || args.reserved ||
	    args.capacity > QBD_MAX_DEVICES ||
	    (args.capacity && !args.indexes_ptr))
		return -EINVAL;

	indexes = kcalloc(max(args.capacity, 1U), sizeof(*indexes), GFP_KERNEL);
	if (!indexes)
		return -ENOMEM;
	ret = qbd_dev_list(indexes, args.capacity, &count);
	if (ret)
		goto out;
	args.count = count;
	if (args.capacity &&
	    copy_to_user(u64_to_user_ptr(args.indexes_ptr), indexes,
			 min(count, args.capacity) * sizeof(*indexes))) {
		ret = -EFAULT;
		goto out;
	}
	ret = copy_to_user(argp, &args, sizeof(args)) ? -EFAULT : 0;
out:
	kfree(indexes);
	return ret;
}

static long qbd_ioctl_info(void __user *argp)
{
	struct qbd_ioc_info *info;
	long ret;

	info = memdup_user(argp, sizeof(*info));
	if (IS_ERR(info))
		return PTR_ERR(info);
	if (info->argsz != sizeof(*info) ||
	    (info->addrs_capacity && !info->addrs_ptr) ||
	    info->addrs_capacity > QBD_MAX_ADDRS * 256) {
		ret = -EINVAL;
		goto out;
	}
	ret = qbd_dev_info(info, u64_to_user_ptr(info->addrs_ptr));
	if (ret)
		goto out;
	ret = copy_to_user(argp, info, sizeof(*info)) ? -EFAULT : 0;
out:
	kfree(info);
	return ret;
}

static long qbd_ioctl_throttle(void __user *argp)
{
	struct qbd_ioc_throttle args;

	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	ret = qbd_validate_throttle(&args);
	if (ret)
		return ret;
	return qbd_dev_set_throttle(&args);
}

static long qbd_ioctl_suspend(void __user *argp, bool resume)
{
	struct qbd_ioc_suspend args;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.argsz != sizeof(args) ||
	    memchr_inv(args.reserved, 0, sizeof(args.reserved)))
		return -EINVAL;
	if (!resume)
		return args.mode ? -EINVAL : qbd_dev_suspend(args.dev_index);
	return qbd_dev_resume(args.dev_index, args.mode);
}

static long qbd_ctl_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case QBD_IOC_VERSION:
		return qbd_ioctl_version(argp);
	case QBD_IOC_MAP:
		return qbd_ioctl_map(argp, false);
	case QBD_IOC_UPDATE:
		return qbd_ioctl_map(argp, true);
	case QBD_IOC_SET_THROTTLE:
		return qbd_ioctl_throttle(argp);
	case QBD_IOC_SUSPEND:
	case QBD_IOC_RESUME:
		return qbd_ioctl_suspend(argp, cmd == QBD_IOC_RESUME);
	case QBD_IOC_UNMAP:
		return qbd_ioctl_unmap(argp);
	case QBD_IOC_LIST:
		return qbd_ioctl_list(argp);
	case QBD_IOC_INFO:
		return qbd_ioctl_info(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations qbd_ctl_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= qbd_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice qbd_ctl_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= QBD_CTL_NAME,
	.fops	= &qbd_ctl_fops,
	.mode	= 0600,
};

int qbd_ctl_register(void)
{
	return misc_register(&qbd_ctl_misc);
}

void qbd_ctl_unregister(void)
{
	misc_deregister(&qbd_ctl_misc);
}
