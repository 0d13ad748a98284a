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
	struct qbd_ioc_addr *paths = NULL;
	struct qbd_ioc_map *args;
	long ret;

	args = memdup_user(argp, sizeof(*args));
	if (IS_ERR(args))
		return PTR_ERR(args);
	ret = qbd_validate_map(args);
	if (ret)
		goto out_free_args;

	paths = memdup_user(u64_to_user_ptr(args->paths_ptr),
			    array_size(args->nr_paths, sizeof(*paths)));
	if (IS_ERR(paths)) {
		ret = PTR_ERR(paths);
		paths = NULL;
		goto out_free_args;
	}
	ret = qbd_validate_paths(paths, args->nr_paths);
	if (ret)
		goto out_free_paths;

	ret = update ? qbd_dev_update(args, paths) : qbd_dev_map(args, paths);
	if (ret)
		goto out_free_paths;
	/* The device is live: report its name even if the copy fails. */
	ret = copy_to_user(argp, args, sizeof(*args)) ? -EFAULT : 0;

out_free_paths:
	kfree(paths);
out_free_args:
	memzero_explicit(args->key, sizeof(args->key));
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
	    (info->paths_capacity && !info->paths_ptr) ||
	    info->paths_capacity > QBD_MAX_PATHS) {
		ret = -EINVAL;
		goto out;
	}
	ret = qbd_dev_info(info, u64_to_user_ptr(info->paths_ptr));
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
