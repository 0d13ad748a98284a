// One writer per volume: a volume is open read-write by one host at a
// time, unless every host that opens it asks for shared access (as rbd's
// exclusive and shared modes).  Hosts are named by the host id of their
// HELLO, which the keys file authenticates.
//
// A host's claim lasts while it has a connection open read-write to the
// volume, and for a grace period after the last one ends: a host whose
// connections broke reconnects within it and finds its claim, so no other
// host slips in between.  A host that unmapped releases its claim at once
// (CTL_RELEASE).  A host that is gone for good is taken over: the OPEN
// that asks for it drops the other hosts' claims and fences their
// connections (fence.h: none of their IO reaches the disk any more, and
// what they had started is waited for) before it is answered.  Read-only
// opens claim nothing.
//
// Where several servers serve one volume (the rbd backend's gateways),
// each server's claims are also recorded in the backend's ClaimStore
// (claim_store.h), and an OPEN is let in only when every server's records
// allow it.  A renewal thread keeps this server's records alive while
// their hosts have connections here; a record that vanished means another
// host took the volume over through another server, and the connections
// here of the host it was taken from are fenced.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "claim_store.h"
#include "fence.h"

namespace qbd {

class WriterClaims {
  public:
    using Clock = std::chrono::steady_clock;

    explicit WriterClaims(std::chrono::milliseconds grace,
                          std::function<Clock::time_point()> now = Clock::now)
        : grace_(grace), now_(std::move(now)) {}
    ~WriterClaims();
    WriterClaims(const WriterClaims&) = delete;
    WriterClaims& operator=(const WriterClaims&) = delete;

    // From now on, claims are recorded in @store too (before serving).
    // A record lasts @lease while its host is connected here (renewed
    // every third of it), and the grace period after.  Renewal failures
    // and take-overs seen there go to @log (a syslog priority, a line).
    static constexpr std::chrono::milliseconds kDefaultLease{15000};
    void use_store(ClaimStore* store, std::chrono::milliseconds lease,
                   std::function<void(int, const std::string&)> log);

    struct Holder {
        std::string host;
        bool shared = false;
        unsigned connections = 0;  // 0: in its grace period, or elsewhere
        bool elsewhere = false;    // held through another server (the store's records)
        std::string server;        // that server, when elsewhere
    };

    // What a connection that opened read-write holds: the host's claim
    // counts it until it is destroyed.
    class Claim {
      public:
        Claim(WriterClaims& claims, uint64_t volume, std::string host, uint64_t generation)
            : claims_(claims), volume_(volume), host_(std::move(host)), generation_(generation) {}
        ~Claim() { claims_.closed(volume_, host_, generation_); }
        Claim(const Claim&) = delete;
        Claim& operator=(const Claim&) = delete;

      private:
        WriterClaims& claims_;
        uint64_t volume_;
        std::string host_;
        uint64_t generation_;  // of the host's claim it counts in
    };

    // A read-write OPEN of @volume by @host through the connection @conn.
    // 0 and the connection's claim in @out; -EBUSY and the holders in
    // @holders when another host holds it and not both ask for sharing;
    // -EAGAIN when a taken-over host's IO did not drain in time (the
    // client opens again); another negative errno when the store failed
    // (the OPEN is refused: no claim is better than an unchecked one).
    int claim(uint64_t volume, const std::string& host, bool shared, bool take_over,
              const std::shared_ptr<Incarnation>& conn, std::unique_ptr<Claim>* out,
              std::vector<Holder>* holders);

    // CTL_RELEASE by @host: its claim ends now rather than after the grace
    // period.  0; -ENOENT when it holds none; -EBUSY while a connection of
    // it is still open.
    int release(uint64_t volume, const std::string& host);

    // Who holds @volume now: the hosts with claims here, and those the
    // store has through other servers.
    std::vector<Holder> holders(uint64_t volume);

  private:
    struct HostClaim {
        uint64_t generation = 0;  // a claim taken over and made again is another
        bool shared = false;
        unsigned connections = 0;
        Clock::time_point last_close;
        bool close_recorded = false;  // the store's record runs out with the grace
        std::vector<std::weak_ptr<Incarnation>> conns;
    };
    struct Volume {
        std::map<std::string, HostClaim> hosts;
        // Connections of hosts taken over, until their IO has drained.
        std::vector<std::weak_ptr<Incarnation>> draining;
    };

    void closed(uint64_t volume, const std::string& host, uint64_t generation);
    void expire(Volume& v);
    static std::vector<Holder> holders_of(const Volume& v);
    int claim_locally(uint64_t volume, const std::string& host, bool shared, bool take_over,
                      const std::shared_ptr<Incarnation>& conn, std::unique_ptr<Claim>* out,
                      std::vector<Holder>* holders);
    void renew_all();
    void taken_elsewhere(uint64_t volume, const std::string& host);

    const std::chrono::milliseconds grace_;
    const std::function<Clock::time_point()> now_;
    std::mutex mu_;  // protects volumes_ and generations_; never held while draining
    std::unordered_map<uint64_t, Volume> volumes_;
    uint64_t generations_ = 0;

    // The store, set once before serving.
    ClaimStore* store_ = nullptr;
    std::chrono::milliseconds lease_{kDefaultLease};
    std::function<void(int, const std::string&)> log_;
    // One OPEN at a time checks the store and then the claims here, so
    // that both agree on the order of OPENs.
    std::mutex open_mu_;
    std::mutex renew_mu_;  // protects stop_
    std::condition_variable renew_cv_;
    bool stop_ = false;
    std::thread renewer_;
};

}  // namespace qbd
