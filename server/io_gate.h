// A gate between the data path and catalog changes that fence a volume.
// Connections hold it open while a batch of IO is in flight; a fence
// closes it for a moment, which waits for every batch already admitted
// under the old epoch to finish.  After the drain returns, no IO admitted
// under the old epoch can still reach the disk.  Writer-preferring, so a
// steady stream of batches cannot starve a fence.
//
// Entering and leaving take no lock unless a drain is on: every request of
// every connection passes the gate, and on a mutex the connections' threads
// queued behind each other.  The entrant raises active_ then reads
// draining_, the drainer raises draining_ then reads active_; both
// sequentially consistent, so at least one of them sees the other.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace qbd {

class IoGate {
  public:
    void enter() {
        for (;;) {
            active_.fetch_add(1);
            if (!draining_.load()) return;
            // A drain is on: back out and wait for it to end.
            leave();
            std::unique_lock lock(mu_);
            cv_.wait(lock, [&] { return !draining_.load(); });
        }
    }
    void leave() {
        if (active_.fetch_sub(1) == 1 && draining_.load()) {
            // Under the mutex, so the drainer is either before its check
            // of active_ or already waiting.
            std::lock_guard lock(mu_);
            cv_.notify_all();
        }
    }
    // Waits until every batch that entered before this call has left.
    void drain() {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !draining_.load(); });
        draining_.store(true);
        cv_.wait(lock, [&] { return active_.load() == 0; });
        draining_.store(false);
        cv_.notify_all();
    }

  private:
    std::mutex mu_;  // for the waits only
    std::condition_variable cv_;
    std::atomic<unsigned> active_{0};
    std::atomic<bool> draining_{false};
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
