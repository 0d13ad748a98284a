#include "udev_wait.h"

#include <libudev.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

namespace qbd {

namespace {

struct UdevDeleter {
    void operator()(udev* u) const { udev_unref(u); }
    void operator()(udev_monitor* m) const { udev_monitor_unref(m); }
};

}  // namespace

bool all_exist(const std::vector<std::string>& paths) {
    struct stat st;
    for (const auto& p : paths)
        if (::stat(p.c_str(), &st) != 0) return false;
    return true;
}

bool none_exist(const std::vector<std::string>& paths) {
    struct stat st;
    for (const auto& p : paths)
        if (::lstat(p.c_str(), &st) == 0) return false;
    return true;
}

bool udevd_running() { return ::access("/run/udev/control", F_OK) == 0; }

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + timeout;

    // Subscribe before the first check so no event falls in between.
    std::unique_ptr<udev, UdevDeleter> u(udev_new());
    std::unique_ptr<udev_monitor, UdevDeleter> mon;
    if (u) {
        mon.reset(udev_monitor_new_from_netlink(u.get(), "udev"));
        if (mon &&
            (udev_monitor_filter_add_match_subsystem_devtype(mon.get(), "block", nullptr) < 0 ||
             udev_monitor_enable_receiving(mon.get()) < 0))
            mon.reset();
    }

    for (;;) {
        if (done()) return true;
        auto now = clock::now();
        if (now >= deadline) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        int ms = static_cast<int>(std::min<long long>(left.count(), 200));
        if (mon) {
            pollfd pfd{udev_monitor_get_fd(mon.get()), POLLIN, 0};
            if (::poll(&pfd, 1, ms) > 0) {
                while (udev_device* d = udev_monitor_receive_device(mon.get()))
                    udev_device_unref(d);
            }
        } else {
            ::usleep(static_cast<useconds_t>(ms) * 1000);
        }
    }
}

}  // namespace qbd
