// qbd -u|--unmap <pool/volume>|/dev/qbdX: refuse while mounted or held,
// wait out short-lived openers (udev's probes), detach, wait for udev to
// remove the links.
#include <chrono>
#include <thread>

#include "cli.h"
#include "control.h"
#include "devices.h"
#include "error.h"
#include "lookup.h"
#include "mountinfo.h"
#include "openers.h"
#include "sysfs.h"
#include "udev_wait.h"

namespace qbd {

namespace {

void check(Options& o) { o.device = parse_device_spec(o.target); }

// Why the device must not be detached now, or "" when nothing holds it.
std::string in_use(const std::string& disk) {
    auto mounts = mounts_of(read_mountinfo(), disk_devnums(disk));
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

// Detaches the disk once no process has it open.  udev's probes (blkid)
// open a disk for a moment after it appears or changes, so a refusal is
// retried for up to @wait; a process that keeps it open is named.
void unmap_when_closed(Control& ctl, const DeviceInfo& dev, std::chrono::seconds wait) {
    const std::string disk = dev.disk();
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        try {
            ctl.unmap(dev.info.dev_index, 0);
            return;
        } catch (const Error& e) {
            if (e.err() != EBUSY) throw;
            if (std::chrono::steady_clock::now() >= deadline) {
                std::string who = describe_openers(openers_of(disk_devnums(disk)));
                if (who.empty()) throw;
                throw Error(EBUSY,
                            "/dev/" + disk + " is open by " + who + "; close it or use --force");
            }
        }
        // The opener may have been a mount meanwhile: that is not waited out.
        if (std::string why = in_use(disk); !why.empty()) throw Error(EBUSY, why);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

int run(const Options& o) {
    Config cfg = load_config(o.config_path, o.config_given);
    auto ctl = open_control();
    DeviceInfo dev = find_device(*ctl, *o.device);
    const std::string disk = dev.disk();
    const uint32_t timeout = o.timeout.value_or(cfg.udev_timeout);

    if (o.force) {
        if (std::string why = in_use(disk); !why.empty())
            warn("unmap", why + "; detaching anyway (--force): its IO will fail");
        ctl->unmap(dev.info.dev_index, QBD_UNMAP_FORCE);
    } else {
        if (std::string why = in_use(disk); !why.empty()) throw Error(EBUSY, why);
        unmap_when_closed(*ctl, dev, std::chrono::seconds(timeout));
    }
    debug("unmapped /dev/" + disk);
    if (!(dev.info.flags & QBD_MAP_READ_ONLY)) {
        // Another host may map it now rather than after the servers' grace period.
        try {
            release_claims(cfg, load_host_key(cfg), dev.pool(), dev.volume());
        } catch (const Error& e) {
            debug(std::string("claims not released: ") + e.what());
        }
    }

    std::vector<std::string> paths = {"/dev/" + disk,
                                      "/dev/qbd/" + dev.pool() + "/" + dev.volume()};
    if (timeout && !wait_until([&] { return none_exist(paths); }, std::chrono::seconds(timeout)))
        warn("unmap", "/dev/" + disk + " is unmapped but its device links are still there after " +
                          std::to_string(timeout) + " s");
    return 0;
}

RegisterVerb reg{Verb{
    .name = "unmap",
    .short_opt = 'u',
    .long_opt = "unmap",
    .arg = "[<tcp|rdma>://]<pool/volume>|/dev/qbdX",
    .summary = "unmap a volume",
    .options = {"config", "force", "timeout"},
    .order = 20,
    .check = check,
    .run = run,
}};

}  // namespace

}  // namespace qbd
