// How devices are shown: the list table, the info page, and their JSON.
// Pure functions of DeviceInfo so they can be tested without the driver.
#pragma once

#include <string>
#include <vector>

#include "control.h"
#include "qbd_json.h"
#include "qbd_text.h"

namespace qbd {

// `qbd -l`: header "dev pool volume size transport state paths active" and
// a row per device (active: the address of the path IO goes to).
std::string format_list(const std::vector<DeviceInfo>& devs);
// {"version": 1, "devices": [...]}
std::string format_list_json(const std::vector<DeviceInfo>& devs);

// `qbd -i`
std::string format_info(const DeviceInfo& d);
// The device's object with "version" and its paths.
std::string format_info_json(const DeviceInfo& d);

// One device as a JSON object (qbd_json.h); with its paths when @paths.
json::Json device_json(const DeviceInfo& d, bool paths);

}  // namespace qbd
