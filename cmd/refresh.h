// Brings a mapped device's paths and size up to date with the control
// services (remap after its servers changed, or after the volume grew).
#pragma once

#include <chrono>
#include <string>

#include "config.h"
#include "control.h"

namespace qbd {

// Looks the device's volume up again (lookup_volume, servers given
// @settle to agree on its size) and hands the paths to the driver
// (QBD_IOC_UPDATE), keeping the options it was mapped with.
void refresh_device(Control& ctl, const DeviceInfo& dev, const Config& cfg,
                    std::chrono::milliseconds settle = std::chrono::milliseconds(0));

// "10G", "512M", "4096": bytes, or nullopt when malformed.
std::optional<uint64_t> parse_size_suffix(std::string_view s);

}  // namespace qbd
