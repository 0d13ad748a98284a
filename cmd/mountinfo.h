// Which block devices are mounted: mountinfo(5) read by libmount.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qbd {

struct DevNum {
    uint32_t major = 0;
    uint32_t minor = 0;
    bool operator==(const DevNum&) const = default;
};

struct MountEntry {
    DevNum dev;
    std::string mount_point;  // unescaped (\040 is a space)
    std::string fstype;
    std::string source;
};

// The mounts of mountinfo file @path (this process's namespace by
// default); lines libmount cannot parse are skipped.  Throws Error when
// the file cannot be read.
std::vector<MountEntry> read_mountinfo(const std::string& path = "/proc/self/mountinfo");

// Mounts whose device is one of @devs.
std::vector<MountEntry> mounts_of(const std::vector<MountEntry>& all,
                                  const std::vector<DevNum>& devs);

// "MAJ:MIN" as in /sys/block/X/dev; false when malformed.
bool parse_devnum(std::string_view s, DevNum& out);

}  // namespace qbd
