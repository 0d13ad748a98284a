// One writer per volume (writer_claims.h): which OPENs a volume's claims
// let through, how long a host's claim outlives its connections, and what
// a take-over does to the host it takes the volume from.
#include "writer_claims.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace qbd {

namespace {

using namespace std::chrono_literals;

// OPENs of volume 7 through @claims, each on a connection of its own.
struct Opens {
    explicit Opens(WriterClaims& c) : claims_(c) {}
    // An OPEN by @host; the claim (null when refused) and the status.
    std::pair<int, std::unique_ptr<WriterClaims::Claim>> open(const std::string& host,
                                                              bool shared = false,
                                                              bool take_over = false) {
        auto conn = std::make_shared<Incarnation>(1);
        conns.push_back(conn);
        std::unique_ptr<WriterClaims::Claim> c;
        int err = claims_.claim(7, host, shared, take_over, conn, &c, &refused_by);
        return {err, std::move(c)};
    }
    std::vector<WriterClaims::Holder> refused_by;
    std::vector<std::shared_ptr<Incarnation>> conns;

  private:
    WriterClaims& claims_;
};

struct Fixture : Opens {
    Fixture() : Opens(claims) {}
    WriterClaims::Clock::time_point t{};
    WriterClaims claims{30s, [this] { return t; }};
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

namespace {

// Records as a backend served by several servers keeps them, in memory:
// one Records shared by every server's store.
struct Records {
    std::mutex mu;
    std::map<uint64_t, std::vector<ClaimRecord>> volumes;
};

class MemoryStore final : public ClaimStore {
  public:
    MemoryStore(Records& records, std::string server) : r_(records), server_(std::move(server)) {}
    const std::string& server() const override { return server_; }
    int acquire(uint64_t volume, const std::string& host, bool shared, bool take_over,
                std::chrono::milliseconds lease, std::vector<ClaimRecord>* holders,
                std::string*) override {
        std::lock_guard l(r_.mu);
        auto& recs = r_.volumes[volume];
        ClaimDecision d = decide_claim(recs, host, server_, shared, take_over, lease, now_ms());
        if (d.busy) {
            *holders = d.holders;
            return -EBUSY;
        }
        apply(recs, ClaimChange{{d.mine}, d.remove});
        return 0;
    }
    int renew(uint64_t volume, const std::string& host, std::chrono::milliseconds lease,
              std::string*) override {
        std::lock_guard l(r_.mu);
        renewals++;
        auto& recs = r_.volumes[volume];
        ClaimChange c;
        int err = decide_renew(recs, host, server_, lease, now_ms(), &c);
        if (!err) apply(recs, c);
        return err;
    }
    int release(uint64_t volume, const std::string& host, std::string*) override {
        std::lock_guard l(r_.mu);
        auto& recs = r_.volumes[volume];
        ClaimChange c;
        int err = decide_release(recs, host, &c);
        if (!err) apply(recs, c);
        return err;
    }
    int holders(uint64_t volume, std::vector<ClaimRecord>* out, std::string*) override {
        std::lock_guard l(r_.mu);
        out->clear();
        for (const ClaimRecord& r : r_.volumes[volume])
            if (r.expires_ms > now_ms()) out->push_back(r);
        return 0;
    }
    std::atomic<int> renewals{0};

  private:
    // As an omap write does it: keys removed, records set by their key.
    static void apply(std::vector<ClaimRecord>& recs, const ClaimChange& c) {
        auto key = [](const ClaimRecord& r) { return claim_record_key(r.host, r.server); };
        std::erase_if(recs, [&](const ClaimRecord& r) {
            return std::find(c.remove.begin(), c.remove.end(), key(r)) != c.remove.end() ||
                   std::any_of(c.set.begin(), c.set.end(),
                               [&](const ClaimRecord& s) { return key(s) == key(r); });
        });
        recs.insert(recs.end(), c.set.begin(), c.set.end());
    }

    Records& r_;
    std::string server_;
};

// One server of a volume that several serve: its claims over its store.
struct Server : Opens {
    Server(Records& records, std::string name, std::chrono::milliseconds lease = 90ms)
        : Opens(claims), store(records, std::move(name)) {
        claims.use_store(&store, lease, {});
    }
    MemoryStore store;
    WriterClaims claims{30s};
};

bool eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 300 && !done(); i++) std::this_thread::sleep_for(10ms);
    return done();
}

}  // namespace

// The bug this pins: each server kept its claims to itself, so host b
// mapping a volume through a second gateway got in while host a held it
// through the first.
TEST(WriterClaimsOverAStore, AHostThroughAnotherServerIsRefused) {
    Records records;
    Server s1(records, "g1:7800"), s2(records, "g2:7800");
    auto [e1, a] = s1.open("a");
    ASSERT_EQ(e1, 0);
    auto [e2, b] = s2.open("b");
    EXPECT_EQ(e2, -EBUSY);
    EXPECT_EQ(b, nullptr);
    ASSERT_EQ(s2.refused_by.size(), 1u);
    EXPECT_EQ(s2.refused_by[0].host, "a");
    EXPECT_TRUE(s2.refused_by[0].elsewhere);
    EXPECT_EQ(s2.refused_by[0].server, "g1:7800");
    // Both servers name the holder; the refused host left nothing behind.
    auto held = s2.claims.holders(7);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(held[0].host, "a");
    EXPECT_TRUE(held[0].elsewhere);
    // Host a through the second server is the same writer: let in.
    auto [e3, a2] = s2.open("a");
    EXPECT_EQ(e3, 0);
    // Sharing, when every host asks for it, across servers too.
    auto [e4, c] = s1.open("c", true);
    EXPECT_EQ(e4, -EBUSY);
}

TEST(WriterClaimsOverAStore, TheHoldersConnectionsAreRenewedAndKeepOthersOut) {
    Records records;
    Server s1(records, "g1:7800"), s2(records, "g2:7800");
    auto [e1, a] = s1.open("a");
    ASSERT_EQ(e1, 0);
    // Several leases (90 ms) later the record is alive: renewed.
    std::this_thread::sleep_for(400ms);
    EXPECT_GE(s1.store.renewals.load(), 3);
    EXPECT_EQ(s2.open("b").first, -EBUSY);
}

TEST(WriterClaimsOverAStore, ARecordOfAServerThatStoppedRunsOut) {
    Records records;
    Server s2(records, "g2:7800");
    {
        auto s1 = std::make_unique<Server>(records, "g1:7800");
        auto [e1, a] = s1->open("a");
        ASSERT_EQ(e1, 0);
        EXPECT_EQ(s2.open("b").first, -EBUSY);
        // g1 dies with a's connection open: nothing renews its record and
        // nothing removes it.
        a.release();  // NOLINT: a dead server's claim is never counted out
    }
    EXPECT_TRUE(eventually([&] { return s2.open("b").first == 0; }));
}

TEST(WriterClaimsOverAStore, ATakeOverThroughAnotherServerFencesTheHostTakenOver) {
    Records records;
    Server s1(records, "g1:7800"), s2(records, "g2:7800");
    auto [e1, a] = s1.open("a");
    ASSERT_EQ(e1, 0);
    std::shared_ptr<Incarnation> a_conn = s1.conns.back();
    auto [e2, b] = s2.open("b", false, true);
    ASSERT_EQ(e2, 0);
    // g1 learns it at its next renewal: none of a's IO goes on there.
    EXPECT_TRUE(eventually([&] { return a_conn->fenced(); }));
    EXPECT_FALSE(a_conn->enter());
    // And a is refused there from now on, not let in on its old claim.
    EXPECT_EQ(s1.open("a").first, -EBUSY);
    EXPECT_EQ(s1.refused_by.at(0).host, "b");
}

TEST(WriterClaimsOverAStore, AReleaseEndsTheHostsRecordsThroughEveryServer) {
    Records records;
    Server s1(records, "g1:7800"), s2(records, "g2:7800"), s3(records, "g3:7800");
    {
        auto [e1, a1] = s1.open("a");
        auto [e2, a2] = s2.open("a");
        ASSERT_EQ(e1, 0);
        ASSERT_EQ(e2, 0);
    }
    EXPECT_EQ(s3.open("b").first, -EBUSY);
    // qbd -u asks each server it knows; g1 is enough for both records.
    EXPECT_EQ(s1.claims.release(7, "a"), 0);
    EXPECT_EQ(s3.open("b").first, 0);
}

}  // namespace qbd
