// qbd-server's configuration file (qbd-server serve --config FILE, see
// qbd-server(8)): "key = value" lines, '#' comments.  The command line
// overrides what the file says.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qbd {

enum class BackendKind { file, rbd };

struct ServerSettings {
    BackendKind backend = BackendKind::file;
    std::string data_dir;             // file
    std::vector<std::string> listen;  // "host:port"
    std::string advertise;            // the path clients are told; default: first listen
    std::string keys_file;            // the hosts' keys (key_file.h); empty: no authentication
    // Serve a non-loopback address without keys (the operator said so).
    bool allow_unauthenticated = false;
    bool rdma = false;
    unsigned busy_poll_us = 0;
    unsigned handshake_timeout_s = 10;
    unsigned max_connections = 1024;
    unsigned max_connections_per_host = 128;
    unsigned claim_grace_s = 30;  // writer_claims.h
    uint64_t default_shard_size = 64ULL << 20;
    // rbd
    std::string ceph_conf;
    std::string ceph_client = "client.admin";
    std::string ceph_keyring;
    std::vector<std::string> pools;
    unsigned ceph_timeout_s = 10;
};

// Parses @text (the contents of @file) over @out, which holds the
// defaults.  0, or -EINVAL with "FILE:LINE: what" in @error.
int parse_server_config(std::string_view text, const std::string& file, ServerSettings* out,
                        std::string* error);
// Reads and parses @path; a file that cannot be read is an error.
int load_server_config(const std::string& path, ServerSettings* out, std::string* error);
// What the chosen backend needs, once file and command line are applied:
// a data directory for file, pools for rbd.
int check_server_settings(const ServerSettings& s, std::string* error);

// "64M", "4096", "1G": bytes; K, M, G and T are powers of 1024.
bool parse_size(std::string_view s, uint64_t* out);

}  // namespace qbd
