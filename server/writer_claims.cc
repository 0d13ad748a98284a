#include "writer_claims.h"

#include <syslog.h>

#include <algorithm>
#include <cerrno>

namespace qbd {

WriterClaims::~WriterClaims() {
    if (!renewer_.joinable()) return;
    {
        std::lock_guard l(renew_mu_);
        stop_ = true;
    }
    renew_cv_.notify_all();
    renewer_.join();
}

void WriterClaims::use_store(ClaimStore* store, std::chrono::milliseconds lease,
                             std::function<void(int, const std::string&)> log) {
    store_ = store;
    lease_ = lease;
    log_ = log ? std::move(log) : [](int, const std::string&) {};
    renewer_ = std::thread([this] {
        std::unique_lock l(renew_mu_);
        while (!renew_cv_.wait_for(l, lease_ / 3, [this] { return stop_; })) {
            l.unlock();
            renew_all();
            l.lock();
        }
    });
}

void WriterClaims::expire(Volume& v) {
    const auto now = now_();
    for (auto it = v.hosts.begin(); it != v.hosts.end();) {
        const HostClaim& c = it->second;
        it = !c.connections && now - c.last_close >= grace_ ? v.hosts.erase(it) : std::next(it);
    }
    std::erase_if(v.draining, [](const std::weak_ptr<Incarnation>& w) { return w.expired(); });
}

std::vector<WriterClaims::Holder> WriterClaims::holders_of(const Volume& v) {
    std::vector<Holder> out;
    for (const auto& [host, c] : v.hosts) out.push_back({host, c.shared, c.connections, false, ""});
    return out;
}

int WriterClaims::claim(uint64_t volume, const std::string& host, bool shared, bool take_over,
                        const std::shared_ptr<Incarnation>& conn, std::unique_ptr<Claim>* out,
                        std::vector<Holder>* holders) {
    if (!store_) return claim_locally(volume, host, shared, take_over, conn, out, holders);
    std::lock_guard serial(open_mu_);
    bool had_claim;
    {
        std::lock_guard lock(mu_);
        auto v = volumes_.find(volume);
        had_claim = v != volumes_.end() && v->second.hosts.count(host);
    }
    std::vector<ClaimRecord> in_the_way;
    std::string error;
    int err = store_->acquire(volume, host, shared, take_over, lease_, &in_the_way, &error);
    if (err == -EBUSY) {
        // Those here with their connections, the others as the store has them.
        *holders = this->holders(volume);
        for (const ClaimRecord& r : in_the_way) {
            auto same = [&r](const Holder& h) { return h.host == r.host; };
            if (std::none_of(holders->begin(), holders->end(), same))
                holders->push_back({r.host, r.shared, 0, true, r.server});
        }
        return err;
    }
    if (err) {
        log_(LOG_ERR, "cannot check the other servers' claims: " + error);
        return err;
    }
    err = claim_locally(volume, host, shared, take_over, conn, out, holders);
    // Refused here after all: the record just written must not keep
    // other hosts out.
    if (err == -EBUSY && !had_claim)
        store_->renew(volume, host, std::chrono::milliseconds(0), &error);
    return err;
}

int WriterClaims::claim_locally(uint64_t volume, const std::string& host, bool shared,
                                bool take_over, const std::shared_ptr<Incarnation>& conn,
                                std::unique_ptr<Claim>* out, std::vector<Holder>* holders) {
    std::vector<std::shared_ptr<Incarnation>> to_fence;
    uint64_t generation;
    {
        std::lock_guard lock(mu_);
        Volume& v = volumes_[volume];
        expire(v);
        if (take_over) {
            for (auto it = v.hosts.begin(); it != v.hosts.end();) {
                if (it->first == host) {
                    ++it;
                    continue;
                }
                for (auto& w : it->second.conns) v.draining.push_back(w);
                it = v.hosts.erase(it);
            }
        }
        for (const auto& [other, c] : v.hosts) {
            if (other == host || (shared && c.shared)) continue;
            *holders = holders_of(v);
            return -EBUSY;
        }
        // Nothing of a host taken over may reach the disk after this
        // OPEN's answer, whichever host's OPEN it is.
        for (auto& w : v.draining)
            if (auto inc = w.lock()) to_fence.push_back(std::move(inc));
        auto [it, made] = v.hosts.try_emplace(host);
        HostClaim& mine = it->second;
        if (made) {
            mine.generation = ++generations_;
            mine.shared = shared;
        }
        generation = mine.generation;
        mine.connections++;
        mine.close_recorded = false;
        std::erase_if(mine.conns, [](const std::weak_ptr<Incarnation>& w) { return w.expired(); });
        mine.conns.push_back(conn);
    }
    // The claim counts this connection from here: on failure its
    // destruction counts it out again.
    auto claim = std::make_unique<Claim>(*this, volume, host, generation);
    for (auto& inc : to_fence)
        if (!inc->fence(FenceRegistry::kDrainTimeout)) return -EAGAIN;
    *out = std::move(claim);
    return 0;
}

void WriterClaims::closed(uint64_t volume, const std::string& host, uint64_t generation) {
    std::lock_guard lock(mu_);
    auto v = volumes_.find(volume);
    if (v == volumes_.end()) return;
    auto c = v->second.hosts.find(host);
    // Taken over meanwhile, and perhaps claimed again since.
    if (c == v->second.hosts.end() || c->second.generation != generation) return;
    if (--c->second.connections == 0) c->second.last_close = now_();
}

void WriterClaims::renew_all() {
    struct Renewal {
        uint64_t volume;
        std::string host;
        std::chrono::milliseconds lease;
        bool connected;
    };
    std::vector<Renewal> due;
    {
        std::lock_guard lock(mu_);
        const auto now = now_();
        for (auto& [id, v] : volumes_) {
            expire(v);
            for (auto& [host, c] : v.hosts) {
                if (c.connections) {
                    due.push_back({id, host, lease_, true});
                } else if (!c.close_recorded) {
                    // From now on the record lasts what is left of the grace.
                    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        grace_ - (now - c.last_close));
                    due.push_back({id, host, std::max(left, std::chrono::milliseconds(0)), false});
                    c.close_recorded = true;
                }
            }
        }
    }
    for (const Renewal& r : due) {
        std::string error;
        int err = store_->renew(r.volume, r.host, r.lease, &error);
        if (err == -ENOENT && r.connected)
            taken_elsewhere(r.volume, r.host);
        else if (err && err != -ENOENT)
            log_(LOG_WARNING, "cannot renew the claim of host " + r.host + ": " + error);
    }
}

void WriterClaims::taken_elsewhere(uint64_t volume, const std::string& host) {
    std::vector<std::shared_ptr<Incarnation>> to_fence;
    {
        std::lock_guard lock(mu_);
        auto v = volumes_.find(volume);
        if (v == volumes_.end()) return;
        auto c = v->second.hosts.find(host);
        if (c == v->second.hosts.end()) return;
        for (auto& w : c->second.conns)
            if (auto inc = w.lock()) to_fence.push_back(std::move(inc));
        v->second.hosts.erase(c);
    }
    log_(LOG_NOTICE, "host " + host +
                         " lost its claim to another host through another server: its " +
                         std::to_string(to_fence.size()) + " connections here are fenced");
    for (auto& inc : to_fence) inc->fence(FenceRegistry::kDrainTimeout);
}

int WriterClaims::release(uint64_t volume, const std::string& host) {
    int err = 0;
    {
        std::lock_guard lock(mu_);
        auto v = volumes_.find(volume);
        if (v == volumes_.end()) {
            err = -ENOENT;
        } else if (auto c = v->second.hosts.find(host); c == v->second.hosts.end()) {
            err = -ENOENT;
        } else if (c->second.connections) {
            return -EBUSY;
        } else {
            v->second.hosts.erase(c);
            if (v->second.hosts.empty() && v->second.draining.empty()) volumes_.erase(v);
        }
    }
    if (!store_) return err;
    std::string error;
    int store_err = store_->release(volume, host, &error);
    if (store_err && store_err != -ENOENT)
        log_(LOG_WARNING, "cannot release the claim of host " + host + ": " + error);
    return store_err == 0 ? 0 : err;
}

std::vector<WriterClaims::Holder> WriterClaims::holders(uint64_t volume) {
    std::vector<Holder> out;
    {
        std::lock_guard lock(mu_);
        auto v = volumes_.find(volume);
        if (v != volumes_.end()) {
            expire(v->second);
            out = holders_of(v->second);
        }
    }
    if (!store_) return out;
    std::vector<ClaimRecord> records;
    std::string error;
    if (store_->holders(volume, &records, &error)) {
        log_(LOG_WARNING, "cannot read the other servers' claims: " + error);
        return out;
    }
    for (const ClaimRecord& r : records) {
        auto same = [&r](const Holder& h) { return h.host == r.host; };
        if (r.server != store_->server() && std::none_of(out.begin(), out.end(), same))
            out.push_back({r.host, r.shared, 0, true, r.server});
    }
    return out;
}

}  // namespace qbd
