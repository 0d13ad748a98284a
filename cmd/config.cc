#include "config.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "error.h"
#include "key_file.h"
#include "strutil.h"

namespace qbd {

namespace {

struct Tunable {
    const char* key;
    uint32_t MapTunables::*field;
    uint64_t min;
    uint64_t max;
};

// Ranges are the driver's (qbd_validate_map): better refused here with a
// message than as EINVAL from the ioctl.
constexpr Tunable kTunables[] = {
    {"queue_depth", &MapTunables::queue_depth, 1, 1024},
    {"nr_hw_queues", &MapTunables::nr_hw_queues, 1, 256},
    {"max_io_kb", &MapTunables::max_io_kb, 4, QBD_MAX_IO_BYTES / 1024},
    {"io_timeout", &MapTunables::io_timeout, 1, 3600},
    {"reconnect_delay_ms", &MapTunables::reconnect_delay_ms, 1, 24 * 3600 * 1000},
    {"giveup_timeout", &MapTunables::giveup_timeout, 1, 24 * 3600},
    {"heartbeat_interval", &MapTunables::heartbeat_interval, 1, 24 * 3600},
};

// The yes/no settings.
struct Switch {
    const char* key;
    bool MapTunables::*field;
};
constexpr Switch kSwitches[] = {
    {"read_only", &MapTunables::read_only},
    {"crc32c", &MapTunables::crc32c},
    {"shared", &MapTunables::shared},
    {"take_over", &MapTunables::take_over},
};

bool MapTunables::*find_switch(std::string_view key) {
    for (const auto& s : kSwitches)
        if (key == s.key) return s.field;
    return nullptr;
}

const Tunable* find_tunable(std::string_view key) {
    for (const auto& t : kTunables)
        if (key == t.key) return &t;
    return nullptr;
}

std::string range_text(const Tunable& t) {
    return "an integer from " + std::to_string(t.min) + " to " + std::to_string(t.max);
}

std::optional<bool> parse_bool(std::string_view v) {
    if (v == "1" || v == "yes" || v == "true" || v == "on") return true;
    if (v == "0" || v == "no" || v == "false" || v == "off") return false;
    return std::nullopt;
}

std::string read_file(const std::string& path, int& err) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        err = errno ? errno : ENOENT;
        return {};
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    err = 0;
    return ss.str();
}

}  // namespace

Config parse_config(std::string_view text, const std::string& file) {
    Config cfg;
    bool servers_seen = false;
    auto lines = split(text, '\n');
    for (size_t i = 0; i < lines.size(); i++) {
        std::string where = file + ":" + std::to_string(i + 1);
        std::string_view line = lines[i];
        if (size_t hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        line = trim(line);
        if (line.empty()) continue;

        size_t eq = line.find('=');
        if (eq == std::string_view::npos)
            usage_error(where + ": expected 'key = value', got '" + std::string(line) + "'");
        std::string key(trim(line.substr(0, eq)));
        std::string_view value = trim(line.substr(eq + 1));
        auto bad = [&](const std::string& want) {
            usage_error(where + ": bad value '" + std::string(value) + "' for " + key +
                        ": expected " + want);
        };
        if (value.empty()) bad("a value");

        if (key == "servers") {
            if (servers_seen) usage_error(where + ": servers given twice");
            servers_seen = true;
            cfg.servers.clear();
            for (const auto& item : split(value, ',')) {
                std::string_view s = trim(item);
                try {
                    cfg.servers.push_back(parse_host_port(s, QBD_DEFAULT_CTL_PORT));
                } catch (const Error& e) {
                    usage_error(where + ": " + e.what());
                }
            }
        } else if (key == "host_id") {
            if (!valid_host_id(value)) bad("a host id: letters, digits, ._:@-");
            cfg.host_id = value;
        } else if (key == "key_file") {
            cfg.key_file = value;
        } else if (key == "transport") {
            auto t = parse_transport(value);
            if (!t) bad("tcp or rdma");
            cfg.transport = *t;
        } else if (key == "connect_timeout" || key == "udev_timeout") {
            uint64_t min = key == "connect_timeout" ? 1 : 0;
            auto v = parse_uint(value, min, 3600);
            if (!v) bad("seconds, an integer from " + std::to_string(min) + " to 3600");
            (key == "connect_timeout" ? cfg.connect_timeout : cfg.udev_timeout) =
                static_cast<uint32_t>(*v);
        } else if (key == "take_over") {
            usage_error(where +
                        ": take_over is for one map (qbd -m -o take_over), not for a "
                        "config: it would take the volume from its holder at every map");
        } else if (auto sw = find_switch(key)) {
            auto v = parse_bool(value);
            if (!v) bad("yes or no");
            cfg.tunables.*sw = *v;
        } else if (const Tunable* t = find_tunable(key)) {
            auto v = parse_uint(value, t->min, t->max);
            if (!v) bad(range_text(*t));
            cfg.tunables.*(t->field) = static_cast<uint32_t>(*v);
        } else {
            usage_error(where + ": unknown key '" + key + "'");
        }
    }
    return cfg;
}

Config load_config(const std::string& path, bool must_exist) {
    int err = 0;
    std::string text = read_file(path, err);
    if (err) {
        if (err == ENOENT && !must_exist) return Config{};
        sys_error(err, "cannot read config " + path);
    }
    return parse_config(text, path);
}

void apply_map_option(MapTunables& t, std::string_view kv) {
    size_t eq = kv.find('=');
    std::string key(trim(kv.substr(0, eq)));
    std::string_view value = eq == std::string_view::npos ? "" : trim(kv.substr(eq + 1));
    if (auto sw = find_switch(key)) {
        std::optional<bool> v = eq == std::string_view::npos ? true : parse_bool(value);
        if (!v) usage_error("-o " + key + "='" + std::string(value) + "': expected yes or no");
        t.*sw = *v;
        return;
    }
    const Tunable* tun = find_tunable(key);
    if (!tun)
        usage_error("-o: unknown option '" + key +
                    "' (known: queue_depth, nr_hw_queues, max_io_kb, io_timeout, " +
                    "reconnect_delay_ms, giveup_timeout, heartbeat_interval, read_only, crc32c, " +
                    "shared, take_over)");
    if (eq == std::string_view::npos) usage_error("-o " + key + ": missing '=value'");
    auto v = parse_uint(value, tun->min, tun->max);
    if (!v)
        usage_error("-o " + key + "='" + std::string(value) + "': expected " + range_text(*tun));
    t.*(tun->field) = static_cast<uint32_t>(*v);
}

void apply_map_options(MapTunables& t, std::string_view list) {
    for (const auto& item : split(list, ',')) {
        if (trim(item).empty()) usage_error("-o '" + std::string(list) + "': empty option");
        apply_map_option(t, item);
    }
}

std::vector<std::string> map_option_keys() {
    std::vector<std::string> out;
    for (const auto& t : kTunables) out.push_back(t.key);
    for (const auto& s : kSwitches) out.push_back(s.key);
    return out;
}

HostKey load_host_key(const Config& cfg) {
    HostKey me;
    me.host_id = cfg.host_id;
    if (me.host_id.empty()) {
        char name[HOST_NAME_MAX + 1] = {};
        if (gethostname(name, sizeof(name) - 1) == 0 && valid_host_id(name)) me.host_id = name;
    }
    if (cfg.key_file.empty()) return me;
    if (me.host_id.empty())
        throw Error(EINVAL,
                    "key_file needs host_id: the hostname is no host id (letters, "
                    "digits, ._:@-)");
    std::string error;
    if (int r = read_key_file(cfg.key_file, &me.key, &error)) throw Error(-r, error);
    return me;
}

}  // namespace qbd
