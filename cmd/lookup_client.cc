// Resolves pool/volume with the qbd-server control service.
#include <cerrno>
#include <chrono>
#include <thread>

#include "error.h"
#include "lookup.h"

namespace qbd {

namespace {

// The driver requeues IO that met a stale epoch for QBD_MAX_REQUEUES
// seconds; a map that arrives later than that helps nobody.
constexpr auto kMoveWait = std::chrono::seconds(60);
constexpr auto kMovePoll = std::chrono::milliseconds(200);

}  // namespace

void with_control_server(
    const Config& cfg, const std::string& secret,
    const std::function<void(client::Client&, const std::string& server)>& fn) {
    int last = -EHOSTUNREACH;
    std::string why = "no control server configured";
    for (const HostPort& hp : cfg.servers) {
        const std::string server = hp.str();
        std::unique_ptr<client::Client> c;
        if (int err = client::Client::connect(
                server, secret, static_cast<int>(cfg.connect_timeout) * 1000, &c, &why)) {
            last = err;
            continue;  // the next server may answer
        }
        fn(*c, server);
        return;
    }
    throw Error(-last, "cannot reach a control server: " + why);
}

client::Volume lookup_volume(const Config& cfg, const std::string& secret, const std::string& pool,
                             const std::string& volume) {
    client::Volume v;
    with_control_server(cfg, secret, [&](client::Client& c, const std::string& server) {
        const auto deadline = std::chrono::steady_clock::now() + kMoveWait;
        int err;
        while ((err = c.info(pool, volume, &v)) == -EBUSY &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(kMovePoll);
        if (err == -ENOENT)
            throw Error(ENOENT, pool + "/" + volume + " does not exist on " + server);
        if (err)
            throw Error(
                -err, "cannot look up " + pool + "/" + volume + " on " + server + ": " + c.error());
    });
    return v;
}

}  // namespace qbd
