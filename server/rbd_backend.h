// The rbd backend: qbd pools are Ceph pools, volumes are RBD images, and
// this server is one of any number of gateways to them (librbd).
//
// Writer claims (one host writes a volume, whichever gateway it maps it
// through) are records in RADOS next to the image: claim_store().
//
// Fencing: a gateway takes the image's exclusive lock on the first data
// IO it serves (not at OPEN: clients connect to their standby paths too).
// A lock held by another gateway is broken, which blocklists that
// gateway's handle of the image, so none of its IO can land any more.  A
// gateway whose IO fails because it was fenced marks its handle dead:
// the connections using it end unanswered, and a later OPEN opens the
// image again on a new cluster handle.  Each opened image has a cluster
// handle of its own so that a blocklist hits that image only (as
// tcmu-runner does).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend.h"

namespace qbd {

struct RbdOptions {
    std::string ceph_conf;                // empty: librados' default search
    std::string client = "client.admin";  // the cephx user, "client.NAME"
    std::string keyring;                  // empty: as ceph.conf says
    std::vector<std::string> pools;       // the Ceph pools served; at least one
    unsigned connect_timeout_s = 10;      // a Ceph that does not answer fails OPEN after this
    // This gateway in the writer claims it records (claim_store.h): the
    // address it advertises, unique among the gateways.
    std::string server_id;
    // Where fencing events go (the server's log); none when empty.
    // At a syslog(3) priority (LOG_ERR, LOG_WARNING, ...).
    std::function<void(int, const std::string&)> log;
};

// A volume's id: derived from the pool's id and the image's id, so every
// gateway computes the same one; never 0, below 2^63.
uint64_t rbd_volume_id(int64_t pool_id, std::string_view image_id);

class RbdBackend final : public Backend {
  public:
    // Checks the options; Ceph is reached only when needed, so a gateway
    // starts (and serves once Ceph is back) while Ceph is down.
    static int make(const RbdOptions& opts, std::unique_ptr<RbdBackend>* out, std::string* error);
    ~RbdBackend() override;

    const char* name() const override { return "rbd"; }
    int create(const CreateSpec& spec, VolumeInfo* out, std::string* error) override;
    int remove(const std::string& pool, const std::string& name, std::string* error) override;
    int resize(const std::string& pool, const std::string& name, uint64_t new_size, VolumeInfo* out,
               std::string* error) override;
    int info(const std::string& pool, const std::string& name, VolumeInfo* out,
             std::string* error) override;
    int list(const std::string& pool, std::vector<VolumeInfo>* out, std::string* error) override;
    int open(uint64_t id, bool read_only, std::unique_ptr<VolumeIo>* io, VolumeInfo* info,
             std::string* error) override;
    // Writer claims in an object beside each image, qbd_claims.<image id>,
    // one omap key per host and gateway (claim_store.h).
    ClaimStore* claim_store() override;

    struct Impl;

  private:
    explicit RbdBackend(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    std::unique_ptr<ClaimStore> claims_;
};

}  // namespace qbd
