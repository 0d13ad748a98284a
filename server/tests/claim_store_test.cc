// The rule of writer claims shared by several servers (claim_store.h):
// which records let an OPEN in, which it removes, and how records are
// stored.  WriterClaims over a store is writer_claims_test.cc's; the
// store in RADOS is rbd_backend_test.cc's.
#include "claim_store.h"

#include <gtest/gtest.h>

namespace qbd {

namespace {

using namespace std::chrono_literals;

ClaimRecord rec(std::string host, std::string server, bool shared, int64_t expires) {
    return ClaimRecord{std::move(host), std::move(server), shared, expires};
}

}  // namespace

TEST(ClaimRecords, RoundTripAndRefuseWhatIsNotOne) {
    const ClaimRecord r = rec("web1", "10.0.0.2:7800", true, 1700000000123);
    auto back = parse_claim_record(claim_record_key(r.host, r.server), claim_record_value(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, r);
    // A server without keys names no host.
    auto anon = parse_claim_record(claim_record_key("", "h:1"), "5 0");
    ASSERT_TRUE(anon);
    EXPECT_EQ(anon->host, "");
    EXPECT_FALSE(anon->shared);
    EXPECT_FALSE(parse_claim_record("nospace", "5 0"));
    EXPECT_FALSE(parse_claim_record("web1 ", "5 0"));
    EXPECT_FALSE(parse_claim_record("web1 a b", "5 0"));
    EXPECT_FALSE(parse_claim_record("web1 a:1", "5"));
    EXPECT_FALSE(parse_claim_record("web1 a:1", "5 2"));
    EXPECT_FALSE(parse_claim_record("web1 a:1", "x 0"));
    EXPECT_FALSE(parse_claim_record("web1 a:1", "5 0 "));
}

TEST(DecideClaim, AnotherHostsLiveRecordRefusesUnlessBothShare) {
    const std::vector<ClaimRecord> held = {rec("a", "g1", false, 2000)};
    ClaimDecision d = decide_claim(held, "b", "g2", false, false, 500ms, 1000);
    EXPECT_TRUE(d.busy);
    EXPECT_EQ(d.holders, held);
    EXPECT_TRUE(d.remove.empty());
    EXPECT_TRUE(decide_claim(held, "b", "g2", true, false, 500ms, 1000).busy);

    const std::vector<ClaimRecord> shared = {rec("a", "g1", true, 2000)};
    d = decide_claim(shared, "b", "g2", true, false, 500ms, 1000);
    EXPECT_FALSE(d.busy);
    EXPECT_EQ(d.mine, rec("b", "g2", true, 1500));
    EXPECT_TRUE(decide_claim(shared, "b", "g2", false, false, 500ms, 1000).busy);
}

TEST(DecideClaim, TheSameHostThroughAnyServerIsLetIn) {
    const std::vector<ClaimRecord> held = {rec("a", "g1", false, 2000)};
    ClaimDecision d = decide_claim(held, "a", "g2", false, false, 500ms, 1000);
    EXPECT_FALSE(d.busy);
    EXPECT_EQ(d.mine, rec("a", "g2", false, 1500));
    EXPECT_TRUE(d.remove.empty());
}

TEST(DecideClaim, ExpiredRecordsKeepNobodyOutAndAreRemoved) {
    const std::vector<ClaimRecord> old = {rec("a", "g1", false, 1000), rec("c", "g3", false, 999)};
    ClaimDecision d = decide_claim(old, "b", "g2", false, false, 500ms, 1000);
    EXPECT_FALSE(d.busy);
    EXPECT_EQ(d.remove, (std::vector<std::string>{"a g1", "c g3"}));
}

TEST(DecideClaim, ATakeOverRemovesEveryOtherHostsRecords) {
    const std::vector<ClaimRecord> held = {rec("a", "g1", false, 2000), rec("a", "g2", false, 2000),
                                           rec("b", "g1", false, 2000)};
    ClaimDecision d = decide_claim(held, "b", "g2", false, true, 500ms, 1000);
    EXPECT_FALSE(d.busy);
    EXPECT_EQ(d.remove, (std::vector<std::string>{"a g1", "a g2"}));
    EXPECT_EQ(d.mine, rec("b", "g2", false, 1500));
}

}  // namespace qbd
