// One writer per volume (writer_claims.h): which OPENs a volume's claims
// let through, how long a host's claim outlives its connections, and what
// a take-over does to the host it takes the volume from.
#include "writer_claims.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <thread>

namespace qbd {

namespace {

using namespace std::chrono_literals;

struct Fixture {
    WriterClaims::Clock::time_point t{};
    WriterClaims claims{30s, [this] { return t; }};

    // An OPEN by @host; the claim (null when refused) and the status.
    std::pair<int, std::unique_ptr<WriterClaims::Claim>> open(const std::string& host,
                                                              bool shared = false,
                                                              bool take_over = false) {
        auto conn = std::make_shared<Incarnation>(1);
        conns.push_back(conn);
        std::unique_ptr<WriterClaims::Claim> c;
        int err = claims.claim(7, host, shared, take_over, conn, &c, &refused_by);
        return {err, std::move(c)};
    }
    std::vector<WriterClaims::Holder> refused_by;
    std::vector<std::shared_ptr<Incarnation>> conns;
};

}  // namespace

TEST(WriterClaims, OneHostAtATimeWithAllItsConnections) {
    Fixture f;
    auto [e1, a1] = f.open("a");
    auto [e2, a2] = f.open("a");  // its other queues, its reconnects
    ASSERT_EQ(e1, 0);
    ASSERT_EQ(e2, 0);
    auto [e3, b] = f.open("b");
    EXPECT_EQ(e3, -EBUSY);
    EXPECT_EQ(b, nullptr);
    ASSERT_EQ(f.refused_by.size(), 1u);
    EXPECT_EQ(f.refused_by[0].host, "a");
    EXPECT_FALSE(f.refused_by[0].shared);
    EXPECT_EQ(f.refused_by[0].connections, 2u);
    // Other volumes are not held.
    std::unique_ptr<WriterClaims::Claim> other;
    EXPECT_EQ(f.claims.claim(8, "b", false, false, std::make_shared<Incarnation>(1), &other,
                             &f.refused_by),
              0);
}

TEST(WriterClaims, SharedOnlyWhenEveryHostAsks) {
    Fixture f;
    auto [e1, a] = f.open("a", true);
    ASSERT_EQ(e1, 0);
    auto [e2, b] = f.open("b", true);
    EXPECT_EQ(e2, 0);
    auto [e3, c] = f.open("c", false);
    EXPECT_EQ(e3, -EBUSY);
    EXPECT_EQ(f.refused_by.size(), 2u);
    Fixture g;
    auto [e4, x] = g.open("x", false);
    ASSERT_EQ(e4, 0);
    auto [e5, y] = g.open("y", true);
    EXPECT_EQ(e5, -EBUSY);
}

TEST(WriterClaims, AClaimOutlivesItsConnectionsForTheGracePeriod) {
    Fixture f;
    {
        auto [e, a] = f.open("a");
        ASSERT_EQ(e, 0);
    }  // a's connection broke
    f.t += 29s;
    EXPECT_EQ(f.open("b").first, -EBUSY);
    ASSERT_EQ(f.refused_by.size(), 1u);
    EXPECT_EQ(f.refused_by[0].connections, 0u);
    // a's reconnect within the grace period finds its claim...
    {
        auto [e, a] = f.open("a");
        EXPECT_EQ(e, 0);
        f.t += 60s;
        EXPECT_EQ(f.open("b").first, -EBUSY);  // ...which lasts while it is connected
    }
    f.t += 30s;
    EXPECT_EQ(f.open("b").first, 0);
    // b's connection ended with its OPEN: b's claim is in its grace period.
    auto now = f.claims.holders(7);
    ASSERT_EQ(now.size(), 1u);
    EXPECT_EQ(now[0].host, "b");
    EXPECT_EQ(now[0].connections, 0u);
}

TEST(WriterClaims, AReleaseEndsTheClaimAtOnceButNotWhileConnected) {
    Fixture f;
    auto [e, a] = f.open("a");
    ASSERT_EQ(e, 0);
    EXPECT_EQ(f.claims.release(7, "a"), -EBUSY);
    EXPECT_EQ(f.claims.release(7, "nobody"), -ENOENT);
    a.reset();
    EXPECT_EQ(f.claims.release(7, "a"), 0);
    EXPECT_EQ(f.claims.release(7, "a"), -ENOENT);
    EXPECT_EQ(f.open("b").first, 0);
}

TEST(WriterClaims, ATakeOverFencesTheHostItTakesTheVolumeFrom) {
    Fixture f;
    auto [e1, a] = f.open("a");
    ASSERT_EQ(e1, 0);
    std::shared_ptr<Incarnation> a_conn = f.conns.back();
    auto [e2, b] = f.open("b", false, true);
    ASSERT_EQ(e2, 0);
    EXPECT_TRUE(a_conn->fenced());  // none of a's IO reaches the disk any more
    EXPECT_FALSE(a_conn->enter());
    ASSERT_EQ(f.claims.holders(7).size(), 1u);
    EXPECT_EQ(f.claims.holders(7)[0].host, "b");
    // a's connection ending does not count out b's claim, nor does a get back in.
    a.reset();
    EXPECT_EQ(f.claims.holders(7)[0].connections, 1u);
    EXPECT_EQ(f.open("a").first, -EBUSY);
}

TEST(WriterClaims, ATakeOverWaitsForTheIoOfTheHostTakenOver) {
    Fixture f;
    auto [e1, a] = f.open("a");
    ASSERT_EQ(e1, 0);
    std::shared_ptr<Incarnation> a_conn = f.conns.back();
    ASSERT_TRUE(a_conn->enter());  // a batch of a's disk IO is running
    std::thread done([&] {
        std::this_thread::sleep_for(200ms);
        a_conn->leave();
    });
    const auto start = std::chrono::steady_clock::now();
    auto [e2, b] = f.open("b", false, true);
    EXPECT_EQ(e2, 0);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
    done.join();
}

TEST(WriterClaims, AClaimTakenOverAndMadeAgainIsNotCountedOutByTheOldConnections) {
    Fixture f;
    auto [e1, a_old] = f.open("a");
    ASSERT_EQ(e1, 0);
    auto [e2, b] = f.open("b", false, true);
    ASSERT_EQ(e2, 0);
    b.reset();
    ASSERT_EQ(f.claims.release(7, "b"), 0);
    auto [e3, a_new] = f.open("a");
    ASSERT_EQ(e3, 0);
    a_old.reset();  // the fenced connection of the first claim ends late
    ASSERT_EQ(f.claims.holders(7).size(), 1u);
    EXPECT_EQ(f.claims.holders(7)[0].connections, 1u);
}

}  // namespace qbd
