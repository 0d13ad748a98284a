// qbd-server: the reference storage server for qbd volumes.  See
// qbd-server(8).
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "client/qbd_client.h"
#include "client/qbd_json.h"
#include "key_file.h"
#include "listen_policy.h"
#include "server.h"
#include "server_config.h"

namespace {

using qbd::client::Volume;

// A poll longer than this is no longer a wait for the next request.
constexpr unsigned long kMaxBusyPollUs = 10000;

const char* kUsage = R"(usage:
  qbd-server init    --data-dir DIR
  qbd-server serve   [--config FILE] --data-dir DIR --listen HOST:PORT [--listen ...]
                     [--advertise HOST:PORT] [--keys-file FILE] [--allow-unauthenticated]
                     [--default-shard-size SIZE] [--rdma] [--busy-poll USEC]
                     [--handshake-timeout SEC] [--max-connections N]
                     [--max-connections-per-host N] [--claim-grace SEC] [--fault SPEC ...]
  qbd-server add-host    HOST-ID    (prints the host's new key)
  qbd-server remove-host HOST-ID
  qbd-server create  POOL/VOLUME SIZE [--shard-size SIZE] [--device PATH]
  qbd-server delete  POOL/VOLUME
  qbd-server resize  POOL/VOLUME SIZE
  qbd-server info    POOL/VOLUME [--json]
  qbd-server list    [POOL] [--json]
add-host and remove-host change the keys file (--keys-file FILE, or the
configuration file's keys_file); a running server reads it at every new
connection.  The volume commands act on --data-dir DIR (server stopped), on
the backend --config FILE names, or on a running server with --server
HOST:PORT [--host-id ID --key-file FILE].  SIZE takes K, M, G, T.  The
command line overrides the configuration file (qbd-server(8), CONFIGURATION).
)";

struct Args {
    std::string command;
    std::vector<std::string> positional;
    std::string config, data_dir, server, keys_file, host_id, key_file, advertise, device;
    std::vector<std::string> listen;
    uint64_t shard_size = 0, default_shard_size = 0;  // 0: not given
    bool json = false;
    bool rdma = false;
    bool allow_unauthenticated = false;
    bool busy_poll_given = false;
    unsigned busy_poll_us = 0;
    unsigned handshake_timeout_s = 0;  // 0: not given
    std::optional<unsigned> claim_grace_s;
    unsigned max_connections = 0, max_connections_per_host = 0;  // 0: not given
    qbd::FaultConfig faults;
};

int fail(const std::string& msg, int code = 1) {
    std::cerr << "qbd-server: " << msg << "\n";
    return code;
}

bool parse_size(const std::string& s, uint64_t* out) { return qbd::parse_size(s, out); }

// @v as a number from @min to @max for option @k, or false with @error.
bool parse_count(const std::string& k, const std::string& v, unsigned long min, unsigned long max,
                 const char* unit, unsigned* out, std::string* error) {
    char* end = nullptr;
    errno = 0;
    unsigned long n = strtoul(v.c_str(), &end, 10);
    if (errno || end == v.c_str() || *end || v[0] == '-' || n < min || n > max) {
        *error = k + " takes " + std::to_string(min) + " to " + std::to_string(max) + " (" + unit +
                 "), not '" + v + "'";
        return false;
    }
    *out = static_cast<unsigned>(n);
    return true;
}

bool parse_args(int argc, char** argv, Args* a, std::string* error) {
    if (argc < 2) return false;
    a->command = argv[1];
    for (int i = 2; i < argc; i++) {
        std::string k = argv[i];
        auto value = [&](std::string* dst) {
            if (i + 1 >= argc) {
                *error = k + " needs a value";
                return false;
            }
            *dst = argv[++i];
            return true;
        };
        std::string v;
        if (k == "--config") {
            if (!value(&a->config)) return false;
        } else if (k == "--data-dir") {
            if (!value(&a->data_dir)) return false;
        } else if (k == "--server") {
            if (!value(&a->server)) return false;
        } else if (k == "--keys-file") {
            if (!value(&a->keys_file)) return false;
        } else if (k == "--host-id") {
            if (!value(&a->host_id)) return false;
        } else if (k == "--key-file") {
            if (!value(&a->key_file)) return false;
        } else if (k == "--advertise") {
            if (!value(&a->advertise)) return false;
        } else if (k == "--device") {
            if (!value(&a->device)) return false;
        } else if (k == "--listen") {
            if (!value(&v)) return false;
            a->listen.push_back(v);
        } else if (k == "--json")
            a->json = true;
        else if (k == "--rdma")
            a->rdma = true;
        else if (k == "--allow-unauthenticated")
            a->allow_unauthenticated = true;
        else if (k == "--busy-poll") {
            if (!value(&v)) return false;
            char* end = nullptr;
            errno = 0;
            unsigned long us = strtoul(v.c_str(), &end, 10);
            if (errno || end == v.c_str() || *end || v[0] == '-' || us > kMaxBusyPollUs) {
                *error = "--busy-poll takes 0 to " + std::to_string(kMaxBusyPollUs) +
                         " (microseconds), not '" + v + "'";
                return false;
            }
            a->busy_poll_us = static_cast<unsigned>(us);
            a->busy_poll_given = true;
        } else if (k == "--handshake-timeout") {
            if (!value(&v) ||
                !parse_count(k, v, 1, 3600, "seconds", &a->handshake_timeout_s, error))
                return false;
        } else if (k == "--claim-grace") {
            unsigned secs;
            if (!value(&v) || !parse_count(k, v, 0, 3600, "seconds", &secs, error)) return false;
            a->claim_grace_s = secs;
        } else if (k == "--max-connections" || k == "--max-connections-per-host") {
            unsigned* dst =
                k == "--max-connections" ? &a->max_connections : &a->max_connections_per_host;
            if (!value(&v) || !parse_count(k, v, 1, 1U << 20, "connections", dst, error))
                return false;
        } else if (k == "--fault") {
            if (!value(&v) || !qbd::parse_fault(v, &a->faults, error)) return false;
        } else if (k == "--shard-size" || k == "--default-shard-size") {
            if (!value(&v)) return false;
            if (!parse_size(v, k == "--shard-size" ? &a->shard_size : &a->default_shard_size)) {
                *error = "bad size '" + v + "'";
                return false;
            }
        } else if (k == "-h" || k == "--help") {
            return false;
        } else if (!k.empty() && k[0] == '-') {
            *error = "unknown option " + k;
            return false;
        } else {
            a->positional.push_back(k);
        }
    }
    return true;
}

// The server's settings: the configuration file's, then the command
// line's over them.
int load_settings(const Args& a, qbd::ServerSettings* s, std::string* error) {
    if (!a.config.empty())
        if (int err = qbd::load_server_config(a.config, s, error)) return err;
    if (!a.data_dir.empty()) s->data_dir = a.data_dir;
    if (!a.listen.empty()) s->listen = a.listen;
    if (!a.advertise.empty()) s->advertise = a.advertise;
    if (!a.keys_file.empty()) s->keys_file = a.keys_file;
    if (a.allow_unauthenticated) s->allow_unauthenticated = true;
    if (a.rdma) s->rdma = true;
    if (a.busy_poll_given) s->busy_poll_us = a.busy_poll_us;
    if (a.handshake_timeout_s) s->handshake_timeout_s = a.handshake_timeout_s;
    if (a.claim_grace_s) s->claim_grace_s = *a.claim_grace_s;
    if (a.max_connections) s->max_connections = a.max_connections;
    if (a.max_connections_per_host) s->max_connections_per_host = a.max_connections_per_host;
    if (a.default_shard_size) s->default_shard_size = a.default_shard_size;
    return qbd::check_server_settings(*s, error);
}

qbd::ServerConfig server_config(const qbd::ServerSettings& s) {
    qbd::ServerConfig cfg;
    cfg.backend = s.backend;
    cfg.data_dir = s.data_dir;
    cfg.listen = s.listen;
    cfg.advertise = qbd::advertised_address(s);
    cfg.keys_file = s.keys_file;
    cfg.rdma = s.rdma;
    cfg.busy_poll_us = s.busy_poll_us;
    cfg.handshake_timeout_s = s.handshake_timeout_s;
    cfg.claim_grace_s = s.claim_grace_s;
    cfg.max_connections = s.max_connections;
    cfg.max_connections_per_host = s.max_connections_per_host;
    cfg.default_shard_size = s.default_shard_size;
    cfg.ceph_conf = s.ceph_conf;
    cfg.ceph_client = s.ceph_client;
    cfg.ceph_keyring = s.ceph_keyring;
    cfg.pools = s.pools;
    cfg.ceph_timeout_s = s.ceph_timeout_s;
    return cfg;
}

// Who this tool is to a remote server: --host-id and the key of --key-file.
int load_host_key(const Args& a, qbd::HostKey* me, std::string* error) {
    me->host_id = a.host_id;
    if (a.key_file.empty()) return 0;
    if (!qbd::valid_host_id(a.host_id)) {
        *error = "--key-file needs the --host-id the server knows the key by";
        return -EINVAL;
    }
    return qbd::read_key_file(a.key_file, &me->key, error);
}

// add-host and remove-host: edits of the keys file.
int keys_command(const Args& a) {
    qbd::ServerSettings settings;
    std::string error;
    if (!a.config.empty() && qbd::load_server_config(a.config, &settings, &error))
        return fail(error, 2);
    if (!a.keys_file.empty()) settings.keys_file = a.keys_file;
    if (settings.keys_file.empty()) return fail(a.command + " needs --keys-file FILE", 2);
    if (a.positional.size() != 1) return fail(a.command + " needs HOST-ID", 2);
    const std::string& host = a.positional[0];
    if (a.command == "add-host") {
        std::string key;
        if (qbd::add_host_key(settings.keys_file, host, &key, &error)) return fail(error);
        std::cout << key << "\n";
        return 0;
    }
    if (qbd::remove_host_key(settings.keys_file, host, &error)) return fail(error);
    return 0;
}

bool split_name(const std::string& s, std::string* pool, std::string* volume) {
    auto slash = s.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == s.size() ||
        s.find('/', slash + 1) != std::string::npos)
        return false;
    *pool = s.substr(0, slash);
    *volume = s.substr(slash + 1);
    return pool->size() < QBD_NAME_MAX && volume->size() < QBD_NAME_MAX;
}

// One volume as a line of text (and its paths).
void print_volume(const Volume& v, bool paths) {
    std::cout << v.pool << "/" << v.volume << " id " << v.id << " size " << v.size << " shard_size "
              << v.shard_size << " epoch " << v.epoch << "\n";
    if (paths)
        for (const auto& p : v.paths) std::cout << "  path: " << p << "\n";
}

// Runs one volume command on a server, reached over the network or, with
// --data-dir, opened in-process.
int volume_command(const Args& a) {
    // Before anything is opened: a mistyped (or retired) command says so.
    if (a.command != "create" && a.command != "delete" && a.command != "resize" &&
        a.command != "info" && a.command != "list")
        return fail("unknown command '" + a.command + "'\n" + kUsage, 2);
    std::string error;
    qbd::HostKey me;
    if (load_host_key(a, &me, &error)) return fail(error);
    std::unique_ptr<qbd::Server> local;
    std::unique_ptr<qbd::client::Client> remote;
    if (!a.server.empty()) {
        if (qbd::client::Client::connect(a.server, me, 5000, &remote, &error)) return fail(error);
    } else if (!a.data_dir.empty() || !a.config.empty()) {
        qbd::ServerSettings settings;
        if (load_settings(a, &settings, &error)) return fail(error);
        if (qbd::Server::open(server_config(settings), false, &local, &error)) return fail(error);
    } else {
        return fail("say where: --server HOST:PORT, --data-dir DIR or --config FILE", 2);
    }
    // One path for both: the wire's control call.
    auto call = [&](uint16_t op, const void* p, uint32_t len, std::vector<char>* out) -> int {
        if (remote) {
            int err = remote->call(op, 0, p, len, out);
            if (err) error = remote->error();
            return err;
        }
        qbd::CtlResult r = local->control(op, static_cast<const char*>(p), len, "");
        if (r.status) {
            error = std::string(r.payload.begin(), r.payload.end());
            return r.status;
        }
        if (out) *out = std::move(r.payload);
        return 0;
    };

    std::string pool, volume;
    const auto& pos = a.positional;
    auto need_name = [&]() { return !pos.empty() && split_name(pos[0], &pool, &volume); };
    auto set = [](char* dst, const std::string& s) {
        qbd::client::put_fixed(dst, QBD_NAME_MAX, s);
    };
    std::vector<char> out;
    int err = 0;
    if (a.command == "create" || a.command == "resize") {
        uint64_t size;
        if (!need_name() || pos.size() != 2 || !parse_size(pos[1], &size))
            return fail(a.command + " needs POOL/VOLUME SIZE", 2);
        if (a.command == "create") {
            qbd_ctl_create c{};
            set(c.name.pool, pool);
            set(c.name.volume, volume);
            c.size = htole64(size);
            c.shard_size = htole64(a.shard_size);
            if (a.device.empty()) {
                err = call(QBD_OP_CTL_CREATE, &c, sizeof(c), &out);
            } else if (local) {
                qbd::CtlResult r = local->create_on_device(c, a.device);
                err = r.status;
                if (err) error = std::string(r.payload.begin(), r.payload.end());
            } else {
                return fail("--device names a device of the server's host: use --data-dir there",
                            2);
            }
        } else {
            qbd_ctl_resize r{};
            set(r.name.pool, pool);
            set(r.name.volume, volume);
            r.new_size = htole64(size);
            err = call(QBD_OP_CTL_RESIZE, &r, sizeof(r), &out);
        }
    } else if (a.command == "delete" || a.command == "info") {
        if (!need_name() || pos.size() != 1) return fail(a.command + " needs POOL/VOLUME", 2);
        qbd_ctl_name n{};
        set(n.pool, pool);
        set(n.volume, volume);
        err =
            call(a.command == "delete" ? QBD_OP_CTL_DELETE : QBD_OP_CTL_INFO, &n, sizeof(n), &out);
        if (!err && a.command == "info") {
            Volume v;
            err = qbd::client::decode_info(out, &v);
            if (!err && a.json) {
                qbd::json::Json doc = qbd::json::document();
                doc.update(qbd::json::volume(v, true));
                std::cout << qbd::json::dump(doc);
            } else if (!err) {
                print_volume(v, true);
            }
        }
    } else if (a.command == "list") {
        qbd_ctl_name n{};
        if (!pos.empty()) set(n.pool, pos[0]);
        err = call(QBD_OP_CTL_LIST, &n, sizeof(n), &out);
        std::vector<Volume> vols;
        if (!err) err = qbd::client::decode_list(out, &vols);
        if (!err && a.json) {
            qbd::json::Json doc = qbd::json::document();
            qbd::json::Json& list = doc[qbd::json::key::volumes] = qbd::json::Json::array();
            for (const auto& v : vols) list.push_back(qbd::json::volume(v, false));
            std::cout << qbd::json::dump(doc);
        } else if (!err) {
            for (const auto& v : vols) print_volume(v, false);
        }
    } else {
        return fail("unknown command '" + a.command + "'\n" + kUsage, 2);
    }
    if (err) return fail(a.command + ": " + (error.empty() ? strerror(-err) : error));
    return 0;
}

// qbd-server is in the IO path of its clients' disks, and a client may be
// on this very host (swap or writeback over a qbd disk served from here):
// memory the server allocates must never be reclaimed by writing to those
// disks, or it waits on itself.  PR_SET_IO_FLUSHER makes every allocation
// of the process (and of the threads it starts, io_uring's workers
// included) NOIO, as FUSE daemons and NBD servers are told to.  It needs
// CAP_SYS_RESOURCE; without it the server runs, and says what it risks.
std::string become_io_flusher() {
    if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) == 0) return "";
    return std::string("not an IO flusher (PR_SET_IO_FLUSHER: ") + strerror(errno) +
           "): a client on this host may hang under memory pressure";
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    std::string error;
    if (!parse_args(argc, argv, &a, &error)) {
        if (!error.empty()) return fail(error + "\n" + kUsage, 2);
        std::cout << kUsage;
        return argc < 2 ? 2 : 0;
    }
    if (a.command == "init" || a.command == "serve") {
        qbd::ServerSettings settings;
        if (load_settings(a, &settings, &error)) return fail(error, 2);
        if (a.command == "serve" && settings.listen.empty())
            return fail("serve needs --listen (or listen in the configuration file)", 2);
        std::string warning;
        if (a.command == "serve") {
            if (qbd::check_listen_policy(settings, &warning, &error)) return fail(error, 2);
            // A keys file that cannot be used fails now, not at the
            // first client.
            qbd::HostKeys keys;
            if (!settings.keys_file.empty() &&
                qbd::read_host_keys(settings.keys_file, &keys, &error))
                return fail(error, 2);
        }
        qbd::ServerConfig cfg = server_config(settings);
        cfg.faults = a.faults;
        std::unique_ptr<qbd::Server> srv;
        if (qbd::Server::open(cfg, a.command == "init", &srv, &error)) return fail(error);
        if (a.command == "init") return 0;
        if (!warning.empty()) srv->log(warning);
        if (std::string why = become_io_flusher(); !why.empty()) srv->log(why);
        return srv->serve();
    }
    if (a.command == "add-host" || a.command == "remove-host") return keys_command(a);
    return volume_command(a);
}
