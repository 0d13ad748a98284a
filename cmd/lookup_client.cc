// Resolves pool/volume with the qbd-server control service.
#include <cerrno>

#include "addr.h"
#include "error.h"
#include "lookup.h"
#include "qbd_client.h"

namespace qbd {

VolumeInfo lookup_volume(const Config& cfg, const std::string& secret, const std::string& pool,
                         const std::string& volume) {
    int last = -EHOSTUNREACH;
    std::string why = "no control server configured";
    for (const HostPort& hp : cfg.servers) {
        const std::string server = hp.str();
        std::unique_ptr<client::Client> c;
        std::string error;
        int timeout_ms = static_cast<int>(cfg.connect_timeout) * 1000;
        if (int err = client::Client::connect(server, secret, timeout_ms ? timeout_ms : 5000, &c, &error)) {
            last = err;
            why = error;
            continue;  // the next server may answer
        }
        client::Volume v;
        if (int err = c->info(pool, volume, &v)) {
            if (err == -ENOENT) throw Error(ENOENT, pool + "/" + volume + " does not exist on " + server);
            last = err;
            why = server + ": " + c->error();
            continue;
        }
        VolumeInfo out;
        out.pool = v.pool;
        out.volume = v.volume;
        out.id = v.id;
        out.size = v.size;
        out.shard_size = v.shard_size;
        out.epoch = v.epoch;
        out.shards = std::move(v.shards);
        return out;
    }
    throw Error(-last, "cannot look up " + pool + "/" + volume + ": " + why);
}

}  // namespace qbd
