// qbd-server as a gateway to Ceph: real qbd-server processes with the rbd
// backend (serve --config), against the cluster the ceph_gtest fixture
// started, driven over the wire with the client library.
#include <arpa/inet.h>
#include <endian.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "qbd_client.h"
#include "test_support.h"

namespace qbd {
namespace {

using test::ceph;

using client::Client;

using test::free_port;

// A qbd-server gateway: its configuration file says backend = rbd.
class Gateway {
  public:
    explicit Gateway(const std::string& ceph_conf = ceph().conf, unsigned timeout_s = 10) {
        port_ = free_port();
        conf_ = testing::TempDir() + "/qbd-gateway-" + std::to_string(port_) + ".conf";
        std::ofstream(conf_) << "# written by rbd_server_test\n"
                             << "backend = rbd\n"
                             << "listen = " << addr() << "\n"
                             << "ceph_conf = " << ceph_conf << "\n"
                             << "pools = " << ceph().pool << "\n"
                             << "ceph_timeout = " << timeout_s << "\n";
        if (!ceph().keyring.empty())
            std::ofstream(conf_, std::ios::app) << "ceph_keyring = " << ceph().keyring << "\n";
        pid_ = fork();
        if (pid_ == 0) {
            if (!getenv("QBD_TEST_VERBOSE")) freopen("/dev/null", "w", stderr);
            execl(QBD_SERVER_BINARY, QBD_SERVER_BINARY, "serve", "--config", conf_.c_str(),
                  nullptr);
            _exit(127);
        }
        for (int i = 0; i < 250; i++) {
            std::unique_ptr<Client> c;
            std::string err;
            if (Client::connect(addr(), {}, 1000, &c, &err) != -ECONNREFUSED) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ADD_FAILURE() << "gateway did not start";
    }
    ~Gateway() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        std::remove(conf_.c_str());
    }
    std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }
    // As host @me (named in HELLO; this gateway has no keys file).
    std::unique_ptr<Client> connect(const HostKey& me = {}) const {
        std::unique_ptr<Client> c;
        std::string err;
        EXPECT_EQ(Client::connect(addr(), me, 5000, &c, &err), 0) << err;
        return c;
    }
    bool alive() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

  private:
    uint16_t port_;
    std::string conf_;
    pid_t pid_ = -1;
};

using test::pattern;

class RbdServer : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_FALSE(ceph().conf.empty())
            << "no Ceph cluster: QBD_CEPH_ENV must name the env file of tests/ceph/cluster.sh";
        name_ = std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
                std::to_string(std::random_device{}());
    }
    void TearDown() override {
        Gateway g;
        auto c = g.connect();
        if (c) c->remove(ceph().pool, name_);
    }
    client::Volume create(Gateway& g, uint64_t size) {
        auto c = g.connect();
        client::Volume v;
        if (!c) return v;
        EXPECT_EQ(c->create(ceph().pool, name_, size, 1ULL << 20), 0) << c->error();
        EXPECT_EQ(c->info(ceph().pool, name_, &v), 0) << c->error();
        return v;
    }
    std::string name_;
};

// A volume is an RBD image: the control service creates, describes (this
// gateway as its path), lists, grows and deletes it, and IO over the wire
// reaches it, including past the old end once it grew.
TEST_F(RbdServer, ServesAVolumeEndToEnd) {
    Gateway g;
    client::Volume v = create(g, 16ULL << 20);
    EXPECT_NE(v.id, 0u);
    EXPECT_EQ(v.size, 16ULL << 20);
    EXPECT_EQ(v.shard_size, 1ULL << 20);
    EXPECT_EQ(v.paths, std::vector<std::string>{g.addr()});
    auto ctl = g.connect();
    std::vector<client::Volume> all;
    ASSERT_EQ(ctl->list(ceph().pool, &all), 0) << ctl->error();
    EXPECT_TRUE(
        std::any_of(all.begin(), all.end(), [&](const client::Volume& x) { return x.id == v.id; }));

    auto c = g.connect();
    qbd_open_reply orep;
    ASSERT_EQ(c->open(v.id, v.epoch, &orep), 0) << c->error();
    EXPECT_EQ(le64toh(orep.size), 16ULL << 20);
    // A pipelined batch of writes, then reads of each.
    std::vector<std::vector<char>> data;
    for (unsigned i = 0; i < 16; i++) data.push_back(pattern(65536, i));
    for (unsigned i = 0; i < 16; i++)
        ASSERT_EQ(c->submit(QBD_OP_WRITE, i * 65536ULL, data[i].data(), 65536,
                            i % 4 ? 0 : QBD_REQ_FUA, i + 1),
                  0);
    for (unsigned i = 0; i < 16; i++) {
        uint64_t tag;
        int status;
        ASSERT_EQ(c->reap(&tag, &status), 0) << c->error();
        EXPECT_EQ(status, 0) << "tag " << tag;
    }
    EXPECT_EQ(c->flush(), 0) << c->error();
    std::vector<char> back(65536);
    for (unsigned i = 0; i < 16; i++) {
        ASSERT_EQ(c->read(i * 65536ULL, back.data(), 65536), 0) << c->error();
        EXPECT_EQ(back, data[i]) << "block " << i;
    }
    ASSERT_EQ(c->write_zeroes(65536, 65536), 0) << c->error();
    ASSERT_EQ(c->read(65536, back.data(), 65536), 0) << c->error();
    EXPECT_EQ(back, std::vector<char>(65536, 0));
    ASSERT_EQ(c->discard(8ULL << 20, 1ULL << 20), 0) << c->error();

    // Past the end: refused until the volume grows, then served on the
    // connection opened before.
    EXPECT_EQ(c->write(20ULL << 20, data[0].data(), 65536), -ERANGE);
    ASSERT_EQ(ctl->resize(ceph().pool, name_, 32ULL << 20), 0) << ctl->error();
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int res;
    while ((res = c->write(20ULL << 20, data[0].data(), 65536)) == -ERANGE &&
           std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(res, 0) << c->error();
    c.reset();
    ASSERT_EQ(ctl->remove(ceph().pool, name_), 0) << ctl->error();
    EXPECT_EQ(ctl->info(ceph().pool, name_, &v), -ENOENT);
}

// @len bytes at @off of the image, read by a Ceph client of its own (as
// `rbd export` reads it), or empty when the read failed.
std::vector<char> read_image(const std::string& image, uint64_t off, size_t len) {
    std::vector<char> out;
    rados_t cluster = nullptr;
    if (rados_create(&cluster, nullptr) < 0) return out;
    rados_ioctx_t io = nullptr;
    rbd_image_t img = nullptr;
    if (rados_conf_read_file(cluster, ceph().conf.c_str()) == 0 &&
        (ceph().keyring.empty() ||
         rados_conf_set(cluster, "keyring", ceph().keyring.c_str()) == 0) &&
        rados_connect(cluster) == 0 && rados_ioctx_create(cluster, ceph().pool.c_str(), &io) == 0 &&
        rbd_open_read_only(io, image.c_str(), &img, nullptr) == 0) {
        std::vector<char> buf(len);
        if (rbd_read(img, off, len, buf.data()) == static_cast<ssize_t>(len)) out = std::move(buf);
        rbd_close(img);
    }
    if (io) rados_ioctx_destroy(io);
    rados_shutdown(cluster);
    return out;
}

// What the gateway acknowledged is in the image for every Ceph client, not
// only for reads through the same gateway: writes at the start of the
// image and in later objects, FUA or followed by FLUSH.
TEST_F(RbdServer, AcknowledgedWritesAreInTheImage) {
    Gateway g;
    client::Volume v = create(g, 16ULL << 20);
    auto c = g.connect();
    ASSERT_EQ(c->open(v.id, v.epoch), 0) << c->error();
    auto head = pattern(65536, 7), later = pattern(65536, 8);
    ASSERT_EQ(c->write(0, head.data(), 65536), 0) << c->error();
    ASSERT_EQ(c->write(5ULL << 20, later.data(), 65536, true), 0) << c->error();
    ASSERT_EQ(c->flush(), 0) << c->error();
    EXPECT_EQ(read_image(name_, 0, 65536), head);
    EXPECT_EQ(read_image(name_, 5ULL << 20, 65536), later);
}

// Two gateways of one image, as a client with two paths uses them: IO
// moving to the second fences the first, whose later write is never
// answered as done; the data is the second's, and the first serves again
// once the client comes back to it.
TEST_F(RbdServer, TheGatewayTakenOverWritesNothingMore) {
    Gateway a, b;
    client::Volume v = create(a, 16ULL << 20);
    client::Volume seen;
    auto ctl = b.connect();
    ASSERT_EQ(ctl->info(ceph().pool, name_, &seen), 0) << ctl->error();
    EXPECT_EQ(seen.id, v.id) << "the gateways disagree on the volume's id";
    EXPECT_EQ(seen.paths, std::vector<std::string>{b.addr()});

    auto on_a = a.connect();
    auto on_b = b.connect();  // a standby path: OPEN takes nothing over
    ASSERT_EQ(on_a->open(v.id, v.epoch), 0) << on_a->error();
    ASSERT_EQ(on_b->open(v.id, v.epoch), 0) << on_b->error();
    auto first = pattern(4096, 1), second = pattern(4096, 2), stale = pattern(4096, 3);
    ASSERT_EQ(on_a->write(0, first.data(), 4096), 0) << on_a->error();
    ASSERT_EQ(on_b->write(0, second.data(), 4096), 0) << on_b->error();
    EXPECT_NE(on_a->write(0, stale.data(), 4096), 0) << "a fenced gateway answered a write";
    std::vector<char> back(4096);
    ASSERT_EQ(on_b->read(0, back.data(), 4096), 0) << on_b->error();
    EXPECT_EQ(back, second);
    EXPECT_TRUE(a.alive());

    // The client returns to A: a new OPEN gets a new Ceph handle.
    auto again = a.connect();
    ASSERT_EQ(again->open(v.id, v.epoch), 0) << again->error();
    ASSERT_EQ(again->read(0, back.data(), 4096), 0) << again->error();
    EXPECT_EQ(back, second);
    EXPECT_NE(on_b->write(0, stale.data(), 4096), 0);
    ASSERT_EQ(again->read(0, back.data(), 4096), 0) << again->error();
    EXPECT_EQ(back, second);
}

// One writer per volume across gateways: each gateway used to keep its
// claims to itself, so web2 mapping through gateway b got in while web1
// held the volume through gateway a.  The claims are records beside the
// image now, which every gateway checks.
TEST_F(RbdServer, OneWriterWhicheverGatewayAHostMapsThrough) {
    Gateway a, b;
    client::Volume v = create(a, 16ULL << 20);
    const HostKey web1{"web1", ""}, web2{"web2", ""};
    auto w1 = a.connect(web1);
    ASSERT_EQ(w1->open(v.id, v.epoch), 0) << w1->error();
    auto data = pattern(4096, 1);
    ASSERT_EQ(w1->write(0, data.data(), 4096), 0) << w1->error();
    auto w2 = b.connect(web2);
    EXPECT_EQ(w2->open(v.id, v.epoch), -EBUSY) << "web2 got in through the other gateway";
    w2 = b.connect(web2);
    EXPECT_EQ(w2->open(v.id, v.epoch, nullptr, QBD_REQ_SHARED), -EBUSY);
    // Gateway b names the holder it does not serve.
    std::vector<client::Holder> h;
    auto ctl = b.connect(web2);
    ASSERT_EQ(ctl->holders(ceph().pool, name_, &h), 0) << ctl->error();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].host_id, "web1");
    EXPECT_TRUE(h[0].elsewhere);
    // web1's standby path through b is the same writer.
    auto w1b = b.connect(web1);
    ASSERT_EQ(w1b->open(v.id, v.epoch), 0) << w1b->error();
    w1b.reset();

    // web2 takes it over through b: web1's gateway a writes nothing more
    // (Ceph's lock, broken by b's first write), and a refuses web1 now.
    w2 = b.connect(web2);
    ASSERT_EQ(w2->open(v.id, v.epoch, nullptr, QBD_REQ_TAKE_OVER), 0) << w2->error();
    auto fresh = pattern(4096, 2);
    ASSERT_EQ(w2->write(0, fresh.data(), 4096), 0) << w2->error();
    EXPECT_NE(w1->write(0, data.data(), 4096), 0) << "the host taken over still writes";
    auto again = a.connect(web1);
    EXPECT_EQ(again->open(v.id, v.epoch), -EBUSY) << "web1 got back in through its old gateway";

    // web2 unmaps (its connection ends, it releases through a gateway it
    // did not use): web1 gets in through a at once.
    w2.reset();
    auto rel = a.connect(web2);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int err;
    while ((err = rel->release(ceph().pool, name_)) == -EBUSY &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(err, 0) << rel->error();
    // b saw web2's connection close, or releases it now.
    auto rel_b = b.connect(web2);
    while ((err = rel_b->release(ceph().pool, name_)) == -EBUSY &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    again = a.connect(web1);
    EXPECT_EQ(again->open(v.id, v.epoch), 0) << again->error();
    std::vector<char> back(4096);
    ASSERT_EQ(again->read(0, back.data(), 4096), 0) << again->error();
    EXPECT_EQ(back, fresh);
}

// OPEN of an id no pool served holds, and a pool not served, are refused.
TEST_F(RbdServer, UnknownVolumesAndPools) {
    Gateway g;
    auto c = g.connect();
    EXPECT_EQ(c->open(12345, 1), -ENOENT);
    auto ctl = g.connect();
    client::Volume v;
    EXPECT_EQ(ctl->info("not-served", "x", &v), -ENOENT);
    EXPECT_NE(ctl->error().find("not-served"), std::string::npos) << ctl->error();
}

// A gateway that cannot reach Ceph starts, and refuses with a message
// that says so instead of hanging.
TEST_F(RbdServer, CephUnreachable) {
    std::string conf = testing::TempDir() + "/nowhere-" + name_ + ".conf";
    std::ofstream(conf) << "[global]\nmon host = v2:127.0.0.1:1,v1:127.0.0.1:2\n";
    Gateway g(conf, 2);
    auto c = g.connect();
    ASSERT_TRUE(c);
    client::Volume v;
    EXPECT_LT(c->info(ceph().pool, "x", &v), 0);
    EXPECT_NE(c->error().find("cannot reach Ceph"), std::string::npos) << c->error();
    auto d = g.connect();
    EXPECT_LT(d->open(12345, 1), 0);
    EXPECT_TRUE(g.alive());
    std::remove(conf.c_str());
}

}  // namespace
}  // namespace qbd
