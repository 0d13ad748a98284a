// Asks the qbd-server control service where a volume lives.
#pragma once

#include <string>

#include "config.h"
#include "map_request.h"

namespace qbd {

// Tries each of cfg.servers in order (cfg.connect_timeout each) until one
// answers, and returns the volume's id, size, shard size, epoch and
// per-shard server addresses.  Throws Error: ENOENT when the volume does
// not exist, the last connection error when no server answers.
VolumeInfo lookup_volume(const Config& cfg, const std::string& secret, const std::string& pool,
                         const std::string& volume);

}  // namespace qbd
