#include "devices.h"

#include <cerrno>
#include <filesystem>

#include "error.h"
#include "strutil.h"

namespace qbd {

namespace fs = std::filesystem;

std::vector<DeviceInfo> list_devices(Control& ctl) {
    std::vector<DeviceInfo> out;
    for (uint32_t idx : ctl.list()) {
        try {
            out.push_back(ctl.info(idx));
        } catch (const Error& e) {
            if (e.err() != ENODEV && e.err() != ENOENT && e.err() != ENXIO) throw;
        }
    }
    return out;
}

std::string disk_of_path(const std::string& path) {
    std::error_code ec;
    fs::path real = fs::canonical(path, ec);
    if (ec) {
        if (path.starts_with("/dev/qbd/"))
            throw Error(ENODEV, path + " does not exist: the volume is not mapped (see qbd -l)");
        throw Error(ENOENT, path + " does not exist");
    }
    std::string name = real.filename().string();
    if (name.starts_with("qbd") && name.find('p') != std::string::npos &&
        parse_uint(std::string_view(name).substr(3, name.find('p') - 3)))
        throw Error(EINVAL,
                    path + " is a partition; name the disk /dev/" + name.substr(0, name.find('p')));
    if (!name.starts_with("qbd") || !parse_uint(std::string_view(name).substr(3)))
        throw Error(EINVAL, path + " is not a qbd disk (/dev/qbdX or /dev/qbd/<pool>/<volume>)");
    return name;
}

DeviceInfo find_device(Control& ctl, const DeviceSpec& spec) {
    std::string disk;
    if (!spec.volume) disk = disk_of_path(spec.path);
    for (auto& d : list_devices(ctl)) {
        if (spec.volume ? d.pool() == spec.volume->pool && d.volume() == spec.volume->volume
                        : d.disk() == disk)
            return std::move(d);
    }
    std::string what = spec.volume ? spec.volume->name() : spec.path;
    throw Error(ENODEV, what + " is not mapped (see qbd -l)");
}

}  // namespace qbd
