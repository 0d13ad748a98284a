// What the user names on the command line: [<tcp|rdma>://]<pool>/<volume>,
// or a device path for verbs that act on a mapped device.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "qbd_ioctl.h"

namespace qbd {

enum class Transport : uint32_t {
    tcp = QBD_TRANSPORT_TCP,
    rdma = QBD_TRANSPORT_RDMA,
};

const char* transport_name(Transport t);
std::optional<Transport> parse_transport(std::string_view s);
// Driver's transport number to a name ("tcp", "rdma", "unknown(N)").
std::string transport_name(uint32_t t);

struct VolumeSpec {
    std::optional<Transport> transport;  // from the URL scheme, if given
    std::string pool;
    std::string volume;

    std::string name() const { return pool + "/" + volume; }
};

// A pool or volume name: 1..QBD_NAME_MAX-1 characters from [A-Za-z0-9_.:+@-],
// not starting with '.' or '-' (it becomes a path component of
// /dev/qbd/<pool>/<volume>).  Returns why it is bad, or nullopt when good.
std::optional<std::string> check_name(std::string_view what, std::string_view name);

// Parses [<tcp|rdma>://]<pool>/<volume>; throws a usage error naming the problem.
VolumeSpec parse_volume_spec(std::string_view s);

// A mapped device named either by volume or by a path under /dev
// (/dev/qbdX or /dev/qbd/<pool>/<volume>).
struct DeviceSpec {
    std::optional<VolumeSpec> volume;
    std::string path;  // set when volume is not
};

DeviceSpec parse_device_spec(std::string_view s);

}  // namespace qbd
