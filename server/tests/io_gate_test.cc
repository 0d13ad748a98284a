// IoGate: once drain() returns, no holder that entered before it is still
// inside, so IO admitted under an old epoch cannot reach the disk after a
// fence; and a drain ends even while holders keep entering and leaving.
#include "io_gate.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <thread>
#include <vector>

namespace qbd {
namespace {

constexpr int kHolders = 4;
constexpr uint64_t kDrains = 2000;
constexpr uint64_t kOutside = ~uint64_t{0};

// Holders read the epoch inside the gate and publish what they read until
// they leave.  The drainer publishes a new epoch, drains, and then must
// find every holder still inside with the new epoch: one that read the
// old one entered before the drain and had to be waited for.
TEST(IoGate, DrainWaitsForEveryoneAlreadyInside) {
    IoGate gate;
    std::atomic<uint64_t> epoch{0};
    std::atomic<bool> done{false};
    std::array<std::atomic<uint64_t>, kHolders> seen;
    for (auto& s : seen) s = kOutside;
    std::vector<std::thread> holders;
    for (int i = 0; i < kHolders; i++) {
        holders.emplace_back([&, i] {
            while (!done) {
                IoGateHold hold(gate);
                seen[i] = epoch.load();
                // Some time inside, so holders overlap.
                std::this_thread::yield();
                seen[i] = kOutside;
            }
        });
    }
    uint64_t stale = 0;
    for (uint64_t e = 1; e <= kDrains; e++) {
        epoch = e;
        gate.drain();
        for (auto& s : seen) {
            uint64_t v = s.load();
            if (v != kOutside && v < e) stale++;
        }
    }
    done = true;
    for (auto& t : holders) t.join();
    EXPECT_EQ(stale, 0u);
}

// Entrants wait while a drain is on, then get in.
TEST(IoGate, EntrantsGetInAfterADrain) {
    IoGate gate;
    gate.drain();
    std::atomic<int> entered{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kHolders; i++)
        ts.emplace_back([&] {
            IoGateHold hold(gate);
            entered++;
        });
    for (auto& t : ts) t.join();
    gate.drain();
    EXPECT_EQ(entered, kHolders);
}

}  // namespace
}  // namespace qbd
