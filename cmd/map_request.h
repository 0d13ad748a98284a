// Turns what the control service says about a volume into the argument of
// QBD_IOC_MAP: the table of distinct server addresses, the shard map of
// indexes into it, and struct qbd_ioc_map pointing at both.
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
    std::string secret;  // empty: no authentication
};

// Owns the arrays the ioctl argument points at; not copyable because
// map.addrs_ptr / map.shard_map_ptr point into it.
struct MapRequest {
    std::vector<qbd_ioc_addr> addrs;
    std::vector<std::string> addr_names;  // addrs[i] as given by the server
    std::vector<uint16_t> shard_map;      // nr_shards * nr_replicas, QBD_NO_ADDR padded
    qbd_ioc_map map{};

    MapRequest() = default;
    ~MapRequest();  // wipes the secret
    MapRequest(const MapRequest&) = delete;
    MapRequest& operator=(const MapRequest&) = delete;
};

inline constexpr uint16_t kNoAddr = QBD_NO_ADDR;

using Resolver = std::function<qbd_ioc_addr(const HostPort&)>;

// Validates @vol (sizes, shard count, replicas, names) and fills @req.
// Each distinct address is resolved once with @resolve.  Throws Error
// naming what is wrong.
void build_map_request(const client::Volume& vol, const MapSettings& settings,
                       const Resolver& resolve, MapRequest& req);

}  // namespace qbd
