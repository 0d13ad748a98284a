#include "server_config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace qbd {

namespace {

constexpr unsigned long kMaxBusyPollUs = 10000;
constexpr unsigned kMaxHandshakeTimeoutS = 3600;
constexpr unsigned kMaxClaimGraceS = 3600;
constexpr unsigned kMaxConnections = 1U << 20;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

bool parse_uint(std::string_view s, uint64_t max, uint64_t* out) {
    if (s.empty() || s.size() > 20) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        if (v > (max - (c - '0')) / 10) return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

bool parse_bool(std::string_view s, bool* out) {
    if (s == "yes" || s == "true" || s == "on" || s == "1")
        *out = true;
    else if (s == "no" || s == "false" || s == "off" || s == "0")
        *out = false;
    else
        return false;
    return true;
}

// "a, b ,c" -> {"a", "b", "c"}; false when an item is empty.
bool parse_list(std::string_view s, std::vector<std::string>* out) {
    out->clear();
    for (;;) {
        size_t comma = s.find(',');
        std::string_view item = trim(s.substr(0, comma));
        if (item.empty()) return false;
        out->emplace_back(item);
        if (comma == std::string_view::npos) return true;
        s.remove_prefix(comma + 1);
    }
}

}  // namespace

bool parse_size(std::string_view s, uint64_t* out) {
    int shift = 0;
    if (!s.empty()) {
        switch (s.back()) {
            case 'K':
            case 'k': shift = 10; break;
            case 'M':
            case 'm': shift = 20; break;
            case 'G':
            case 'g': shift = 30; break;
            case 'T':
            case 't': shift = 40; break;
        }
        if (shift) s.remove_suffix(1);
    }
    uint64_t v;
    if (!parse_uint(s, ~0ULL >> shift, &v)) return false;
    *out = v << shift;
    return true;
}

int parse_server_config(std::string_view text, const std::string& file, ServerSettings* out,
                        std::string* error) {
    std::vector<std::string> seen;
    unsigned lineno = 0;
    while (!text.empty()) {
        lineno++;
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (size_t hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        line = trim(line);
        if (line.empty()) continue;
        const std::string where = file + ":" + std::to_string(lineno) + ": ";
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            *error = where + "expected 'key = value', got '" + std::string(line) + "'";
            return -EINVAL;
        }
        const std::string key(trim(line.substr(0, eq)));
        const std::string_view value = trim(line.substr(eq + 1));
        auto bad = [&](const std::string& want) {
            *error =
                where + "bad value '" + std::string(value) + "' for " + key + ": expected " + want;
            return -EINVAL;
        };
        if (value.empty()) return bad("a value");
        for (const std::string& k : seen) {
            if (k == key) {
                *error = where + key + " given twice";
                return -EINVAL;
            }
        }
        seen.push_back(key);

        uint64_t n = 0;
        if (key == "backend") {
            if (value == "file")
                out->backend = BackendKind::file;
            else if (value == "rbd")
                out->backend = BackendKind::rbd;
            else
                return bad("file or rbd");
        } else if (key == "data_dir") {
            out->data_dir = value;
        } else if (key == "listen") {
            if (!parse_list(value, &out->listen)) return bad("HOST:PORT[, HOST:PORT ...]");
        } else if (key == "advertise") {
            out->advertise = value;
        } else if (key == "keys_file") {
            out->keys_file = value;
        } else if (key == "allow_unauthenticated") {
            if (!parse_bool(value, &out->allow_unauthenticated)) return bad("yes or no");
        } else if (key == "rdma") {
            if (!parse_bool(value, &out->rdma)) return bad("yes or no");
        } else if (key == "busy_poll_us") {
            if (!parse_uint(value, kMaxBusyPollUs, &n))
                return bad("microseconds, 0 to " + std::to_string(kMaxBusyPollUs));
            out->busy_poll_us = static_cast<unsigned>(n);
        } else if (key == "handshake_timeout") {
            if (!parse_uint(value, kMaxHandshakeTimeoutS, &n) || n == 0)
                return bad("seconds, 1 to " + std::to_string(kMaxHandshakeTimeoutS));
            out->handshake_timeout_s = static_cast<unsigned>(n);
        } else if (key == "claim_grace") {
            if (!parse_uint(value, kMaxClaimGraceS, &n))
                return bad("seconds, 0 to " + std::to_string(kMaxClaimGraceS));
            out->claim_grace_s = static_cast<unsigned>(n);
        } else if (key == "max_connections" || key == "max_connections_per_host") {
            if (!parse_uint(value, kMaxConnections, &n) || n == 0)
                return bad("a count, 1 to " + std::to_string(kMaxConnections));
            (key == "max_connections" ? out->max_connections : out->max_connections_per_host) =
                static_cast<unsigned>(n);
        } else if (key == "default_shard_size") {
            if (!parse_size(value, &n) || n < 4096 || (n & (n - 1)) || n > (1ULL << 40))
                return bad("a power of two from 4K to 1T");
            out->default_shard_size = n;
        } else if (key == "ceph_conf") {
            out->ceph_conf = value;
        } else if (key == "ceph_client") {
            // "qbd" and "client.qbd" name the same cephx user.
            out->ceph_client =
                value.starts_with("client.") ? std::string(value) : "client." + std::string(value);
            if (out->ceph_client.size() == 7) return bad("a cephx user name");
        } else if (key == "ceph_keyring") {
            out->ceph_keyring = value;
        } else if (key == "pools") {
            if (!parse_list(value, &out->pools)) return bad("POOL[, POOL ...]");
        } else if (key == "ceph_timeout") {
            if (!parse_uint(value, 3600, &n) || n == 0) return bad("seconds, 1 to 3600");
            out->ceph_timeout_s = static_cast<unsigned>(n);
        } else {
            *error = where + "unknown key '" + key + "'";
            return -EINVAL;
        }
    }
    return 0;
}

int load_server_config(const std::string& path, ServerSettings* out, std::string* error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        int err = errno ? errno : ENOENT;
        *error = "cannot read config " + path + ": " + strerror(err);
        return -err;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_server_config(ss.str(), path, out, error);
}

int check_server_settings(const ServerSettings& s, std::string* error) {
    if (s.backend == BackendKind::file && s.data_dir.empty()) {
        *error = "the file backend needs a data directory (data_dir or --data-dir)";
        return -EINVAL;
    }
    if (s.backend == BackendKind::rbd && s.pools.empty()) {
        *error = "the rbd backend needs the Ceph pools it serves (pools = POOL, ...)";
        return -EINVAL;
    }
    return 0;
}

}  // namespace qbd
