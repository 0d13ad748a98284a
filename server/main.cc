// qbd-server: the reference storage server for qbd volumes.  See
// qbd-server(8).
#include <getopt.h>
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
#include "client/qbd_text.h"
#include "key_file.h"
#include "listen_policy.h"
#include "log.h"
#include "server.h"
#include "server_config.h"

namespace {

using qbd::client::Volume;

// A poll longer than this is no longer a wait for the next request.
constexpr unsigned long kMaxBusyPollUs = 10000;

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

// An error that ends the command, on standard error (as an error in the
// journal when that is where standard error goes: log.h).
int fail(const std::string& msg, int code = 1) {
    if (qbd::log::stderr_is_journal()) std::cerr << "<" << LOG_ERR << ">";
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

// The command line, parsed with getopt_long(3): a command, its arguments
// and the options that command takes.
struct OptionDef {
    const char* name;
    char short_opt;   // 0: none
    const char* arg;  // nullptr: a flag
    const char* help;
};

const OptionDef kOptions[] = {
    {"config", 0, "FILE",
     "the server's settings (CONFIGURATION in qbd-server(8)); the command line overrides them"},
    {"data-dir", 0, "DIR", "the file backend's data directory"},
    {"listen", 0, "HOST:PORT", "accept connections there (default port 7800); repeat for more"},
    {"advertise", 0, "HOST:PORT", "the address clients are told (default: the first --listen)"},
    {"keys-file", 0, "FILE", "the hosts let in and their keys (add-host makes it)"},
    {"allow-unauthenticated", 0, nullptr, "serve a non-loopback address without a keys file"},
    {"default-shard-size", 0, "SIZE", "shard size of volumes created without one (default 64M)"},
    {"rdma", 0, nullptr, "serve the data protocol over RDMA too"},
    {"busy-poll", 0, "USEC", "poll up to USEC (0 to 10000) for a QD1 client's next request"},
    {"handshake-timeout", 0, "SEC", "a connection's time to set up (1 to 3600, default 10)"},
    {"max-connections", 0, "N", "TCP connections held at once (default 1024)"},
    {"max-connections-per-host", 0, "N", "TCP connections from one address (default 128)"},
    {"claim-grace", 0, "SEC", "a gone host's claim on a volume outlives it so long (default 30)"},
    {"fault", 0, "SPEC", "tests only: inject a fault (qbd-server(8)); repeat for more"},
    {"server", 0, "HOST:PORT", "a running server to act on"},
    {"host-id", 0, "ID", "with --server: this host's id, whose key --key-file holds"},
    {"key-file", 0, "FILE", "with --server: this host's key"},
    {"shard-size", 0, "SIZE", "the new volume's shard size, a power of two from 4K to 1T"},
    {"device", 0, "PATH", "keep the volume on this block device (with --data-dir)"},
    {"output-format", 'o', "json|table", "print a table (the default) or JSON"},
    {"json", 0, nullptr, "the same as -o json"},
    {"help", 'h', nullptr, "print this command's help"},
};

struct Command {
    const char* name;
    const char* args;  // its arguments; one in [] may be left out
    unsigned min_args, max_args;
    const char* needs;                 // what it cannot do without, "" when nothing
    std::vector<const char*> options;  // every option it takes
    const char* summary;
};

// Where a volume command acts.
const char* kWhere = "(--server HOST:PORT | --data-dir DIR | --config FILE)";

// The options of a volume command: where it acts, and @more.
std::vector<const char*> volume_options(std::initializer_list<const char*> more = {}) {
    std::vector<const char*> o = {"server", "host-id", "key-file", "data-dir", "config"};
    o.insert(o.end(), more);
    return o;
}

const Command kCommands[] = {
    {"init",
     "",
     0,
     0,
     "(--data-dir DIR | --config FILE)",
     {"data-dir", "config"},
     "create the data directory and its catalog (again: harmless)"},
    {"serve",
     "",
     0,
     0,
     "(--config FILE | --data-dir DIR --listen HOST:PORT)",
     {"config", "data-dir", "listen", "advertise", "keys-file", "allow-unauthenticated",
      "default-shard-size", "rdma", "busy-poll", "handshake-timeout", "max-connections",
      "max-connections-per-host", "claim-grace", "fault"},
     "serve in the foreground until SIGTERM or SIGINT"},
    {"add-host",
     "HOST-ID",
     1,
     1,
     "(--keys-file FILE | --config FILE)",
     {"keys-file", "config"},
     "let a host in: add it to the keys file with a new key, printed"},
    {"remove-host",
     "HOST-ID",
     1,
     1,
     "(--keys-file FILE | --config FILE)",
     {"keys-file", "config"},
     "revoke a host: remove it from the keys file"},
    {"create", "POOL/VOLUME SIZE", 2, 2, kWhere, volume_options({"shard-size", "device"}),
     "create a volume (SIZE and --shard-size take K, M, G, T)"},
    {"delete", "POOL/VOLUME", 1, 1, kWhere, volume_options(), "delete a volume"},
    {"resize", "POOL/VOLUME SIZE", 2, 2, kWhere, volume_options(),
     "grow a volume to SIZE (K, M, G, T)"},
    {"info", "POOL/VOLUME", 1, 1, kWhere, volume_options({"output-format", "json"}),
     "describe a volume and this server's path to it"},
    {"list", "[POOL]", 0, 1, kWhere, volume_options({"output-format", "json"}),
     "list the volumes, of POOL or of every pool"},
};

const OptionDef* find_option(std::string_view name) {
    for (const auto& o : kOptions)
        if (name == o.name) return &o;
    return nullptr;
}

const Command* find_command(std::string_view name) {
    for (const auto& c : kCommands)
        if (name == c.name) return &c;
    return nullptr;
}

// "--name ARG"; "-o ARG" as @brief; "-o, --name ARG" as @both.
enum class Spelling { brief, both };
std::string option_text(const OptionDef& o, Spelling how) {
    std::string t;
    if (o.short_opt) t = std::string("-") + o.short_opt;
    if (!o.short_opt || how == Spelling::both)
        t += std::string(o.short_opt ? ", " : "") + "--" + o.name;
    if (o.arg) t += std::string(" ") + o.arg;
    return t;
}

// @words, space-separated from column @column on, wrapped at 80 columns
// to lines indented by @indent.
std::string wrap(const std::vector<std::string>& words, size_t column, size_t indent) {
    std::string out;
    for (size_t i = 0; i < words.size(); i++) {
        if (i && column + 1 + words[i].size() > 80 && column > indent) {
            out += "\n" + std::string(indent, ' ');
            column = indent;
        } else if (i) {
            out += " ";
            column++;
        }
        out += words[i];
        column += words[i].size();
    }
    return out + "\n";
}

// "qbd-server create POOL/VOLUME SIZE (--server ...) [--shard-size SIZE] ...":
// what it needs bare, the rest in brackets; after @lead.
std::string synopsis(const Command& c, const std::string& lead) {
    const std::string first = lead + "qbd-server " + c.name;
    std::vector<std::string> words = {first};
    if (*c.args) words.push_back(c.args);
    if (*c.needs) words.push_back(c.needs);
    for (const char* name : c.options) {
        const OptionDef* o = find_option(name);
        if (std::string(c.needs).find(std::string("--") + name + " ") != std::string::npos)
            continue;
        words.push_back("[" + option_text(*o, Spelling::brief) + "]");
    }
    return wrap(words, 0, first.size() + 1);
}

std::string usage() {
    std::string out = "usage: qbd-server COMMAND [ARGUMENTS] [OPTIONS]\n\ncommands:\n";
    for (const auto& c : kCommands) out += synopsis(c, "  ") + "      " + c.summary + "\n";
    out += R"(
options:
  -h, --help       print this help; after a command, that command's help
  -v, --version    print qbd-server's version

The volume commands act on a running server (--server, and --host-id and
--key-file when it has keys), on a stopped server's data directory
(--data-dir) or on the backend a configuration file names (--config).
See qbd-server(8).
)";
    return out;
}

std::string command_help(const Command& c) {
    std::string out = synopsis(c, "usage: ") + c.summary + "\n\noptions:\n";
    std::vector<const char*> names = c.options;
    names.push_back("help");
    for (const char* name : names) {
        const OptionDef* o = find_option(name);
        std::string left = "  " + option_text(*o, Spelling::both);
        if (left.size() + 2 <= 34)
            left.resize(34, ' ');
        else
            left += "\n" + std::string(34, ' ');
        std::vector<std::string> words;
        std::istringstream help(o->help);
        for (std::string w; help >> w;) words.push_back(w);
        out += left + wrap(words, 34, 34);
    }
    return out + "\nSee qbd-server(8).\n";
}

// Sets option @name of @a from @v; false with @error when @v is bad.
bool set_option(Args* a, const std::string& name, const std::string& v, std::string* error) {
    const std::string k = "--" + name;
    if (name == "config") {
        a->config = v;
    } else if (name == "data-dir") {
        a->data_dir = v;
    } else if (name == "server") {
        a->server = v;
    } else if (name == "keys-file") {
        a->keys_file = v;
    } else if (name == "host-id") {
        a->host_id = v;
    } else if (name == "key-file") {
        a->key_file = v;
    } else if (name == "advertise") {
        a->advertise = v;
    } else if (name == "device") {
        a->device = v;
    } else if (name == "listen") {
        a->listen.push_back(v);
    } else if (name == "json") {
        a->json = true;
    } else if (name == "output-format") {
        auto f = qbd::json::parse_format(v);
        if (!f) {
            *error = "-o '" + v + "': expected json or table";
            return false;
        }
        a->json = *f == qbd::json::Format::json;
    } else if (name == "rdma") {
        a->rdma = true;
    } else if (name == "allow-unauthenticated") {
        a->allow_unauthenticated = true;
    } else if (name == "busy-poll") {
        if (!parse_count(k, v, 0, kMaxBusyPollUs, "microseconds", &a->busy_poll_us, error))
            return false;
        a->busy_poll_given = true;
    } else if (name == "handshake-timeout") {
        return parse_count(k, v, 1, 3600, "seconds", &a->handshake_timeout_s, error);
    } else if (name == "claim-grace") {
        unsigned secs;
        if (!parse_count(k, v, 0, 3600, "seconds", &secs, error)) return false;
        a->claim_grace_s = secs;
    } else if (name == "max-connections" || name == "max-connections-per-host") {
        unsigned* dst =
            name == "max-connections" ? &a->max_connections : &a->max_connections_per_host;
        return parse_count(k, v, 1, 1U << 20, "connections", dst, error);
    } else if (name == "fault") {
        return qbd::parse_fault(v, &a->faults, error);
    } else if (name == "shard-size" || name == "default-shard-size") {
        if (!parse_size(v, name == "shard-size" ? &a->shard_size : &a->default_shard_size)) {
            *error = k + ": bad size '" + v + "'";
            return false;
        }
    }
    return true;
}

// Parses argv into @a.  Returns -1 to go on, or the exit status when
// parsing is all there is to do: 0 after a help or the version, 2 after a
// usage error (printed).
int parse_args(int argc, char** argv, Args* a) {
    auto usage_error = [](const std::string& msg, const std::string& help) {
        std::cerr << "qbd-server: " << msg << "; see qbd-server " << help << "\n";
        return 2;
    };
    if (argc < 2) {
        std::cerr << usage();
        return 2;
    }
    const std::string first = argv[1];
    if (first == "-h" || first == "--help") {
        std::cout << usage();
        return 0;
    }
    if (first == "-v" || first == "--version") {
        std::cout << "qbd-server " << QBD_VERSION << "\n";
        return 0;
    }
    const Command* cmd = find_command(first);
    if (!cmd)
        return usage_error(
            first[0] == '-' ? "no command before " + first : "unknown command '" + first + "'",
            "--help");
    a->command = cmd->name;
    const std::string help = a->command + " --help";

    std::string shorts = ":h";
    std::vector<option> longs;
    for (const char* name : cmd->options) {
        const OptionDef* o = find_option(name);
        if (o->short_opt) shorts += std::string(1, o->short_opt) + (o->arg ? ":" : "");
        longs.push_back({o->name, o->arg ? required_argument : no_argument, nullptr, 0});
    }
    longs.push_back({"help", no_argument, nullptr, 0});
    longs.push_back({nullptr, 0, nullptr, 0});

    optind = 0;
    opterr = 0;
    const int sub_argc = argc - 1;
    char** sub_argv = argv + 1;
    for (;;) {
        int index = -1;
        int c = getopt_long(sub_argc, sub_argv, shorts.c_str(), longs.data(), &index);
        if (c == -1) break;
        std::string name;
        if (c == 0) {
            name = longs[index].name;
        } else if (c == ':' || c == '?') {
            // What was typed: a long option (0) or a short one.
            std::string word = optopt ? std::string("-") + static_cast<char>(optopt)
                                      : std::string(sub_argv[optind - 1]);
            word = word.substr(0, word.find('='));
            if (c == ':') return usage_error(word + " needs a value", help);
            if (optopt || !word.starts_with("--"))
                return usage_error("unknown option " + word, help);
            const std::string typed = word.substr(2);
            std::string matches;
            for (const option* o = longs.data(); o->name; o++) {
                if (typed == o->name) return usage_error(word + " takes no value", help);
                if (std::string_view(o->name).starts_with(typed))
                    matches += (matches.empty() ? "--" : ", --") + std::string(o->name);
            }
            if (matches.find(',') != std::string::npos)
                return usage_error(word + " is ambiguous (" + matches + ")", help);
            if (find_option(typed))
                return usage_error(word + " is not an option of " + a->command, help);
            return usage_error("unknown option " + word, help);
        } else {
            for (const char* n : cmd->options)
                if (find_option(n)->short_opt == c) name = n;
            if (c == 'h') name = "help";
        }
        if (name == "help") {
            std::cout << command_help(*cmd);
            return 0;
        }
        std::string error;
        if (!set_option(a, name, optarg ? optarg : "", &error)) return usage_error(error, help);
    }
    for (int i = optind; i < sub_argc; i++) a->positional.push_back(sub_argv[i]);
    if (a->positional.size() < cmd->min_args || a->positional.size() > cmd->max_args)
        return usage_error(a->command + (cmd->max_args ? " takes " : " takes no arguments") +
                               (cmd->max_args ? cmd->args : ""),
                           help);
    return -1;
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

// info's page: a line per fact, a line per path.
std::string format_info(const Volume& v) {
    std::vector<std::vector<std::string>> rows = {
        {"volume:", v.pool + "/" + v.volume}, {"volume id:", std::to_string(v.id)},
        {"size:", qbd::format_bytes(v.size)}, {"shard size:", qbd::format_bytes(v.shard_size)},
        {"epoch:", std::to_string(v.epoch)},
    };
    for (const auto& p : v.paths) rows.push_back({"path:", p});
    return qbd::format_table(rows);
}

// list's table: a row per volume.
std::string format_list(const std::vector<Volume>& vols) {
    std::vector<std::vector<std::string>> rows = {
        {"pool", "volume", "size", "shard_size", "epoch", "volume_id"}};
    for (const auto& v : vols)
        rows.push_back({v.pool, v.volume, qbd::format_size(v.size), qbd::format_size(v.shard_size),
                        std::to_string(v.epoch), std::to_string(v.id)});
    return qbd::format_table(rows);
}

// Runs one volume command on a server, reached over the network or, with
// --data-dir, opened in-process.
int volume_command(const Args& a) {
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
                std::cout << format_info(v);
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
            std::cout << format_list(vols);
        }
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
    if (int status = parse_args(argc, argv, &a); status >= 0) return status;
    std::string error;
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
        if (!warning.empty()) srv->log(LOG_WARNING, warning);
        if (std::string why = become_io_flusher(); !why.empty()) srv->log(LOG_WARNING, why);
        return srv->serve();
    }
    if (a.command == "add-host" || a.command == "remove-host") return keys_command(a);
    return volume_command(a);
}
