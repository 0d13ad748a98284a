// /etc/qbd/qbd.conf (see qbd.conf(5)) and the per-map tunables that
// `-o key=value,...` can override.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "addr.h"
#include "key_file.h"
#include "volume_spec.h"

namespace qbd {

inline constexpr const char* kDefaultConfigPath = "/etc/qbd/qbd.conf";

// What the driver gets at map time; 0 means "the driver's default".
struct MapTunables {
    uint32_t queue_depth = 0;         // 1..1024
    uint32_t nr_hw_queues = 0;        // 1..256
    uint32_t max_io_kb = 0;           // 4..4096
    uint32_t io_timeout = 0;          // seconds, 1..3600
    uint32_t reconnect_delay_ms = 0;  // first reconnect wait, 1..86400000
    uint32_t giveup_timeout = 0;      // seconds IO waits for a lost server, 1..86400
    uint32_t heartbeat_interval = 0;  // seconds between probes of an idle connection, 1..86400
    bool read_only = false;
    bool crc32c = true;  // payloads checksummed end to end (TCP)
    // One writer per volume (qbd-server(8)): share the volume with the
    // other hosts that map it shared, or take it over from its holder.
    bool shared = false;
    bool take_over = false;  // -o only: never from qbd.conf
};

struct Config {
    std::vector<HostPort> servers = {{"127.0.0.1", QBD_DEFAULT_CTL_PORT}};
    std::string host_id;   // this host's name in the servers' keys files; empty: the hostname
    std::string key_file;  // this host's key; empty: no key
    Transport transport = Transport::tcp;
    MapTunables tunables;
    uint32_t connect_timeout = 5;  // seconds, per control server
    uint32_t udev_timeout = 10;    // seconds to wait for device links; 0 = don't
};

// Parses the text of a config file.  Errors name "<file>:<line>".
Config parse_config(std::string_view text, const std::string& file);

// Reads and parses @path.  A missing file is an error only when
// @must_exist (the user named it with -c); otherwise defaults are used.
Config load_config(const std::string& path, bool must_exist);

// Applies one "key=value" map override (-o); throws a usage error naming it.
// A yes/no option alone ("read_only") means yes.
void apply_map_option(MapTunables& t, std::string_view key_value);

// Applies a comma-separated -o list.
void apply_map_options(MapTunables& t, std::string_view list);

// The keys -o takes: the numbers, then the yes/no switches.
std::vector<std::string> map_option_keys();

// Who this host is to the servers: host_id (the hostname by default) and
// the key of key_file, read as qbd-server reads its keys (server/key_file.h:
// a root-only file).  Throws with the reason.
HostKey load_host_key(const Config& cfg);

}  // namespace qbd
