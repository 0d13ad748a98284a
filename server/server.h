// qbd-server: the control service and the data service on one listener.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "catalog.h"
#include "faults.h"
#include "fence.h"
#include "qbd_proto.h"

namespace qbd {

struct ServerConfig {
    std::string data_dir;
    std::vector<std::string> listen;  // "host:port"
    std::string advertise;            // this server's path to its volumes, in CTL_INFO
    std::string secret;               // empty: no authentication
    bool rdma = false;                // also listen with rdma_cm on each address
    unsigned busy_poll_us = 0;        // see serving_mode.h; 0: latency-bound connections sleep
    uint64_t default_shard_size = 64ULL << 20;
    FaultConfig faults;  // tests only: see faults.h
};

// The result of a control operation: a status, and a payload (the reply
// on success, a message for the log and the user on failure).
struct CtlResult {
    int status = 0;
    std::vector<char> payload;
};

class Server {
  public:
    // Opens (and with create, initialises) the data directory.
    static int open(const ServerConfig& cfg, bool create, std::unique_ptr<Server>* out,
                    std::string* error);

    // Serves until SIGTERM or SIGINT; returns the exit status.
    int serve();

    // Control operations, as the wire carries them.
    CtlResult control(uint16_t opcode, const char* payload, uint32_t len);

    Catalog& catalog() { return *catalog_; }
    FenceRegistry& fences() { return fences_; }
    const FaultConfig& faults() const { return cfg_.faults; }
    // How long a WRITE at @offset stalls (--fault stall-write): the first
    // one at that offset only, 0 for every other.
    unsigned take_write_stall(uint64_t offset) {
        if (offset != cfg_.faults.stall_write_offset || write_stall_taken_.exchange(true)) return 0;
        return cfg_.faults.stall_write_ms;
    }
    const ServerConfig& config() const { return cfg_; }
    // Where a volume's data lives on this server.
    std::string data_path(const VolumeRecord& v) const;
    // Creates a volume whose data lives on an existing block device (or
    // file) of this server, which must be at least as large.
    CtlResult create_on_device(const qbd_ctl_create& c, const std::string& device);
    void log(const std::string& line) const;

  private:
    explicit Server(ServerConfig cfg) : cfg_(std::move(cfg)) {}
    CtlResult create(const qbd_ctl_create& c, const std::string& device = "");
    CtlResult remove(const qbd_ctl_name& n);
    CtlResult resize(const qbd_ctl_resize& r);
    CtlResult info(const qbd_ctl_name& n);
    CtlResult list(const qbd_ctl_name& n);
    int ensure_file(const VolumeRecord& v, std::string* error);
    // The CTL_INFO reply: the volume, and this server as its path.
    std::vector<char> info_reply(const VolumeRecord& v) const;

    ServerConfig cfg_;
    std::unique_ptr<Catalog> catalog_;
    FenceRegistry fences_;
    std::atomic<bool> write_stall_taken_{false};
};

// Encodes a volume record as it appears in CTL_INFO and CTL_LIST replies.
qbd_ctl_volume encode_volume(const VolumeRecord& v);

}  // namespace qbd
