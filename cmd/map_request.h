// Turns what the control services say about a volume into the argument of
// QBD_IOC_MAP: its paths, resolved once each, and struct qbd_ioc_map
// pointing at them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "addr.h"
#include "config.h"
#include "qbd_client.h"
#include "qbd_ioctl.h"

namespace qbd {

struct MapSettings {
    Transport transport = Transport::tcp;
    MapTunables tunables;
    HostKey me;  // who maps: its key is proven on every connection
};

// Owns the array the ioctl argument points at; not copyable because
// map.paths_ptr points into it.
struct MapRequest {
    std::vector<qbd_ioc_addr> paths;
    std::vector<std::string> path_names;  // paths[i] as the server gave it
    qbd_ioc_map map{};

    MapRequest() = default;
    ~MapRequest();  // wipes the key
    MapRequest(const MapRequest&) = delete;
    MapRequest& operator=(const MapRequest&) = delete;
};

using Resolver = std::function<qbd_ioc_addr(const HostPort&)>;

// Validates @vol (sizes, 1 to QBD_MAX_PATHS paths, names) and fills @req,
// the paths in @vol's order.  Each path is resolved once with @resolve;
// two that resolve to the same address are refused, naming both.  Throws
// Error naming what is wrong.
void build_map_request(const client::Volume& vol, const MapSettings& settings,
                       const Resolver& resolve, MapRequest& req);

}  // namespace qbd
