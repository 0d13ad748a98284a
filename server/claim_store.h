// Writer claims that every server of a volume sees (writer_claims.h keeps
// them per server).  A volume of the rbd backend is served by several
// gateways: without a common record, a host that maps it through one
// gateway and another host that maps it through a second would both be
// let in.  So each gateway records, next to the image, which hosts hold
// the volume through it, and checks every gateway's records before it
// lets a host in.
//
// A record is a lease: its server renews it while the host has a
// connection open there, and lets it run out a grace period after the
// last one closed.  The records of a gateway that died run out on their
// own.  Records carry wall-clock times: the servers' clocks must agree
// to well within the lease (NTP), as Ceph's own leases need.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qbd {

// One host's claim of a volume through one server.
struct ClaimRecord {
    std::string host;    // the host id of its HELLO ("" without keys)
    std::string server;  // the address the server advertises
    bool shared = false;
    int64_t expires_ms = 0;  // wall clock, milliseconds since the epoch

    bool operator==(const ClaimRecord&) const = default;
};

// How a record is stored: the key names the host and the server, which
// hold no space; the value is "<expires_ms> <0|1 shared>".
std::string claim_record_key(std::string_view host, std::string_view server);
std::string claim_record_value(const ClaimRecord& r);
// Empty when the key or value is not one of ours.
std::optional<ClaimRecord> parse_claim_record(std::string_view key, std::string_view value);

// What a read-write OPEN of @host through @server does to a volume's
// records, as of @now_ms.
struct ClaimDecision {
    bool busy = false;                 // another host holds it: refuse
    std::vector<ClaimRecord> holders;  // when busy: the live records in the way
    ClaimRecord mine;                  // else: the record to write
    std::vector<std::string> remove;   // else: keys to remove (expired, taken over)
};
// The rule every server applies: another host's live record refuses the
// OPEN unless both ask for sharing; @take_over removes other hosts'
// records instead.  Expired records are removed on the way.
ClaimDecision decide_claim(const std::vector<ClaimRecord>& records, const std::string& host,
                           const std::string& server, bool shared, bool take_over,
                           std::chrono::milliseconds lease, int64_t now_ms);

// A change to a volume's records, as renewals and releases make it.
struct ClaimChange {
    std::vector<ClaimRecord> set;
    std::vector<std::string> remove;  // keys
};
// Extends @server's record of @host to @now_ms + @lease (0: removes it):
// -ENOENT when there is none.
int decide_renew(const std::vector<ClaimRecord>& records, const std::string& host,
                 const std::string& server, std::chrono::milliseconds lease, int64_t now_ms,
                 ClaimChange* out);
// Removes every record of @host: -ENOENT when there is none.
int decide_release(const std::vector<ClaimRecord>& records, const std::string& host,
                   ClaimChange* out);

// Where a backend keeps the records.  Every method is thread-safe and
// returns 0 or a negative errno with a message in @error.
class ClaimStore {
  public:
    virtual ~ClaimStore() = default;
    // This server, as its records name it.
    virtual const std::string& server() const = 0;

    // Applies decide_claim atomically against every server's records of
    // @volume: -EBUSY with the records in the way in @holders, or 0 with
    // @host's record through this server written to last @lease.
    virtual int acquire(uint64_t volume, const std::string& host, bool shared, bool take_over,
                        std::chrono::milliseconds lease, std::vector<ClaimRecord>* holders,
                        std::string* error) = 0;
    // Makes this server's record of @host last @lease from now (0: removes
    // it).  -ENOENT when there is none: another host took the volume over.
    virtual int renew(uint64_t volume, const std::string& host, std::chrono::milliseconds lease,
                      std::string* error) = 0;
    // Removes @host's records through every server (it unmapped): -ENOENT
    // when it had none.
    virtual int release(uint64_t volume, const std::string& host, std::string* error) = 0;
    // The live records of @volume.
    virtual int holders(uint64_t volume, std::vector<ClaimRecord>* out, std::string* error) = 0;

    // Wall-clock milliseconds, as records carry them.
    static int64_t now_ms();
};

}  // namespace qbd
