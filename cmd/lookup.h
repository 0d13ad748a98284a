// Asks the qbd-server control service where a volume lives.
#pragma once

#include <functional>
#include <string>

#include "config.h"
#include "qbd_client.h"

namespace qbd {

// Connects to the first of cfg.servers that answers (cfg.connect_timeout
// each) and runs fn on it; what fn throws is final.  Throws Error with the
// last connection error when no server answers.
void with_control_server(const Config& cfg, const std::string& secret,
                         const std::function<void(client::Client&, const std::string& server)>& fn);

// The volume's id, size, shard size, epoch and per-shard server addresses.
// While a shard of it is moving (the server answers EBUSY) it asks again
// for as long as the driver keeps requests waiting for the new map.
// Throws Error: ENOENT when the volume does not exist.
client::Volume lookup_volume(const Config& cfg, const std::string& secret, const std::string& pool,
                             const std::string& volume);

}  // namespace qbd
