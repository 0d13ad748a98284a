#include "connection_limits.h"

#include <algorithm>

namespace qbd {

namespace {

constexpr auto kSayEvery = std::chrono::seconds(1);

}  // namespace

ConnectionLimits::Place& ConnectionLimits::Place::operator=(Place&& o) noexcept {
    if (this != &o) {
        release();
        owner_ = o.owner_;
        host_ = std::move(o.host_);
        o.owner_ = nullptr;
    }
    return *this;
}

void ConnectionLimits::Place::release() {
    if (owner_) owner_->release(host_);
    owner_ = nullptr;
}

ConnectionLimits::ConnectionLimits(unsigned max_total, unsigned max_per_host)
    : max_total_(max_total), max_per_host_(std::min(max_per_host, max_total)) {}

ConnectionLimits::Place ConnectionLimits::admit(const std::string& host, std::string* say,
                                                Clock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    say->clear();
    auto it = hosts_.find(host);
    const unsigned from_host = it == hosts_.end() ? 0 : it->second;
    const char* limit = nullptr;
    unsigned reached = 0;
    if (total_ >= max_total_) {
        limit = " connections in all (max_connections)";
        reached = total_;
    } else if (from_host >= max_per_host_) {
        limit = " connections from that address (max_connections_per_host)";
        reached = from_host;
    }
    if (!limit) {
        total_++;
        if (it == hosts_.end())
            hosts_.emplace(host, 1);
        else
            it->second++;
        return Place(this, host);
    }
    if (said_ && now - last_said_ < kSayEvery) {
        unsaid_++;
        return Place();
    }
    *say = "refused a connection from " + host + ": " + std::to_string(reached) + limit;
    if (unsaid_) *say += "; " + std::to_string(unsaid_) + " more refused since the last such line";
    said_ = true;
    last_said_ = now;
    unsaid_ = 0;
    return Place();
}

void ConnectionLimits::release(const std::string& host) {
    std::lock_guard<std::mutex> lock(mu_);
    total_--;
    auto it = hosts_.find(host);
    if (--it->second == 0) hosts_.erase(it);
}

unsigned ConnectionLimits::total() const {
    std::lock_guard<std::mutex> lock(mu_);
    return total_;
}

unsigned ConnectionLimits::of_host(const std::string& host) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = hosts_.find(host);
    return it == hosts_.end() ? 0 : it->second;
}

size_t ConnectionLimits::hosts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hosts_.size();
}

}  // namespace qbd
