#include "fence.h"

#include <cerrno>
#include <iterator>

namespace qbd {

namespace {

// Slots whose connections are all gone are forgotten past this many, so a
// server that sees maps come and go for months does not grow without end.
constexpr size_t kMaxIdleSlots = 4096;

}  // namespace

bool Incarnation::enter() {
    std::lock_guard lock(mu_);
    if (fenced_) return false;
    active_++;
    return true;
}

void Incarnation::leave() {
    std::lock_guard lock(mu_);
    if (--active_ == 0) cv_.notify_all();
}

bool Incarnation::fence(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    fenced_ = true;
    return cv_.wait_for(lock, timeout, [&] { return active_ == 0; });
}

bool Incarnation::fenced() const {
    std::lock_guard lock(mu_);
    return fenced_;
}

int FenceRegistry::open(uint64_t client_id, uint64_t incarnation,
                        std::shared_ptr<Incarnation>* out) {
    auto mine = std::make_shared<Incarnation>(incarnation);
    if (!client_id) {
        *out = std::move(mine);
        return 0;
    }
    std::shared_ptr<Incarnation> older;
    {
        std::lock_guard lock(mu_);
        if (slots_.size() > kMaxIdleSlots) {
            for (auto it = slots_.begin(); it != slots_.end();)
                it = it->second.live.expired() ? slots_.erase(it) : std::next(it);
        }
        Slot& s = slots_[client_id];
        if (incarnation <= s.newest) return -ESTALE;
        s.newest = incarnation;
        // The older incarnation stays the slot's live one until it has
        // drained, so a still newer OPEN racing this one drains it too.
        older = s.live.lock();
    }
    if (older && !older->fence(kDrainTimeout)) return -EBUSY;
    std::lock_guard lock(mu_);
    Slot& s = slots_[client_id];
    if (s.newest != incarnation) return -ESTALE;  // overtaken while draining
    s.live = mine;
    *out = std::move(mine);
    return 0;
}

}  // namespace qbd
