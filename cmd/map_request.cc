#include "map_request.h"

#include <cerrno>
#include <cstring>
#include <map>

#include "error.h"

namespace qbd {

namespace {

void copy_name(char (&dst)[QBD_NAME_MAX], const std::string& src, const char* what) {
    if (auto why = check_name(what, src)) throw Error(EINVAL, *why);
    std::memset(dst, 0, sizeof(dst));
    std::memcpy(dst, src.data(), src.size());  // check_name bounds it below QBD_NAME_MAX
}

}  // namespace

MapRequest::~MapRequest() { explicit_bzero(map.secret, sizeof(map.secret)); }

void build_map_request(const client::Volume& vol, const MapSettings& settings,
                       const Resolver& resolve, MapRequest& req) {
    const std::string name = vol.pool + "/" + vol.volume;
    auto bad = [&](const std::string& why) {
        throw Error(EINVAL, "control service gave an invalid description of " + name + ": " + why);
    };

    if (!vol.size || vol.size % QBD_SECTOR_SIZE) bad("size is not a non-zero multiple of 512");
    if (vol.shard_size < 4096 || (vol.shard_size & (vol.shard_size - 1)))
        bad("shard size is not a power of two of at least 4096");
    uint64_t nr_shards = vol.size / vol.shard_size + (vol.size % vol.shard_size ? 1 : 0);
    if (nr_shards > QBD_MAX_SHARDS) bad("more than " + std::to_string(QBD_MAX_SHARDS) + " shards");
    if (vol.shards.size() != nr_shards)
        bad(std::to_string(vol.shards.size()) + " shard address lists for " +
            std::to_string(nr_shards) + " shards");

    size_t nr_replicas = 0;
    for (const auto& s : vol.shards) {
        if (s.empty()) bad("a shard has no server");
        nr_replicas = std::max(nr_replicas, s.size());
    }
    if (nr_replicas > QBD_MAX_REPLICAS)
        bad("more than " + std::to_string(QBD_MAX_REPLICAS) + " servers for a shard");

    req.addrs.clear();
    req.addr_names.clear();
    req.shard_map.assign(nr_shards * nr_replicas, kNoAddr);
    std::map<std::string, uint16_t> index;
    for (size_t i = 0; i < vol.shards.size(); i++) {
        for (size_t r = 0; r < vol.shards[i].size(); r++) {
            const std::string& a = vol.shards[i][r];
            auto it = index.find(a);
            if (it == index.end()) {
                if (req.addrs.size() >= QBD_MAX_ADDRS)
                    bad("more than " + std::to_string(QBD_MAX_ADDRS) + " distinct servers");
                HostPort hp = parse_host_port(a, QBD_DEFAULT_PORT);
                req.addrs.push_back(resolve(hp));
                req.addr_names.push_back(a);
                it = index.emplace(a, static_cast<uint16_t>(req.addrs.size() - 1)).first;
            }
            req.shard_map[i * nr_replicas + r] = it->second;
        }
    }

    qbd_ioc_map& m = req.map;
    std::memset(&m, 0, sizeof(m));
    m.argsz = sizeof(m);
    m.flags = settings.tunables.read_only ? QBD_MAP_READ_ONLY : 0;
    m.transport = static_cast<uint32_t>(settings.transport);
    m.nr_addrs = static_cast<uint32_t>(req.addrs.size());
    m.nr_shards = static_cast<uint32_t>(nr_shards);
    m.nr_replicas = static_cast<uint32_t>(nr_replicas);
    m.volume_id = vol.id;
    m.size = vol.size;
    m.shard_size = vol.shard_size;
    m.epoch = vol.epoch;
    copy_name(m.pool, vol.pool, "pool");
    copy_name(m.volume, vol.volume, "volume");
    m.addrs_ptr = reinterpret_cast<uintptr_t>(req.addrs.data());
    m.shard_map_ptr = reinterpret_cast<uintptr_t>(req.shard_map.data());
    m.queue_depth = settings.tunables.queue_depth;
    m.nr_hw_queues = settings.tunables.nr_hw_queues;
    m.max_io_bytes = settings.tunables.max_io_kb * 1024;
    m.io_timeout_ms = settings.tunables.io_timeout * 1000;
    m.reconnect_delay_ms = settings.tunables.reconnect_delay_ms;
    m.giveup_timeout_ms = settings.tunables.giveup_timeout * 1000;
    m.heartbeat_ms = settings.tunables.heartbeat_interval * 1000;
    if (settings.secret.size() > QBD_SECRET_MAX)
        throw Error(EINVAL, "secret is longer than " + std::to_string(QBD_SECRET_MAX) + " bytes");
    m.secret_len = static_cast<uint32_t>(settings.secret.size());
    std::memcpy(m.secret, settings.secret.data(), settings.secret.size());
}

}  // namespace qbd
