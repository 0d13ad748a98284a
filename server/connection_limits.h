// How many TCP connections the server holds: max_connections in all and
// max_connections_per_host from one peer address.  "Host" is the peer's
// IP address as accept() gives it: nothing else is known of a connection
// before HELLO, so clients behind one NAT count as one host.  A connection
// over a limit is closed as soon as it is accepted, and a line says so at
// most once a second, with the count of those it did not report.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace qbd {

class ConnectionLimits {
  public:
    using Clock = std::chrono::steady_clock;

    // A connection's place under the limits, given back (once) when it is
    // destroyed; an empty one (false) holds nothing.
    class Place {
      public:
        Place() = default;
        Place(Place&& o) noexcept : owner_(o.owner_), host_(std::move(o.host_)) {
            o.owner_ = nullptr;
        }
        Place& operator=(Place&& o) noexcept;
        Place(const Place&) = delete;
        Place& operator=(const Place&) = delete;
        ~Place() { release(); }
        explicit operator bool() const { return owner_ != nullptr; }

      private:
        friend class ConnectionLimits;
        Place(ConnectionLimits* owner, std::string host) : owner_(owner), host_(std::move(host)) {}
        void release();

        ConnectionLimits* owner_ = nullptr;
        std::string host_;
    };

    // A per-host limit above the overall one is the overall one.
    ConnectionLimits(unsigned max_total, unsigned max_per_host);
    ConnectionLimits(const ConnectionLimits&) = delete;
    ConnectionLimits& operator=(const ConnectionLimits&) = delete;

    // A place for a connection from @host (a numeric address), or an empty
    // one when a limit is reached; then @say is the line to log, or empty
    // when a line was logged less than a second before @now.
    Place admit(const std::string& host, std::string* say, Clock::time_point now = Clock::now());

    unsigned total() const;
    unsigned of_host(const std::string& host) const;
    // Addresses with a connection now: the map never grows past them.
    size_t hosts() const;

  private:
    void release(const std::string& host);

    const unsigned max_total_;
    const unsigned max_per_host_;
    mutable std::mutex mu_;
    unsigned total_ = 0;                               // under mu_
    std::unordered_map<std::string, unsigned> hosts_;  // under mu_, never a 0
    Clock::time_point last_said_{};                    // under mu_
    bool said_ = false;                                // under mu_: a line was logged
    unsigned long unsaid_ = 0;                         // under mu_: refusals since
};

}  // namespace qbd
