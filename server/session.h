// What one client connection means to the protocol, whatever carries it:
// HELLO/AUTH/OPEN and control calls, the volume the connection opened,
// which IO may touch it, and the disk IO itself.  The TCP connection and
// the RDMA listener only move bytes; the semantics live here, once.
#pragma once

#include <syslog.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "fence.h"
#include "qbd_proto.h"
#include "request.h"
#include "writer_claims.h"

namespace qbd {

class Server;

// The answer to a setup or control call.
struct SetupReply {
    int status = 0;
    std::vector<char> payload;
    // Set when the connection must be dropped once the reply is sent.
    const char* close_why = nullptr;
};

class Session {
  public:
    // transport_features: the QBD_FEAT_* bits only the carrying transport
    // can serve (QBD_FEAT_RDMA_INLINE), agreed to when a client asks.
    Session(Server& srv, std::string peer, uint64_t transport_features = 0)
        : srv_(srv), peer_(std::move(peer)), transport_features_(transport_features) {}
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const ConnState& state() const { return st_; }
    const std::string& peer() const { return peer_; }
    // The QBD_FEAT_* bits agreed in HELLO.
    uint64_t features() const { return features_; }
    Server& server() { return srv_; }
    // The opened volume's IO (backend.h), null before OPEN.
    VolumeIo* volume_io() const { return io_.get(); }

    // check_request against the volume as the catalog has it now: a
    // connection opened before a resize must see the new size at once.
    Verdict check(const qbd_req_hdr& h);

    // HELLO, AUTH, OPEN or a control call that check_request let through;
    // payload holds the r.length bytes that came with it.
    SetupReply handle_setup(const Request& r, const char* payload);

    // Picks up catalog changes (new epoch, resize, delete) to the opened
    // volume.
    void refresh_volume();
    // Whether IO that check() let through may run now: 0, a stale epoch
    // or -ERANGE, judged on the volume as check() refreshed it, or as a
    // batch run since then did.
    int admit_io(const Request& r);
    // The backend's request for an admitted IO; buf holds r.length bytes
    // for READ and WRITE.
    static IoRequest io_request(const Request& r, char* buf, uint64_t cookie);
    // A completion's reply status: 0 or a negative errno.
    static int reply_status(int res) { return res < 0 ? res : 0; }

    // Where checksums were agreed (QBD_FEAT_CRC32C), a WRITE's payload
    // must match its crc32c or nothing of it is stored: 0 when it may go
    // to the disk, QBD_STATUS_BAD_CRC (the client sends it again) or
    // -EINVAL (a WRITE without one).
    int check_write_crc(const Request& r, const char* data);
    // The crc32c a READ reply of @len bytes of @data carries, in the
    // header's flags and crc32c: none where checksums were not agreed.
    void set_read_crc(qbd_reply_hdr* h, const char* data, uint32_t len);

    // The incarnation OPEN registered (see fence.h), null before OPEN: a
    // batch of disk IO runs under a FencePermit of it.
    Incarnation* incarnation() const { return incarnation_.get(); }

    // A line of the server's log about this client, at syslog @priority;
    // LOG_INFO without one.
    void log(int priority, const std::string& what) const;
    void log(const std::string& what) const { log(LOG_INFO, what); }

  private:
    bool crc_fault(uint64_t n) const;

    Server& srv_;
    std::string peer_;
    uint64_t transport_features_;
    uint64_t features_ = 0;
    uint64_t crc_errors_ = 0;  // WRITE payloads refused for their crc32c
    // READ and WRITE payloads checksummed, for --fault flaky-crc and bad-crc.
    uint64_t crc_reads_ = 0, crc_writes_ = 0;
    ConnState st_;
    std::unique_ptr<VolumeIo> io_;
    std::shared_ptr<Incarnation> incarnation_;
    // The host's claim on the volume while this connection has it open
    // read-write (writer_claims.h).
    std::unique_ptr<WriterClaims::Claim> claim_;
    std::string host_id_;  // as HELLO said
    std::string key_;      // host_id_'s, when the server has keys
    uint8_t nonce_[QBD_NONCE_BYTES] = {};
    uint8_t client_nonce_[QBD_NONCE_BYTES] = {};
};

}  // namespace qbd
