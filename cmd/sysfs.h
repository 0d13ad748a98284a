// What the tool reads from sysfs about a mapped disk and the module.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mountinfo.h"

namespace qbd {

// Device numbers of /sys/block/<disk> and of each of its partitions.
std::vector<DevNum> disk_devnums(const std::string& disk, const std::string& sys = "/sys");

// Names in /sys/block/<disk>/holders (device-mapper, md) and of its partitions.
std::vector<std::string> disk_holders(const std::string& disk, const std::string& sys = "/sys");

// /sys/module/qbd/version, if the module is loaded and has one.
std::optional<std::string> module_version(const std::string& sys = "/sys");

// Contents of a sysfs attribute without the trailing newline.
std::optional<std::string> read_attr(const std::string& path);

}  // namespace qbd
