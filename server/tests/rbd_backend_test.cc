// The rbd backend against a real Ceph cluster (tests/ceph/cluster.sh,
// started by the ceph_gtest CTest fixture): control operations, data
// round trips, and two gateways of one image fencing each other.
#include "rbd_backend.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace qbd {
namespace {

using test::ceph;
using namespace std::chrono_literals;

class RbdBackendTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_FALSE(ceph().conf.empty())
            << "no Ceph cluster: QBD_CEPH_ENV must name the env file of tests/ceph/cluster.sh";
        a_ = gateway();
        b_ = gateway();
        // Unique per test and run: tests run in parallel on one pool.
        name_ = std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
                std::to_string(std::random_device{}());
    }
    void TearDown() override {
        io_a_.reset();
        io_b_.reset();
        std::string error;
        if (a_) a_->remove(ceph().pool, name_, &error);
    }

    std::unique_ptr<RbdBackend> gateway(unsigned timeout_s = 10, std::string conf = "") {
        RbdOptions o;
        o.ceph_conf = conf.empty() ? ceph().conf : conf;
        o.keyring = ceph().keyring;
        o.pools = {ceph().pool};
        o.connect_timeout_s = timeout_s;
        o.server_id = "gateway-" + std::to_string(++gateways_) + ":7800";
        o.log = [this](int, const std::string& line) { log_.push_back(line); };
        std::unique_ptr<RbdBackend> b;
        std::string error;
        EXPECT_EQ(RbdBackend::make(o, &b, &error), 0) << error;
        return b;
    }

    VolumeInfo create(uint64_t size = 64ULL << 20, uint64_t shard = 1ULL << 20) {
        CreateSpec s{ceph().pool, name_, size, shard, ""};
        VolumeInfo v;
        std::string error;
        EXPECT_EQ(a_->create(s, &v, &error), 0) << error;
        return v;
    }

    std::unique_ptr<VolumeIo> open(RbdBackend& b, uint64_t id, bool ro = false) {
        std::unique_ptr<VolumeIo> io;
        VolumeInfo info;
        std::string error;
        EXPECT_EQ(b.open(id, ro, &io, &info, &error), 0) << error;
        return io;
    }

    static int io(VolumeIo& v, IoKind kind, uint64_t off, uint32_t len, char* buf = nullptr,
                  bool fua = false) {
        return run_io(v, IoRequest{kind, fua, len, off, buf, 7});
    }

    static std::vector<char> pattern(size_t len, char seed) {
        std::vector<char> p(len);
        for (size_t i = 0; i < len; i++) p[i] = static_cast<char>(seed + i * 31 + (i >> 9));
        return p;
    }

    unsigned gateways_ = 0;
    std::unique_ptr<RbdBackend> a_, b_;
    std::unique_ptr<VolumeIo> io_a_, io_b_;
    std::string name_;
    std::vector<std::string> log_;
};

// create, info, list, resize (grow only) and delete reach Ceph, and the
// volume id is one every gateway computes from the pool and image ids.
TEST_F(RbdBackendTest, ControlOperations) {
    VolumeInfo v = create(8ULL << 20, 1ULL << 20);
    EXPECT_EQ(v.pool, ceph().pool);
    EXPECT_EQ(v.name, name_);
    EXPECT_EQ(v.size, 8ULL << 20);
    EXPECT_EQ(v.shard_size, 1ULL << 20);  // the RBD object size
    EXPECT_NE(v.id, 0u);
    EXPECT_LT(v.id, 1ULL << 63);

    std::string error;
    VolumeInfo seen;
    ASSERT_EQ(b_->info(ceph().pool, name_, &seen, &error), 0) << error;
    EXPECT_EQ(seen.id, v.id) << "another gateway derives another id";
    EXPECT_EQ(seen.size, v.size);

    CreateSpec again{ceph().pool, name_, 8ULL << 20, 0, ""};
    EXPECT_EQ(a_->create(again, &seen, &error), -EEXIST);

    std::vector<VolumeInfo> all;
    ASSERT_EQ(b_->list(ceph().pool, &all, &error), 0) << error;
    EXPECT_TRUE(std::any_of(all.begin(), all.end(),
                            [&](const VolumeInfo& x) { return x.id == v.id && x.name == name_; }));
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                               [](const auto& x, const auto& y) { return x.name < y.name; }));

    ASSERT_EQ(b_->resize(ceph().pool, name_, 16ULL << 20, &seen, &error), 0) << error;
    EXPECT_EQ(seen.size, 16ULL << 20);
    EXPECT_EQ(a_->resize(ceph().pool, name_, 4ULL << 20, &seen, &error), -EINVAL);

    ASSERT_EQ(a_->remove(ceph().pool, name_, &error), 0) << error;
    EXPECT_EQ(b_->info(ceph().pool, name_, &seen, &error), -ENOENT);
    EXPECT_NE(error.find(name_), std::string::npos) << error;
    std::unique_ptr<VolumeIo> io;
    EXPECT_EQ(b_->open(v.id, false, &io, &seen, &error), -ENOENT);
}

// A pool this gateway does not serve is refused with a message naming it.
TEST_F(RbdBackendTest, PoolNotServed) {
    std::string error;
    VolumeInfo v;
    CreateSpec s{"elsewhere", name_, 1ULL << 20, 0, ""};
    EXPECT_EQ(a_->create(s, &v, &error), -ENOENT);
    EXPECT_NE(error.find("elsewhere"), std::string::npos) << error;
    EXPECT_EQ(a_->info("elsewhere", name_, &v, &error), -ENOENT);
}

// Data written is read back; FLUSH, FUA, DISCARD of whole objects and
// WRITE_ZEROES behave; a gateway that never heard the volume's name finds
// it by its id.
TEST_F(RbdBackendTest, DataRoundTrips) {
    VolumeInfo v = create();
    io_a_ = open(*a_, v.id);
    ASSERT_TRUE(io_a_);
    const uint32_t len = 3ULL << 20;  // crosses objects
    auto data = pattern(len, 1);
    ASSERT_EQ(io(*io_a_, IoKind::write, 512, len, data.data()), static_cast<int>(len));
    std::vector<char> back(len);
    ASSERT_EQ(io(*io_a_, IoKind::read, 512, len, back.data()), static_cast<int>(len));
    EXPECT_EQ(back, data);
    EXPECT_EQ(io(*io_a_, IoKind::flush, 0, 0), 0);

    auto fua = pattern(4096, 9);
    EXPECT_EQ(io(*io_a_, IoKind::write, 8ULL << 20, 4096, fua.data(), true), 4096);

    // WRITE_ZEROES inside the first write; DISCARD of the whole second object.
    EXPECT_EQ(io(*io_a_, IoKind::write_zeroes, 4096, 8192), 0);
    EXPECT_EQ(io(*io_a_, IoKind::discard, 1ULL << 20, 1ULL << 20), 0);
    ASSERT_EQ(io(*io_a_, IoKind::read, 512, len, back.data()), static_cast<int>(len));
    std::vector<char> want = data;
    std::fill(want.begin() + (4096 - 512), want.begin() + (4096 - 512 + 8192), 0);
    std::fill(want.begin() + ((1 << 20) - 512), want.begin() + ((2 << 20) - 512), 0);
    EXPECT_EQ(back, want);
    io_a_.reset();

    // Another gateway, by id only, reads what the first wrote.
    io_b_ = open(*b_, v.id, true);
    ASSERT_TRUE(io_b_);
    std::vector<char> got(4096);
    ASSERT_EQ(io(*io_b_, IoKind::read, 8ULL << 20, 4096, got.data()), 4096);
    EXPECT_EQ(got, fua);
}

// Many requests in flight at once, completed in any order, each once.
TEST_F(RbdBackendTest, Batches) {
    VolumeInfo v = create();
    io_a_ = open(*a_, v.id);
    ASSERT_TRUE(io_a_);
    constexpr unsigned kN = 48;
    std::vector<std::vector<char>> bufs;
    for (unsigned i = 0; i < kN; i++) bufs.push_back(pattern(65536, static_cast<char>(i)));
    for (unsigned i = 0; i < kN; i++)
        io_a_->submit(IoRequest{IoKind::write, i % 5 == 0, 65536, i * 65536ULL, bufs[i].data(), i});
    std::vector<IoCompletion> done(kN);
    std::vector<int> seen(kN);
    for (unsigned got = 0; got < kN;) {
        int n = io_a_->wait(1, done.data(), kN);
        ASSERT_GT(n, 0);
        for (int i = 0; i < n; i++) {
            ASSERT_LT(done[i].cookie, kN);
            EXPECT_EQ(done[i].res, 65536);
            seen[done[i].cookie]++;
        }
        got += n;
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(kN));
    std::vector<char> back(65536);
    for (unsigned i = 0; i < kN; i += 7) {
        ASSERT_EQ(io(*io_a_, IoKind::read, i * 65536ULL, 65536, back.data()), 65536);
        EXPECT_EQ(back, bufs[i]) << "block " << i;
    }
}

// The failover fence: gateway B's first IO takes the image over, which
// blocklists A; A's later write is never reported done and A's handle is
// dead; the data is B's.  A later OPEN on A gets a new handle that works.
TEST_F(RbdBackendTest, TakeOverFencesTheOldGateway) {
    VolumeInfo v = create();
    io_a_ = open(*a_, v.id);
    io_b_ = open(*b_, v.id);  // a standby path: takes nothing yet
    ASSERT_TRUE(io_a_ && io_b_);
    auto first = pattern(4096, 1);
    ASSERT_EQ(io(*io_a_, IoKind::write, 0, 4096, first.data()), 4096);

    auto second = pattern(4096, 2);
    ASSERT_EQ(io(*io_b_, IoKind::write, 0, 4096, second.data()), 4096);

    auto stale = pattern(4096, 3);
    int res = io(*io_a_, IoKind::write, 0, 4096, stale.data());
    EXPECT_LT(res, 0) << "a fenced gateway's write was reported done";
    EXPECT_TRUE(io_a_->dead());
    // Whatever it is asked now, it says nothing is done.
    EXPECT_LT(io(*io_a_, IoKind::write, 0, 4096, stale.data()), 0);
    EXPECT_LT(io(*io_a_, IoKind::read, 0, 4096, stale.data()), 0);
    EXPECT_FALSE(io_b_->dead());

    std::vector<char> back(4096);
    ASSERT_EQ(io(*io_b_, IoKind::read, 0, 4096, back.data()), 4096);
    EXPECT_EQ(back, second);

    // A reconnects: the dead handle is not reused, the new one takes over.
    std::unique_ptr<VolumeIo> again = open(*a_, v.id);
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->dead());
    ASSERT_EQ(io(*again, IoKind::read, 0, 4096, back.data()), 4096);
    EXPECT_EQ(back, second);
    EXPECT_LT(io(*io_b_, IoKind::write, 0, 4096, stale.data()), 0);
    EXPECT_TRUE(io_b_->dead());
    again.reset();
    EXPECT_TRUE(std::any_of(log_.begin(), log_.end(), [](const std::string& l) {
        return l.find("blocklisted") != std::string::npos;
    }));
}

// Writes the old gateway had in flight when the new one took over either
// landed before the new gateway's writes or not at all: after the new
// gateway wrote every block, every block reads back its data, whatever
// the old one's completions said.
TEST_F(RbdBackendTest, InFlightWritesOfTheOldGatewayNeverLandLater) {
    VolumeInfo v = create(8ULL << 20);
    io_a_ = open(*a_, v.id);
    io_b_ = open(*b_, v.id);
    ASSERT_TRUE(io_a_ && io_b_);
    constexpr unsigned kBlocks = 64;
    constexpr uint32_t kLen = 65536;
    auto warm = pattern(4096, 5);
    ASSERT_EQ(io(*io_a_, IoKind::write, 0, 4096, warm.data()), 4096);  // A holds the lock
    std::vector<std::vector<char>> old_data, new_data;
    for (unsigned i = 0; i < kBlocks; i++) {
        old_data.push_back(pattern(kLen, static_cast<char>(i)));
        new_data.push_back(pattern(kLen, static_cast<char>(100 + i)));
    }
    for (unsigned i = 0; i < kBlocks; i++)
        io_a_->submit(
            IoRequest{IoKind::write, false, kLen, i * uint64_t{kLen}, old_data[i].data(), i});
    for (unsigned i = 0; i < kBlocks; i++)
        ASSERT_EQ(io(*io_b_, IoKind::write, i * uint64_t{kLen}, kLen, new_data[i].data()),
                  static_cast<int>(kLen));
    std::vector<IoCompletion> done(kBlocks);
    for (unsigned got = 0; got < kBlocks;) {
        int n = io_a_->wait(kBlocks - got, done.data(), kBlocks);
        ASSERT_GT(n, 0);
        got += n;
    }
    std::vector<char> back(kLen);
    for (unsigned i = 0; i < kBlocks; i++) {
        ASSERT_EQ(io(*io_b_, IoKind::read, i * uint64_t{kLen}, kLen, back.data()),
                  static_cast<int>(kLen));
        EXPECT_EQ(back, new_data[i]) << "a stale write of the old gateway landed on block " << i;
    }
    // Those that completed did so before the take-over; the next one fails.
    EXPECT_LT(io(*io_a_, IoKind::write, 0, kLen, old_data[0].data()), 0);
    EXPECT_TRUE(io_a_->dead());
}

// A resize made through one gateway is seen at once by another that has
// the image open (rbd_update_watch), here while it holds the lock.
TEST_F(RbdBackendTest, ResizeSeenByOtherGateway) {
    VolumeInfo v = create(8ULL << 20);
    io_a_ = open(*a_, v.id);
    ASSERT_TRUE(io_a_);
    auto data = pattern(4096, 4);
    ASSERT_EQ(io(*io_a_, IoKind::write, 0, 4096, data.data()), 4096);
    EXPECT_EQ(io_a_->size(), 8ULL << 20);

    VolumeInfo grown;
    std::string error;
    ASSERT_EQ(b_->resize(ceph().pool, name_, 24ULL << 20, &grown, &error), 0) << error;
    EXPECT_EQ(grown.size, 24ULL << 20);
    // The notification is asynchronous: wait for it, with a deadline.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (io_a_->size() != (24ULL << 20) && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(io_a_->size(), 24ULL << 20);
    ASSERT_EQ(io(*io_a_, IoKind::write, 20ULL << 20, 4096, data.data()), 4096);
    EXPECT_FALSE(io_a_->dead()) << "the resize took the lock from the gateway serving IO";
}

// A Ceph that cannot be reached fails OPEN within the timeout, saying so.
TEST_F(RbdBackendTest, UnreachableCeph) {
    std::string conf = testing::TempDir() + "/unreachable-" + name_ + ".conf";
    std::ofstream(conf) << "[global]\nmon host = v2:127.0.0.1:1,v1:127.0.0.1:2\n";
    auto gw = gateway(2, conf);
    std::string error;
    VolumeInfo v;
    auto start = std::chrono::steady_clock::now();
    EXPECT_LT(gw->info(ceph().pool, "x", &v, &error), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
    EXPECT_NE(error.find("cannot reach Ceph"), std::string::npos) << error;
    std::remove(conf.c_str());
}

// Writer claims beside the image (claim_store.h): of two gateways letting
// two hosts in at the same moment, exactly one succeeds, every time: the
// records are read and written under the object's version.
TEST_F(RbdBackendTest, ClaimRecordsAreDecidedAtomicallyAcrossGateways) {
    VolumeInfo v = create();
    ClaimStore* sa = a_->claim_store();
    ClaimStore* sb = b_->claim_store();
    ASSERT_NE(sa, nullptr);
    ASSERT_NE(sa->server(), sb->server());
    for (int round = 0; round < 20; round++) {
        int ra = 1, rb = 1;
        std::vector<ClaimRecord> ha, hb;
        std::string ea, eb;
        std::thread ta([&] { ra = sa->acquire(v.id, "h1", false, false, 60s, &ha, &ea); });
        std::thread tb([&] { rb = sb->acquire(v.id, "h2", false, false, 60s, &hb, &eb); });
        ta.join();
        tb.join();
        ASSERT_TRUE((ra == 0 && rb == -EBUSY) || (ra == -EBUSY && rb == 0))
            << "round " << round << ": " << ra << " " << ea << ", " << rb << " " << eb;
        std::vector<ClaimRecord> live;
        std::string error;
        ASSERT_EQ(sa->holders(v.id, &live, &error), 0) << error;
        ASSERT_EQ(live.size(), 1u);
        EXPECT_EQ(live[0].host, ra == 0 ? "h1" : "h2");
        EXPECT_EQ(live[0].server, ra == 0 ? sa->server() : sb->server());
        ASSERT_EQ(sb->release(v.id, live[0].host, &error), 0) << error;
    }
    // Renewal: of this gateway's record only; none left is -ENOENT (taken over).
    std::vector<ClaimRecord> in_the_way;
    std::string error;
    ASSERT_EQ(sa->acquire(v.id, "h1", false, false, 60s, &in_the_way, &error), 0) << error;
    EXPECT_EQ(sb->renew(v.id, "h1", 60s, &error), -ENOENT);
    EXPECT_EQ(sa->renew(v.id, "h1", 60s, &error), 0) << error;
    ASSERT_EQ(sb->acquire(v.id, "h2", false, true, 60s, &in_the_way, &error), 0) << error;
    EXPECT_EQ(sa->renew(v.id, "h1", 60s, &error), -ENOENT);
    // A deleted volume has none (remove() deletes the object too).
    ASSERT_EQ(a_->remove(ceph().pool, name_, &error), 0) << error;
    std::vector<ClaimRecord> live;
    EXPECT_EQ(sa->holders(v.id, &live, &error), -ENOENT);
}

TEST(RbdVolumeId, StableAndNeverZero) {
    EXPECT_EQ(rbd_volume_id(2, "10a6b8b4567"), rbd_volume_id(2, "10a6b8b4567"));
    EXPECT_NE(rbd_volume_id(2, "10a6b8b4567"), rbd_volume_id(3, "10a6b8b4567"));
    EXPECT_NE(rbd_volume_id(2, "10a6b8b4567"), rbd_volume_id(2, "10a6b8b4568"));
    EXPECT_NE(rbd_volume_id(0, ""), 0u);
    EXPECT_LT(rbd_volume_id(-1, "ffffffffffffff"), 1ULL << 63);
    // Pinned: gateways of different versions must agree.
    EXPECT_EQ(rbd_volume_id(1, "abc"), 6558872123934698935ULL);
}

}  // namespace
}  // namespace qbd
