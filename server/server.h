// qbd-server: the control service and the data service on one listener.
#pragma once

#include <syslog.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "connection.h"
#include "connection_limits.h"
#include "faults.h"
#include "fence.h"
#include "qbd_proto.h"
#include "server_config.h"
#include "writer_claims.h"

namespace qbd {

struct ServerConfig {
    BackendKind backend = BackendKind::file;
    std::string data_dir;             // file
    std::vector<std::string> listen;  // "host:port"
    std::string advertise;            // this server's path to its volumes, in CTL_INFO
    // The hosts' keys (key_file.h), read again at every HELLO so that a
    // host removed from it is refused at its next connection; empty: no
    // authentication.
    std::string keys_file;
    bool rdma = false;          // also listen with rdma_cm on each address
    unsigned busy_poll_us = 0;  // see serving_mode.h; 0: latency-bound connections sleep
    // To set up a TCP connection, until OPEN (connection.cc).
    unsigned handshake_timeout_s = 10;
    // TCP connections held at once, and from one peer address (connection_limits.h).
    unsigned max_connections = 1024;
    unsigned max_connections_per_host = 128;
    // How long a host's claim on a volume (writer_claims.h) outlives its
    // last read-write connection.
    unsigned claim_grace_s = 30;
    uint64_t default_shard_size = 64ULL << 20;
    FaultConfig faults;  // tests only: see faults.h
    // rbd: see rbd_backend.h
    std::string ceph_conf;
    std::string ceph_client = "client.admin";
    std::string ceph_keyring;
    std::vector<std::string> pools;
    unsigned ceph_timeout_s = 10;
};

// The result of a control operation: a status, and a payload (the reply
// on success, a message for the log and the user on failure).
struct CtlResult {
    int status = 0;
    std::vector<char> payload;
};

class Server {
  public:
    // Opens the backend: the data directory of the file backend (with
    // create, initialises it first), or the rbd backend's settings.
    static int open(const ServerConfig& cfg, bool create, std::unique_ptr<Server>* out,
                    std::string* error);

    // Serves until SIGTERM or SIGINT; returns the exit status.
    int serve();

    // Control operations, as the wire carries them, asked by @host (the
    // host id of the connection's HELLO).
    CtlResult control(uint16_t opcode, const char* payload, uint32_t len, const std::string& host);

    Backend& backend() { return *backend_; }
    FenceRegistry& fences() { return fences_; }
    WriterClaims& claims() { return claims_; }
    const FaultConfig& faults() const { return cfg_.faults; }
    // How long a WRITE at @offset stalls (--fault stall-write): the first
    // one at that offset only, 0 for every other.
    unsigned take_write_stall(uint64_t offset) {
        if (offset != cfg_.faults.stall_write_offset || write_stall_taken_.exchange(true)) return 0;
        return cfg_.faults.stall_write_ms;
    }
    // Whether this WRITE is the one --fault stale-once answers stale.
    bool take_stale_once() { return cfg_.faults.stale_once && !stale_once_taken_.exchange(true); }
    const ServerConfig& config() const { return cfg_; }
    // The key of @host_id in the keys file as it is now: 0, or -EACCES
    // with the reason (unknown host, unreadable file) in @why.
    int host_key(const std::string& host_id, std::string* key, std::string* why) const;
    ConnectionLimits& connection_limits() { return limits_; }
    ConnectionSockets& connection_sockets() { return sockets_; }
    // Creates a volume whose data lives on an existing block device (or
    // file) of this server, which must be at least as large.
    CtlResult create_on_device(const qbd_ctl_create& c, const std::string& device);
    // A line of the log (log.h) at syslog @priority; LOG_INFO without one.
    void log(int priority, const std::string& line) const;
    void log(const std::string& line) const { log(LOG_INFO, line); }

  private:
    explicit Server(ServerConfig cfg)
        : cfg_(std::move(cfg)),
          claims_(std::chrono::seconds(cfg_.claim_grace_s)),
          limits_(cfg_.max_connections, cfg_.max_connections_per_host) {}
    void raise_file_limit() const;  // listener.cc
    CtlResult create(const qbd_ctl_create& c, const std::string& device = "");
    CtlResult remove(const qbd_ctl_name& n);
    CtlResult resize(const qbd_ctl_resize& r);
    CtlResult info(const qbd_ctl_name& n);
    CtlResult list(const qbd_ctl_name& n);
    CtlResult holders(const qbd_ctl_name& n);
    CtlResult release(const qbd_ctl_name& n, const std::string& host);
    // The volume @n names in @v, or a CtlResult saying why there is none.
    CtlResult find(const qbd_ctl_name& n, VolumeInfo* v);
    // The CTL_INFO reply: the volume, and this server as its path.
    std::vector<char> info_reply(const VolumeInfo& v) const;

    ServerConfig cfg_;
    std::unique_ptr<Backend> backend_;
    FenceRegistry fences_;
    WriterClaims claims_;
    ConnectionLimits limits_;
    ConnectionSockets sockets_;
    std::atomic<bool> write_stall_taken_{false};
    std::atomic<bool> stale_once_taken_{false};
};

// Encodes a volume as it appears in CTL_INFO and CTL_LIST replies.
qbd_ctl_volume encode_volume(const VolumeInfo& v);

}  // namespace qbd
