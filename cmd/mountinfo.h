// Which block devices are mounted, from /proc/self/mountinfo.
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
    std::string mount_point;  // octal escapes (\040) decoded
    std::string fstype;
    std::string source;
};

// Parses mountinfo(5) text; malformed lines are skipped.
std::vector<MountEntry> parse_mountinfo(std::string_view text);

// Mounts whose device is one of @devs.
std::vector<MountEntry> mounts_of(const std::vector<MountEntry>& all,
                                  const std::vector<DevNum>& devs);

// "MAJ:MIN" as in /sys/block/X/dev; false when malformed.
bool parse_devnum(std::string_view s, DevNum& out);

}  // namespace qbd
