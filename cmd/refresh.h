// Brings a mapped device's volume map up to date with the control service
// (remap after a shard moved, or after the volume grew).
#pragma once

#include <string>

#include "config.h"
#include "control.h"

namespace qbd {

// Looks the device's volume up again and hands the new map to the driver
// (QBD_IOC_UPDATE), keeping the options it was mapped with.
void refresh_device(Control& ctl, const DeviceInfo& dev, const Config& cfg);

// "10G", "512M", "4096": bytes, or nullopt when malformed.
std::optional<uint64_t> parse_size_suffix(std::string_view s);

}  // namespace qbd
