// Finding a mapped device by the name the user gave.
#pragma once

#include <string>
#include <vector>

#include "control.h"
#include "volume_spec.h"

namespace qbd {

// Every mapped device, in index order; devices unmapped meanwhile are skipped.
std::vector<DeviceInfo> list_devices(Control& ctl);

// The disk name ("qbd3") a /dev path names: /dev/qbd3, or a link such as
// /dev/qbd/<pool>/<volume> resolved to it.  Throws Error naming the problem
// (missing, not a qbd disk, a partition).
std::string disk_of_path(const std::string& path);

// The mapped device @spec names; throws Error(ENODEV) "... is not mapped".
DeviceInfo find_device(Control& ctl, const DeviceSpec& spec);

}  // namespace qbd
