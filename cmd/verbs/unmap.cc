// qbd -u|--unmap <pool/volume>|/dev/qbdX: refuse while mounted or held,
// detach, wait for udev to remove the links.
#include <chrono>
#include <fstream>
#include <sstream>

#include "cli.h"
#include "control.h"
#include "devices.h"
#include "error.h"
#include "mountinfo.h"
#include "sysfs.h"
#include "udev_wait.h"

namespace qbd {

namespace {

void check(Options& o) { o.device = parse_device_spec(o.target); }

std::string read_mountinfo() {
    std::ifstream in("/proc/self/mountinfo");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Why the device must not be detached now, or "" when nothing holds it.
std::string in_use(const std::string& disk) {
    auto mounts = mounts_of(parse_mountinfo(read_mountinfo()), disk_devnums(disk));
    if (!mounts.empty())
        return "/dev/" + disk + " is mounted on " + mounts.front().mount_point +
               (mounts.size() > 1 ? " (and " + std::to_string(mounts.size() - 1) + " more)" : "") +
               "; unmount it first";
    auto holders = disk_holders(disk);
    if (!holders.empty())
        return "/dev/" + disk + " is in use by " + holders.front() +
               " (device-mapper or md); remove that first";
    return "";
}

int run(const Options& o) {
    Config cfg = load_config(o.config_path, o.config_given);
    auto ctl = open_control();
    DeviceInfo dev = find_device(*ctl, *o.device);
    const std::string disk = dev.disk();

    if (std::string why = in_use(disk); !why.empty()) {
        if (!o.force) throw Error(EBUSY, why);
        warn("unmap", why + "; detaching anyway (--force): its IO will fail");
    }
    ctl->unmap(dev.info.dev_index, o.force ? QBD_UNMAP_FORCE : 0);
    debug("unmapped /dev/" + disk);

    std::vector<std::string> paths = {"/dev/" + disk,
                                      "/dev/qbd/" + dev.pool() + "/" + dev.volume()};
    if (cfg.udev_timeout &&
        !wait_until([&] { return none_exist(paths); }, std::chrono::seconds(cfg.udev_timeout)))
        warn("unmap", "/dev/" + disk + " is unmapped but its device links are still there after " +
                          std::to_string(cfg.udev_timeout) + " s");
    return 0;
}

RegisterVerb reg{Verb{
    .name = "unmap",
    .short_opt = 'u',
    .long_opt = "unmap",
    .arg = "[<tcp|rdma>://]<pool/volume>|/dev/qbdX",
    .summary = "unmap a volume",
    .options = {"config", "force"},
    .order = 20,
    .check = check,
    .run = run,
}};

}  // namespace

}  // namespace qbd
