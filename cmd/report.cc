#include "report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "addr.h"
#include "strutil.h"
#include "volume_spec.h"

namespace qbd {

namespace {

// What a device does with IO now: held, served, failed or dropped.
std::string io_mode_text(const qbd_ioc_info& i) {
    if (i.state == QBD_STATE_SUSPENDED) return "suspended";
    switch (i.resume_mode) {
        case QBD_RESUME_ERROR: return "error (IO fails with EIO)";
        case QBD_RESUME_DISCARD: return "discard (IO completes without the server)";
        default: return "normal";
    }
}

// The transport as one of the schema's names.
const char* transport_enum(uint32_t t) {
    if (t == QBD_TRANSPORT_TCP) return "tcp";
    if (t == QBD_TRANSPORT_RDMA) return "rdma";
    return "unknown";
}

// The same as data: the mode IO resumed in (normal until a resume said
// otherwise); a suspended device says so in its state.
const char* resume_mode_name(uint32_t mode) {
    switch (mode) {
        case QBD_RESUME_ERROR: return "error";
        case QBD_RESUME_DISCARD: return "discard";
        default: return "normal";
    }
}

}  // namespace

namespace {

uint64_t mean_latency_us(const qbd_ioc_stats& s) {
    return s.completed ? s.total_latency_ns / s.completed / 1000 : 0;
}

std::string flags_text(uint32_t flags) {
    std::string out;
    if (flags & QBD_MAP_READ_ONLY) out += "read-only";
    if (flags & QBD_MAP_SHARED) out += (out.empty() ? "" : ",") + std::string("shared");
    uint32_t unknown = flags & ~QBD_MAP_FLAGS_KNOWN;
    if (unknown) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "0x%x", unknown);
        out += (out.empty() ? "" : ",") + std::string(buf);
    }
    return out.empty() ? "-" : out;
}

}  // namespace

std::string active_path_name(const DeviceInfo& d) {
    if (d.info.active_path >= d.paths.size()) return "-";
    return format_addr(d.paths[d.info.active_path].addr);
}

std::string format_list(const std::vector<DeviceInfo>& devs) {
    std::vector<std::vector<std::string>> rows = {
        {"dev", "pool", "volume", "size", "transport", "state", "paths", "active"}};
    for (const auto& d : devs)
        rows.push_back({"/dev/" + d.disk(), d.pool(), d.volume(), format_size(d.info.size),
                        transport_name(d.info.transport), dev_state_name(d.info.state),
                        std::to_string(d.info.nr_paths), active_path_name(d)});
    return format_table(rows);
}

json::Json device_json(const DeviceInfo& d, bool paths) {
    namespace k = json::key;
    const qbd_ioc_info& i = d.info;
    const qbd_ioc_stats& s = i.stats;
    json::Json j = json::Json::object();
    j[k::dev] = "/dev/" + d.disk();
    j[k::dev_index] = i.dev_index;
    j[k::pool] = d.pool();
    j[k::volume] = d.volume();
    j[k::volume_id] = i.volume_id;
    j[k::size] = i.size;
    j[k::shard_size] = i.shard_size;
    j[k::epoch] = i.epoch;
    j[k::nr_paths] = i.nr_paths;
    j[k::active_path] = i.active_path;
    j[k::active_address] = nullptr;
    if (i.active_path < d.paths.size())
        j[k::active_address] = format_addr(d.paths[i.active_path].addr);
    j[k::transport] = transport_enum(i.transport);
    j[k::state] = dev_state_name(i.state);
    j[k::queue_depth] = i.queue_depth;
    j[k::nr_hw_queues] = i.nr_hw_queues;
    j[k::max_io_bytes] = i.max_io_bytes;
    j[k::io_timeout_ms] = i.io_timeout_ms;
    j[k::reconnect_delay_ms] = i.reconnect_delay_ms;
    j[k::giveup_timeout_ms] = i.giveup_timeout_ms;
    j[k::heartbeat_ms] = i.heartbeat_ms;
    j[k::reconnect_attempts] = i.reconnect_attempts;
    j[k::read_only] = (i.flags & QBD_MAP_READ_ONLY) != 0;
    j[k::shared] = (i.flags & QBD_MAP_SHARED) != 0;
    j[k::flags] = i.flags;
    j[k::resume_mode] = resume_mode_name(i.resume_mode);
    j[k::read_bps] = i.read_bps;
    j[k::write_bps] = i.write_bps;
    j[k::read_iops] = i.read_iops;
    j[k::write_iops] = i.write_iops;
    json::Json& st = j[k::stats] = json::Json::object();
    st[k::read_ops] = s.read_ops;
    st[k::read_bytes] = s.read_bytes;
    st[k::write_ops] = s.write_ops;
    st[k::write_bytes] = s.write_bytes;
    st[k::discard_ops] = s.discard_ops;
    st[k::discard_bytes] = s.discard_bytes;
    st[k::flush_ops] = s.flush_ops;
    st[k::errors] = s.errors;
    st[k::timeouts] = s.timeouts;
    st[k::completed] = s.completed;
    st[k::total_latency_ns] = s.total_latency_ns;
    st[k::mean_latency_us] = mean_latency_us(s);
    st[k::in_flight] = s.in_flight;
    if (paths) {
        json::Json& ps = j[k::paths] = json::Json::array();
        for (size_t p = 0; p < d.paths.size(); p++) {
            const qbd_ioc_conn_info& c = d.paths[p];
            json::Json o = json::path(format_addr(c.addr));
            o[k::active] = p == i.active_path;
            o[k::state] = conn_state_name(c.state);
            o[k::in_flight] = c.in_flight;
            o[k::sent] = c.sent;
            o[k::reconnects] = c.reconnects;
            ps.push_back(std::move(o));
        }
    }
    return j;
}

std::string format_list_json(const std::vector<DeviceInfo>& devs) {
    json::Json doc = json::document();
    json::Json& list = doc[json::key::devices] = json::Json::array();
    for (const auto& d : devs) list.push_back(device_json(d, false));
    return json::dump(doc);
}

std::string format_info_json(const DeviceInfo& d) {
    json::Json doc = json::document();
    doc.update(device_json(d, true));
    return json::dump(doc);
}

std::string format_info(const DeviceInfo& d) {
    const qbd_ioc_info& i = d.info;
    const qbd_ioc_stats& s = i.stats;
    auto or_default = [](uint64_t v, const std::string& text) {
        return v ? text : std::string("driver default");
    };
    std::vector<std::vector<std::string>> rows = {
        {"device:", "/dev/" + d.disk()},
        {"volume:", d.pool() + "/" + d.volume()},
        {"volume id:", std::to_string(i.volume_id)},
        {"size:", format_bytes(i.size)},
        {"shard size:", format_bytes(i.shard_size)},
        {"epoch:", std::to_string(i.epoch)},
        {"active path:", active_path_name(d)},
        {"transport:", transport_name(i.transport)},
        {"state:", dev_state_name(i.state)},
        {"queue depth:", or_default(i.queue_depth, std::to_string(i.queue_depth))},
        {"hw queues:", or_default(i.nr_hw_queues, std::to_string(i.nr_hw_queues))},
        {"max io:", or_default(i.max_io_bytes, format_size(i.max_io_bytes))},
        {"io timeout:", or_default(i.io_timeout_ms, std::to_string(i.io_timeout_ms) + " ms")},
        {"reconnect delay:",
         or_default(i.reconnect_delay_ms, std::to_string(i.reconnect_delay_ms) + " ms")},
        {"give-up timeout:",
         or_default(i.giveup_timeout_ms, std::to_string(i.giveup_timeout_ms) + " ms")},
        {"heartbeat:", or_default(i.heartbeat_ms, std::to_string(i.heartbeat_ms) + " ms")},
        {"reconnect attempts:", std::to_string(i.reconnect_attempts)},
        {"flags:", flags_text(i.flags)},
        {"io mode:", io_mode_text(i)},
        {"throttle:", "read " + std::to_string(i.read_bps) + " B/s " + std::to_string(i.read_iops) +
                          " IO/s, write " + std::to_string(i.write_bps) + " B/s " +
                          std::to_string(i.write_iops) + " IO/s (0 = unlimited)"},
        {"reads:", std::to_string(s.read_ops) + " ops, " + format_size(s.read_bytes)},
        {"writes:", std::to_string(s.write_ops) + " ops, " + format_size(s.write_bytes)},
        {"discards:", std::to_string(s.discard_ops) + " ops, " + format_size(s.discard_bytes)},
        {"flushes:", std::to_string(s.flush_ops)},
        {"errors:", std::to_string(s.errors)},
        {"timeouts:", std::to_string(s.timeouts)},
        {"in flight:", std::to_string(s.in_flight)},
        {"mean latency:", std::to_string(mean_latency_us(s)) + " us over " +
                              std::to_string(s.completed) + " requests"},
    };
    std::string out = format_table(rows);
    out += "\npaths: " + std::to_string(i.nr_paths) + "\n";
    std::vector<std::vector<std::string>> paths = {
        {"", "address", "state", "in-flight", "sent", "reconnects"}};
    for (size_t p = 0; p < d.paths.size(); p++) {
        const qbd_ioc_conn_info& c = d.paths[p];
        paths.push_back({p == i.active_path ? "*" : "", format_addr(c.addr),
                         conn_state_name(c.state), std::to_string(c.in_flight),
                         std::to_string(c.sent), std::to_string(c.reconnects)});
    }
    out += format_table(paths);
    out += "(* the active path: all IO goes there)\n";
    return out;
}

}  // namespace qbd
