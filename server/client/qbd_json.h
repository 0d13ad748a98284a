// The JSON that qbd and qbd-server print with -o json (qbd -l, qbd -i,
// qbd-server list, qbd-server info): one schema for both tools, defined
// here once.  A document is an object with "version" (kVersion); a list
// holds its objects in an array under one key ("devices", "volumes"), and
// the object of one device or volume is the document itself.  Values are
// data: numbers in bytes, milliseconds or counts, booleans, and names out
// of a fixed set (enums), never prose; what is unknown is null.
//
// A change that renames or retypes a key, or removes one, is a new
// kVersion; adding a key is not.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "qbd_client.h"

namespace qbd::json {

// Objects keep the order their keys were written in, for people reading.
using Json = nlohmann::ordered_json;

inline constexpr int kVersion = 1;

// -o json|table, --output-format json|table (--json is -o json).
enum class Format { table, json };

inline std::optional<Format> parse_format(std::string_view s) {
    if (s == "table") return Format::table;
    if (s == "json") return Format::json;
    return std::nullopt;
}

// The key names, shared by both tools.
namespace key {
inline constexpr const char* version = "version";
// The arrays of list documents.
inline constexpr const char* devices = "devices";  // qbd -l
inline constexpr const char* volumes = "volumes";  // qbd-server list
// A volume, as both tools name it.
inline constexpr const char* pool = "pool";
inline constexpr const char* volume = "volume";
inline constexpr const char* volume_id = "volume_id";
inline constexpr const char* size = "size";              // bytes
inline constexpr const char* shard_size = "shard_size";  // bytes
inline constexpr const char* epoch = "epoch";
inline constexpr const char* paths = "paths";  // array of path objects
// A path: the address of a server that serves the volume.
inline constexpr const char* address = "address";  // "host:port"
// qbd: a mapped device.
inline constexpr const char* dev = "dev";  // "/dev/qbdX"
inline constexpr const char* dev_index = "dev_index";
inline constexpr const char* nr_paths = "nr_paths";
inline constexpr const char* active_path = "active_path";        // index into paths
inline constexpr const char* active_address = "active_address";  // its address, or null
inline constexpr const char* transport = "transport";            // tcp | rdma
inline constexpr const char* state = "state";  // device or path state, as qbd(8) lists them
inline constexpr const char* queue_depth = "queue_depth";  // 0: the driver's default, and so on
inline constexpr const char* nr_hw_queues = "nr_hw_queues";
inline constexpr const char* max_io_bytes = "max_io_bytes";
inline constexpr const char* io_timeout_ms = "io_timeout_ms";
inline constexpr const char* reconnect_delay_ms = "reconnect_delay_ms";
inline constexpr const char* giveup_timeout_ms = "giveup_timeout_ms";
inline constexpr const char* heartbeat_ms = "heartbeat_ms";
inline constexpr const char* reconnect_attempts = "reconnect_attempts";
inline constexpr const char* read_only = "read_only";
inline constexpr const char* shared = "shared";
inline constexpr const char* flags = "flags";              // QBD_MAP_* bits
inline constexpr const char* resume_mode = "resume_mode";  // normal | error | discard
inline constexpr const char* read_bps = "read_bps";        // 0: unlimited
inline constexpr const char* write_bps = "write_bps";
inline constexpr const char* read_iops = "read_iops";
inline constexpr const char* write_iops = "write_iops";
inline constexpr const char* stats = "stats";
// qbd: the stats object.
inline constexpr const char* read_ops = "read_ops";
inline constexpr const char* read_bytes = "read_bytes";
inline constexpr const char* write_ops = "write_ops";
inline constexpr const char* write_bytes = "write_bytes";
inline constexpr const char* discard_ops = "discard_ops";
inline constexpr const char* discard_bytes = "discard_bytes";
inline constexpr const char* flush_ops = "flush_ops";
inline constexpr const char* errors = "errors";
inline constexpr const char* timeouts = "timeouts";
inline constexpr const char* completed = "completed";
inline constexpr const char* total_latency_ns = "total_latency_ns";
inline constexpr const char* mean_latency_us = "mean_latency_us";
inline constexpr const char* in_flight = "in_flight";
// qbd: a path of a mapped device, besides address, state and in_flight.
inline constexpr const char* active = "active";
inline constexpr const char* sent = "sent";
inline constexpr const char* reconnects = "reconnects";
// qbd -e: a driver event.
inline constexpr const char* event = "event";      // connection_lost | ... (events.cc)
inline constexpr const char* time_ms = "time_ms";  // when it came, ms since the epoch
}  // namespace key

// An empty document of this version.
inline Json document() {
    Json j = Json::object();
    j[key::version] = kVersion;
    return j;
}

// A path object that has only its address.
inline Json path(const std::string& address) {
    Json p = Json::object();
    p[key::address] = address;
    return p;
}

// A volume as qbd-server describes it; with its paths when @paths.
inline Json volume(const client::Volume& v, bool paths) {
    Json j = Json::object();
    j[key::pool] = v.pool;
    j[key::volume] = v.volume;
    j[key::volume_id] = v.id;
    j[key::size] = v.size;
    j[key::shard_size] = v.shard_size;
    j[key::epoch] = v.epoch;
    if (paths) {
        Json& ps = j[key::paths] = Json::array();
        for (const auto& p : v.paths) ps.push_back(path(p));
    }
    return j;
}

// The text printed: indented by two, one trailing newline.  Bytes that are
// not UTF-8 (a name the tools did not make) become U+FFFD.
inline std::string dump(const Json& j) {
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace qbd::json
