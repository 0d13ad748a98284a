#include "writer_claims.h"

#include <algorithm>
#include <cerrno>

namespace qbd {

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
    for (const auto& [host, c] : v.hosts) out.push_back({host, c.shared, c.connections});
    return out;
}

int WriterClaims::claim(uint64_t volume, const std::string& host, bool shared, bool take_over,
                        const std::shared_ptr<Incarnation>& conn, std::unique_ptr<Claim>* out,
                        std::vector<Holder>* holders) {
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

int WriterClaims::release(uint64_t volume, const std::string& host) {
    std::lock_guard lock(mu_);
    auto v = volumes_.find(volume);
    if (v == volumes_.end()) return -ENOENT;
    auto c = v->second.hosts.find(host);
    if (c == v->second.hosts.end()) return -ENOENT;
    if (c->second.connections) return -EBUSY;
    v->second.hosts.erase(c);
    if (v->second.hosts.empty() && v->second.draining.empty()) volumes_.erase(v);
    return 0;
}

std::vector<WriterClaims::Holder> WriterClaims::holders(uint64_t volume) {
    std::lock_guard lock(mu_);
    auto v = volumes_.find(volume);
    if (v == volumes_.end()) return {};
    expire(v->second);
    return holders_of(v->second);
}

}  // namespace qbd
