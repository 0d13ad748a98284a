#include "lookup.h"

#include <algorithm>
#include <cerrno>

#include "addr.h"
#include "cli.h"
#include "error.h"

namespace qbd {

namespace {

std::string describe(const client::Volume& v) {
    return "id " + std::to_string(v.id) + ", " + std::to_string(v.size) + " bytes, shard size " +
           std::to_string(v.shard_size);
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

// A server that listens on a wildcard address and advertises nothing else
// answers with the wildcard, which names no host: the path is then the
// host qbd.conf reached it at, on the port it gave.
std::string reachable_path(const std::string& server, const std::string& path) {
    try {
        HostPort p = parse_host_port(path, QBD_DEFAULT_PORT);
        if (p.host != "0.0.0.0" && p.host != "::") return path;
        p.host = parse_host_port(server, QBD_DEFAULT_CTL_PORT).host;
        return p.str();
    } catch (const Error&) {
        return path;  // build_map_request says what is wrong with it
    }
}

}  // namespace

client::Volume merge_answers(const std::string& pool, const std::string& volume,
                             const std::vector<ServerAnswer>& answers) {
    const std::string name = pool + "/" + volume;
    std::optional<client::Volume> out;
    std::string first;  // the server *out came from
    std::vector<std::string> absent;
    std::vector<const ServerAnswer*> failed;
    for (const ServerAnswer& a : answers) {
        if (a.err == -ENOENT) {
            debug(a.server + " does not serve " + name);
            absent.push_back(a.server);
            continue;
        }
        if (a.err) {
            debug(a.server + " skipped: " + a.why);
            failed.push_back(&a);
            continue;
        }
        client::Volume v = a.volume;
        if (v.paths.size() != 1)
            throw Error(EPROTO, a.server + " answered for " + name + " with " +
                                    std::to_string(v.paths.size()) + " paths instead of its own");
        v.paths[0] = reachable_path(a.server, v.paths[0]);
        if (!out) {
            out = v;
            first = a.server;
            debug(a.server + " serves " + name + " (" + describe(v) + ", epoch " +
                  std::to_string(v.epoch) + ") as " + v.paths[0]);
            continue;
        }
        if (v.id != out->id || v.size != out->size || v.shard_size != out->shard_size)
            throw Error(ENOTUNIQ, first + " and " + a.server + " serve different volumes as " +
                                      name + ": " + describe(*out) + " on " + first + ", " +
                                      describe(v) + " on " + a.server);
        if (v.epoch != out->epoch)
            debug(a.server + " has " + name + " at epoch " + std::to_string(v.epoch) + ", " +
                  first + " at " + std::to_string(out->epoch));
        if (std::find(out->paths.begin(), out->paths.end(), v.paths[0]) != out->paths.end()) {
            debug(a.server + " is " + v.paths[0] + ", a path already listed");
            continue;
        }
        debug(a.server + " serves " + name + " as " + v.paths[0]);
        out->paths.push_back(v.paths[0]);
    }
    if (out) return *out;
    if (failed.empty()) {
        if (absent.empty()) throw Error(EHOSTUNREACH, "no control server configured");
        throw Error(ENOENT, name + " does not exist on " + join(absent));
    }
    std::vector<std::string> whys;
    for (const ServerAnswer* a : failed) whys.push_back(a->why);
    const int err = -failed.front()->err;
    if (absent.empty()) throw Error(err, "cannot reach a control server: " + join(whys));
    throw Error(err, name + " does not exist on " + join(absent) + ", and " +
                         (failed.size() == 1 ? "a server" : "servers") +
                         " did not answer: " + join(whys));
}

}  // namespace qbd
