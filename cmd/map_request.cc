#include "map_request.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace qbd {

namespace {

void copy_name(char (&dst)[QBD_NAME_MAX], const std::string& src, const char* what) {
    if (auto why = check_name(what, src)) throw Error(EINVAL, *why);
    std::memset(dst, 0, sizeof(dst));
    std::memcpy(dst, src.data(), src.size());  // check_name bounds it below QBD_NAME_MAX
}

// The same server: family, port and address (resolvers zero the rest).
bool same_addr(const qbd_ioc_addr& a, const qbd_ioc_addr& b) {
    return a.family == b.family && a.port == b.port &&
           std::memcmp(a.addr, b.addr, a.family == AF_INET ? 4 : sizeof(a.addr)) == 0;
}

}  // namespace

MapRequest::~MapRequest() { explicit_bzero(map.key, sizeof(map.key)); }

void build_map_request(const client::Volume& vol, const MapSettings& settings,
                       const Resolver& resolve, MapRequest& req) {
    const std::string name = vol.pool + "/" + vol.volume;
    auto bad = [&](const std::string& why) {
        throw Error(EINVAL, "control service gave an invalid description of " + name + ": " + why);
    };

    if (!vol.size || vol.size % QBD_SECTOR_SIZE) bad("size is not a non-zero multiple of 512");
    if (vol.shard_size < 4096 || (vol.shard_size & (vol.shard_size - 1)))
        bad("shard size is not a power of two of at least 4096");
    if (vol.paths.empty()) bad("no server serves it");
    if (vol.paths.size() > QBD_MAX_PATHS)
        bad(std::to_string(vol.paths.size()) + " paths, more than the " +
            std::to_string(QBD_MAX_PATHS) + " a device takes");

    req.paths.clear();
    req.path_names.clear();
    for (const std::string& p : vol.paths) {
        qbd_ioc_addr a = resolve(parse_host_port(p, QBD_DEFAULT_PORT));
        for (size_t i = 0; i < req.paths.size(); i++)
            if (same_addr(req.paths[i], a))
                bad("paths " + req.path_names[i] + " and " + p + " are the same server, " +
                    format_addr(a));
        req.paths.push_back(a);
        req.path_names.push_back(p);
    }

    qbd_ioc_map& m = req.map;
    std::memset(&m, 0, sizeof(m));
    m.argsz = sizeof(m);
    const MapTunables& t = settings.tunables;
    if (t.read_only && (t.shared || t.take_over))
        throw Error(EINVAL, "read_only claims nothing: it takes neither shared nor take_over");
    if (t.shared && t.take_over)
        throw Error(EINVAL, "shared and take_over together: a shared map takes nothing over");
    m.flags = (t.read_only ? QBD_MAP_READ_ONLY : 0) | (t.crc32c ? 0 : QBD_MAP_NO_CRC32C) |
              (t.shared ? QBD_MAP_SHARED : 0) | (t.take_over ? QBD_MAP_TAKE_OVER : 0);
    m.transport = static_cast<uint32_t>(settings.transport);
    m.nr_paths = static_cast<uint32_t>(req.paths.size());
    m.volume_id = vol.id;
    m.size = vol.size;
    m.shard_size = vol.shard_size;
    m.epoch = vol.epoch;
    copy_name(m.pool, vol.pool, "pool");
    copy_name(m.volume, vol.volume, "volume");
    m.paths_ptr = reinterpret_cast<uintptr_t>(req.paths.data());
    m.queue_depth = settings.tunables.queue_depth;
    m.nr_hw_queues = settings.tunables.nr_hw_queues;
    m.max_io_bytes = settings.tunables.max_io_kb * 1024;
    m.io_timeout_ms = settings.tunables.io_timeout * 1000;
    m.reconnect_delay_ms = settings.tunables.reconnect_delay_ms;
    m.giveup_timeout_ms = settings.tunables.giveup_timeout * 1000;
    m.heartbeat_ms = settings.tunables.heartbeat_interval * 1000;
    const HostKey& me = settings.me;
    if ((!me.host_id.empty() && !valid_host_id(me.host_id)) ||
        (!me.key.empty() && (!valid_key(me.key) || me.host_id.empty())))
        throw Error(EINVAL, "bad host id '" + me.host_id + "' or key");
    static_assert(sizeof(m.host_id) == QBD_HOST_ID_MAX);
    std::memcpy(m.host_id, me.host_id.data(), me.host_id.size());  // valid_host_id bounds it
    m.key_len = static_cast<uint32_t>(me.key.size());
    std::memcpy(m.key, me.key.data(), me.key.size());
}

}  // namespace qbd
