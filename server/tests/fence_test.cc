// FenceRegistry: a newer incarnation of a client slot is opened only once
// the older one may start no more disk IO and the IO it started is over;
// stale and replayed OPENs are refused; anonymous clients are not fenced.
#include "fence.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

namespace qbd {
namespace {

using namespace std::chrono_literals;

TEST(Fence, ANewerIncarnationFencesTheOlderOne) {
    FenceRegistry reg;
    std::shared_ptr<Incarnation> first, second;
    ASSERT_EQ(reg.open(7, 1, &first), 0);
    EXPECT_FALSE(FencePermit(first.get()).refused());
    ASSERT_EQ(reg.open(7, 2, &second), 0);
    EXPECT_TRUE(FencePermit(first.get()).refused());
    EXPECT_FALSE(FencePermit(second.get()).refused());
}

TEST(Fence, OpenWaitsForTheOlderIncarnationsDiskIo) {
    FenceRegistry reg;
    std::shared_ptr<Incarnation> old, fresh;
    ASSERT_EQ(reg.open(7, 1, &old), 0);
    std::atomic<bool> io_done{false};
    std::atomic<bool> permit_taken{false};
    std::thread io([&] {
        FencePermit p(old.get());
        permit_taken = true;
        std::this_thread::sleep_for(200ms);
        io_done = true;
    });
    while (!permit_taken) std::this_thread::yield();
    ASSERT_EQ(reg.open(7, 2, &fresh), 0);
    // Not a timing assertion: open() may only return once the permit left.
    EXPECT_TRUE(io_done);
    io.join();
}

TEST(Fence, OpenIsRefusedWhileTheOlderIncarnationsIoDoesNotDrain) {
    FenceRegistry reg;
    std::shared_ptr<Incarnation> old, fresh;
    ASSERT_EQ(reg.open(7, 1, &old), 0);
    {
        FencePermit stuck(old.get());
        EXPECT_EQ(reg.open(7, 2, &fresh), -EBUSY);
        EXPECT_EQ(fresh, nullptr);
        // A retry drains the same older incarnation again.
        EXPECT_EQ(reg.open(7, 3, &fresh), -EBUSY);
    }
    EXPECT_EQ(reg.open(7, 4, &fresh), 0);
}

TEST(Fence, StaleAndReplayedIncarnationsAreRefused) {
    FenceRegistry reg;
    std::shared_ptr<Incarnation> inc;
    ASSERT_EQ(reg.open(7, 5, &inc), 0);
    EXPECT_EQ(reg.open(7, 5, &inc), -ESTALE);
    EXPECT_EQ(reg.open(7, 3, &inc), -ESTALE);
    // Slots are independent.
    EXPECT_EQ(reg.open(8, 1, &inc), 0);
}

TEST(Fence, AnonymousClientsAreNeverFenced) {
    FenceRegistry reg;
    std::shared_ptr<Incarnation> a, b;
    ASSERT_EQ(reg.open(0, 0, &a), 0);
    ASSERT_EQ(reg.open(0, 0, &b), 0);
    EXPECT_FALSE(FencePermit(a.get()).refused());
    EXPECT_FALSE(FencePermit(b.get()).refused());
    EXPECT_FALSE(FencePermit(nullptr).refused());
}

}  // namespace
}  // namespace qbd
