// Asks the qbd-server control services of qbd.conf about a volume.  Every
// server that serves it is one path to it (qbd.conf order), since each
// answers with its own address only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "config.h"
#include "qbd_client.h"

namespace qbd {

// What one server of qbd.conf said of a volume.
struct ServerAnswer {
    std::string server;     // as qbd.conf names it
    int err = 0;            // 0: it serves the volume; -ENOENT: it does not; else no answer
    std::string why;        // what went wrong, when err is neither
    client::Volume volume;  // when err is 0: its path in volume.paths[0]
};

// The volume the answers (in qbd.conf order) describe, with one path per
// server that serves it, in that order; a path that two entries of
// qbd.conf reach is listed once.  A server that answers with a wildcard
// address (0.0.0.0, ::) is the host qbd.conf names, on the port it gave.  Servers that do not serve
// it or did not answer are noted with debug() and skipped.  Throws Error: ENOTUNIQ when two servers
// serve different volumes under the name (id, size or shard size differ), naming both; ENOENT when
// none serves it and all answered; the errno of a server that did not answer when none serves it.
client::Volume merge_answers(const std::string& pool, const std::string& volume,
                             const std::vector<ServerAnswer>& answers);

// Asks every server of cfg.servers at once (cfg.connect_timeout each) and
// merges the answers.  With @settle, servers that disagree only on the
// size are asked again until they agree or @settle has passed: gateways of
// one image learn of its growth one after another.
client::Volume lookup_volume(const Config& cfg, const HostKey& me, const std::string& pool,
                             const std::string& volume,
                             std::chrono::milliseconds settle = std::chrono::milliseconds(0));

// Grows the volume on the first server of cfg.servers that serves it
// (each gateway of an image learns it from the image; a file volume has
// one server).  Throws Error: what that server refused, or as
// merge_answers when no server serves it.
void resize_volume(const Config& cfg, const HostKey& me, const std::string& pool,
                   const std::string& volume, uint64_t new_size);

// Who holds the volume read-write (one writer per volume, qbd-server(8)),
// as every server of cfg.servers that answers says: "host web1 on
// 10.0.0.1:7800, ...", or "" when none names a holder.
std::string describe_holders(const Config& cfg, const HostKey& me, const std::string& pool,
                             const std::string& volume);

// Ends this host's claim on the volume on every server of cfg.servers, so
// that another host may map it at once instead of after the servers'
// grace period (qbd -u).  Best effort: the claims of servers that do not
// answer expire by themselves.
void release_claims(const Config& cfg, const HostKey& me, const std::string& pool,
                    const std::string& volume);

}  // namespace qbd
