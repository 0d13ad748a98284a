// A gate between the data path and catalog changes that fence a volume.
// Connections hold it open while a batch of IO is in flight; a fence
// closes it for a moment, which waits for every batch already admitted
// under the old epoch to finish.  After the drain returns, no IO admitted
// under the old epoch can still reach the disk.  Writer-preferring, so a
// steady stream of batches cannot starve a fence.
#pragma once

#include <condition_variable>
#include <mutex>

namespace qbd {

class IoGate {
public:
    void enter() {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !draining_; });
        active_++;
    }
    void leave() {
        std::lock_guard lock(mu_);
        if (--active_ == 0) cv_.notify_all();
    }
    // Waits until every batch that entered before this call has left.
    void drain() {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !draining_; });
        draining_ = true;
        cv_.wait(lock, [&] { return active_ == 0; });
        draining_ = false;
        cv_.notify_all();
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    unsigned active_ = 0;
    bool draining_ = false;
};

// Holds the gate open for a scope.
class IoGateHold {
public:
    explicit IoGateHold(IoGate& g) : gate_(g) { gate_.enter(); }
    ~IoGateHold() { gate_.leave(); }
    IoGateHold(const IoGateHold&) = delete;
    IoGateHold& operator=(const IoGateHold&) = delete;

private:
    IoGate& gate_;
};

}  // namespace qbd
