// Session fencing: no IO of a client's earlier connection reaches the disk
// once the client has reconnected.
//
// A client names each of its connection slots with an id that survives
// reconnects, and numbers every connect of the slot (its incarnation).
// When a connection breaks, the thread serving it may still hold requests
// it read: a write the client already gave up on and resent through its
// next incarnation.  Were the old thread to write it after the resend and
// after newer data for the same block, the newer data would be lost.  So
// before a newer incarnation's OPEN is answered, every older incarnation of
// the slot is fenced (it may start no more disk IO) and drained (the disk
// IO it had started has finished).
//
// A thread serving a connection wraps each batch of disk IO in a
// FencePermit; a permit refused means the connection was replaced and must
// end without touching the disk or answering.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace qbd {

// One incarnation of one client slot, shared by the thread serving it and
// the registry.
class Incarnation {
  public:
    explicit Incarnation(uint64_t number) : number_(number) {}
    uint64_t number() const { return number_; }

    // Starts a batch of disk IO; false once a newer incarnation fenced
    // this one.
    bool enter();
    void leave();
    // Refuses every later enter() and waits up to @timeout for the batches
    // already entered to leave; false when they did not.
    bool fence(std::chrono::milliseconds timeout);
    bool fenced() const;

  private:
    const uint64_t number_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    unsigned active_ = 0;  // under mu_
    bool fenced_ = false;  // under mu_
};

class FenceRegistry {
  public:
    // How long an OPEN waits for an older incarnation's disk IO.
    static constexpr std::chrono::milliseconds kDrainTimeout{3000};

    // Registers @incarnation of @client_id, fencing and draining every
    // older one.  0 and the new incarnation in @out; -ESTALE when a newer
    // incarnation was opened already; -EBUSY when an older one's disk IO
    // did not finish in time (the client tries again).  Client id 0 is
    // anonymous (a tool reading once) and never fenced.
    int open(uint64_t client_id, uint64_t incarnation, std::shared_ptr<Incarnation>* out);

  private:
    struct Slot {
        uint64_t newest = 0;  // highest incarnation opened
        std::weak_ptr<Incarnation> live;
    };
    std::mutex mu_;  // protects slots_; never held while draining
    std::unordered_map<uint64_t, Slot> slots_;
};

// A batch of disk IO under a connection's incarnation; an anonymous
// connection (no incarnation) is always permitted.
class FencePermit {
  public:
    explicit FencePermit(Incarnation* inc) : inc_(inc && inc->enter() ? inc : nullptr) {
        refused_ = inc && !inc_;
    }
    ~FencePermit() {
        if (inc_) inc_->leave();
    }
    FencePermit(const FencePermit&) = delete;
    FencePermit& operator=(const FencePermit&) = delete;
    bool refused() const { return refused_; }

  private:
    Incarnation* inc_;
    bool refused_;
};

}  // namespace qbd
