#include "refresh.h"

#include <cstring>

#include "addr.h"
#include "error.h"
#include "lookup.h"
#include "map_request.h"
#include "strutil.h"

namespace qbd {

void refresh_device(Control& ctl, const DeviceInfo& dev, const Config& cfg,
                    std::chrono::milliseconds settle) {
    const HostKey me = load_host_key(cfg);
    client::Volume vol = lookup_volume(cfg, me, dev.pool(), dev.volume(), settle);
    if (vol.id != dev.info.volume_id)
        throw Error(ESTALE, dev.pool() + "/" + dev.volume() +
                                " was deleted and created again on the server; unmap and map it");
    MapSettings settings;
    settings.transport =
        dev.info.transport == QBD_TRANSPORT_RDMA ? Transport::rdma : Transport::tcp;
    settings.tunables = cfg.tunables;
    settings.me = me;
    MapRequest req;
    build_map_request(vol, settings, resolve_addr, req);
    // What the device was mapped with stays as it was.
    req.map.flags = dev.info.flags;
    req.map.queue_depth = dev.info.queue_depth;
    req.map.nr_hw_queues = dev.info.nr_hw_queues;
    req.map.max_io_bytes = dev.info.max_io_bytes;
    req.map.io_timeout_ms = dev.info.io_timeout_ms;
    req.map.reconnect_delay_ms = dev.info.reconnect_delay_ms;
    req.map.giveup_timeout_ms = dev.info.giveup_timeout_ms;
    req.map.heartbeat_ms = dev.info.heartbeat_ms;
    req.map.dev_index = dev.info.dev_index;
    ctl.call(QBD_IOC_UPDATE, &req.map, "QBD_IOC_UPDATE");
    explicit_bzero(req.map.key, sizeof(req.map.key));
}

std::optional<uint64_t> parse_size_suffix(std::string_view s) {
    if (s.empty()) return std::nullopt;
    int shift = 0;
    switch (s.back()) {
        case 'K':
        case 'k': shift = 10; break;
        case 'M':
        case 'm': shift = 20; break;
        case 'G':
        case 'g': shift = 30; break;
        case 'T':
        case 't': shift = 40; break;
        default: break;
    }
    if (shift) s.remove_suffix(1);
    auto v = parse_uint(s, 1, ~0ULL >> shift);
    if (!v) return std::nullopt;
    return *v << shift;
}

}  // namespace qbd
