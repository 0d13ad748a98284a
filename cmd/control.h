// The driver's control device /dev/qbdctl (ioctls of include/qbd_ioctl.h),
// behind an interface so verbs can be tested without the module.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qbd_ioctl.h"

namespace qbd {

struct DeviceInfo {
    qbd_ioc_info info{};
    // One per path, in the map's order; info.active_path indexes it.
    std::vector<qbd_ioc_conn_info> paths;

    std::string disk() const;  // "qbdX"
    std::string pool() const;
    std::string volume() const;
};

class Control {
  public:
    virtual ~Control() = default;
    // Each throws Error(errno, message) when the ioctl fails.
    virtual qbd_ioc_version version() = 0;
    virtual void map(qbd_ioc_map& args) = 0;
    virtual void unmap(uint32_t dev_index, uint32_t flags) = 0;
    virtual std::vector<uint32_t> list() = 0;
    virtual DeviceInfo info(uint32_t dev_index) = 0;
    // Any other ioctl of qbd_ioctl.h: throttle, suspend, resume, update.
    virtual void call(unsigned long req, void* arg, const char* what);
};

// Opens /dev/qbdctl (or @path).  A missing node becomes
// "<path> not found: is the qbd module loaded? (modprobe qbd)".
std::unique_ptr<Control> open_control(const std::string& path = QBD_CTL_PATH);

// The messages users see for a failed ioctl: what failed and what to do.
std::string map_error_message(int err, const std::string& volume);
std::string unmap_error_message(int err, const std::string& disk);
std::string ioctl_error_message(int err, const char* what);

const char* dev_state_name(uint32_t state);
const char* conn_state_name(uint32_t state);

}  // namespace qbd
