// qbd-server as users run it: a child process on loopback with its own
// data directory, driven through the client library and raw sockets.
#include <arpa/inet.h>
#include <endian.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crc32c.h"
#include "old_catalog.h"
#include "qbd_client.h"
#include "test_support.h"

namespace qbd {
namespace {

using client::Client;

using test::free_port;

// A qbd-server child process.
class ServerProcess {
  public:
    // With a key for @me, the server has a keys file naming @me alone, and
    // connect() is @me.
    explicit ServerProcess(HostKey me = {}, const std::string& base = "/tmp") : me_(std::move(me)) {
        std::string tmpl = base + "/qbd-server-test-XXXXXX";
        dir_ = mkdtemp(tmpl.data());
        port_ = free_port();
        if (!me_.key.empty()) {
            std::ofstream(keys_file()) << "# the test's host\n"
                                       << me_.host_id << " " << me_.key << "\n";
            chmod(keys_file().c_str(), 0600);
        }
        run({"init", "--data-dir", dir_});
    }
    ~ServerProcess() {
        stop(SIGKILL);
        std::string cmd = "rm -rf " + dir_ + " " + keys_file();
        if (system(cmd.c_str())) {
        }
    }
    std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }
    const std::string& data_dir() const { return dir_; }
    std::string keys_file() const { return dir_ + ".keys"; }
    void start(std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"serve", "--data-dir", dir_, "--listen", addr()};
        if (!me_.key.empty()) args.insert(args.end(), {"--keys-file", keys_file()});
        args.insert(args.end(), extra.begin(), extra.end());
        launch(args);
    }
    // Runs `qbd-server ARGS...`, which must come to serve addr().
    void launch(const std::vector<std::string>& args) {
        pid_ = spawn(args);
        for (int i = 0; i < 100; i++) {
            std::unique_ptr<Client> c;
            std::string err;
            if (Client::connect(addr(), me_, 1000, &c, &err) != -ECONNREFUSED) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ADD_FAILURE() << "server did not start";
    }
    void stop(int sig) {
        if (pid_ <= 0) return;
        kill(pid_, sig);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    std::unique_ptr<Client> connect(const HostKey& me) const {
        std::unique_ptr<Client> c;
        std::string err;
        EXPECT_EQ(Client::connect(addr(), me, 5000, &c, &err), 0) << err;
        return c;
    }
    std::unique_ptr<Client> connect() const { return connect(me_); }
    // How connecting as @me ends: 0 or the error, its message in @err.
    int try_connect(const HostKey& me, std::string* err) const {
        std::unique_ptr<Client> c;
        return Client::connect(addr(), me, 2000, &c, err);
    }
    pid_t pid() const { return pid_; }
    // How `qbd-server ARGS...` exits.
    static int exit_code(const std::vector<std::string>& args) {
        pid_t pid = spawn(args);
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

  private:
    static pid_t spawn(const std::vector<std::string>& args) {
        pid_t pid = fork();
        if (pid == 0) {
            std::vector<char*> argv{const_cast<char*>(QBD_SERVER_BINARY)};
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            if (!getenv("QBD_TEST_VERBOSE")) freopen("/dev/null", "w", stderr);
            execv(QBD_SERVER_BINARY, argv.data());
            _exit(127);
        }
        return pid;
    }
    static void run(const std::vector<std::string>& args) {
        pid_t pid = spawn(args);
        int status = 0;
        waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    std::string dir_;
    HostKey me_;
    uint16_t port_;
    pid_t pid_ = -1;
};

using test::pattern;

// A volume created on @s, as CTL_INFO describes it.
client::Volume create_volume(ServerProcess& s, const std::string& name, uint64_t size,
                             uint64_t shard = 0) {
    auto ctl = s.connect();
    EXPECT_EQ(ctl->create("pool", name, size, shard), 0) << ctl->error();
    client::Volume v;
    EXPECT_EQ(ctl->info("pool", name, &v), 0) << ctl->error();
    return v;
}

// A volume created and opened for data on @s.
std::unique_ptr<Client> open_volume(ServerProcess& s, const std::string& name, uint64_t size,
                                    uint64_t shard) {
    client::Volume v = create_volume(s, name, size, shard);
    auto data = s.connect();
    EXPECT_EQ(data->open(v.id, v.epoch), 0) << data->error();
    return data;
}

// The data path on two kinds of backing file: one that can do non-blocking
// IO (the host's /tmp: the server uses io_uring) and tmpfs, which cannot
// (the connection thread does the IO itself).
class ServerData : public testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(Backing, ServerData, testing::Values("/tmp", "/dev/shm"));

TEST_P(ServerData, DataRoundTripAcrossShardBoundaries) {
    ServerProcess s({}, GetParam());
    s.start();
    auto c = open_volume(s, "rt", 8 << 20, 1 << 20);
    auto data = pattern(3 << 20, 1);
    ASSERT_EQ(c->write((1 << 20) - 4096, data.data(), static_cast<uint32_t>(data.size())), 0);
    std::vector<char> back(data.size());
    ASSERT_EQ(c->read((1 << 20) - 4096, back.data(), static_cast<uint32_t>(back.size())), 0);
    EXPECT_EQ(data, back);
    // Unwritten space reads as zeros; discard and write-zeroes make zeros.
    std::vector<char> z(4096, 1);
    ASSERT_EQ(c->read(7 << 20, z.data(), 4096), 0);
    EXPECT_EQ(z, std::vector<char>(4096, 0));
    ASSERT_EQ(c->discard(1 << 20, 1 << 20), 0);
    ASSERT_EQ(c->write_zeroes(2 << 20, 4096), 0);
    ASSERT_EQ(c->read(2 << 20, z.data(), 4096), 0);
    EXPECT_EQ(z, std::vector<char>(4096, 0));
    EXPECT_EQ(c->flush(), 0);
    EXPECT_EQ(c->heartbeat(), 0);
}

TEST_P(ServerData, PipelinedRequestsComplete) {
    ServerProcess s({}, GetParam());
    s.start();
    auto c = open_volume(s, "qd", 16 << 20, 4 << 20);
    std::vector<std::vector<char>> bufs;
    for (int i = 0; i < 32; i++) bufs.push_back(pattern(4096, static_cast<unsigned>(i)));
    for (int i = 0; i < 32; i++)
        ASSERT_EQ(
            c->submit(QBD_OP_WRITE, static_cast<uint64_t>(i) * 8192, bufs[i].data(), 4096, 0, i),
            0);
    for (int i = 0; i < 32; i++) {
        uint64_t tag;
        int status;
        ASSERT_EQ(c->reap(&tag, &status), 0);
        EXPECT_EQ(status, 0);
    }
    std::vector<std::vector<char>> back(32, std::vector<char>(4096));
    for (int i = 0; i < 32; i++)
        ASSERT_EQ(c->submit(QBD_OP_READ, static_cast<uint64_t>(i) * 8192, back[i].data(), 4096, 0,
                            100 + i),
                  0);
    for (int i = 0; i < 32; i++) {
        uint64_t tag;
        int status;
        ASSERT_EQ(c->reap(&tag, &status), 0);
        ASSERT_EQ(status, 0);
    }
    EXPECT_EQ(back, bufs);
}

TEST(Server, ConcurrentWritersOnDifferentVolumes) {
    ServerProcess s;
    s.start();
    std::vector<std::thread> threads;
    std::vector<int> failures(4, 0);
    for (int t = 0; t < 4; t++) {
        threads.emplace_back([&, t] {
            auto c = open_volume(s, "conc" + std::to_string(t), 4 << 20, 1 << 20);
            for (int i = 0; i < 50; i++) {
                auto d = pattern(65536, static_cast<unsigned>(t * 1000 + i));
                uint64_t off = static_cast<uint64_t>(i % 60) * 65536;
                std::vector<char> back(d.size());
                if (c->write(off, d.data(), 65536) || c->read(off, back.data(), 65536) || back != d)
                    failures[t]++;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// A crash of the server process loses nothing it acknowledged, FUA or not:
// the page cache outlives the process, and the restarted server finds the
// volume in its catalog and its data in the file.  What a power cut keeps
// (only FUA and flushed writes) is tests/vm/scenarios/52-power-cut.sh.
TEST(Server, AcknowledgedWritesAreReadBackAfterTheServerIsKilled) {
    ServerProcess s;
    s.start();
    uint64_t id;
    auto plain = pattern(65536, 6), fua = pattern(65536, 7), flushed = pattern(65536, 8);
    {
        auto c = open_volume(s, "durable", 4 << 20, 1 << 20);
        auto ctl = s.connect();
        client::Volume v;
        ASSERT_EQ(ctl->info("pool", "durable", &v), 0);
        id = v.id;
        ASSERT_EQ(c->write(0, fua.data(), 65536, true), 0);
        ASSERT_EQ(c->write(1 << 20, flushed.data(), 65536), 0);
        ASSERT_EQ(c->flush(), 0);
        ASSERT_EQ(c->write(2 << 20, plain.data(), 65536), 0);
    }
    s.stop(SIGKILL);
    s.start();
    auto c = s.connect();
    ASSERT_EQ(c->open(id, 1), 0) << c->error();
    std::vector<char> back(65536);
    ASSERT_EQ(c->read(0, back.data(), 65536), 0);
    EXPECT_EQ(back, fua);
    ASSERT_EQ(c->read(1 << 20, back.data(), 65536), 0);
    EXPECT_EQ(back, flushed);
    ASSERT_EQ(c->read(2 << 20, back.data(), 65536), 0);
    EXPECT_EQ(back, plain);
}

// Session fencing (the ghost write): client slot 42 writes A, which the
// server stalls; the client gives up on that connection, reconnects as the
// slot's next incarnation and writes B to the same block.  A must never
// land after B, and the old connection is closed without an answer.
TEST_P(ServerData, AResentWriteIsNeverOvertakenByItsStaleCopy) {
    constexpr uint64_t kBlock = 1 << 20;
    ServerProcess s({}, GetParam());
    s.start({"--fault", "stall-write=" + std::to_string(kBlock) + ":1500"});
    client::Volume v = create_volume(s, "ghost", 4 << 20);
    auto old_conn = s.connect();
    ASSERT_EQ(old_conn->open(v.id, v.epoch, nullptr, 0, {42, 1}), 0) << old_conn->error();
    auto a = pattern(4096, 1), b = pattern(4096, 2);
    ASSERT_EQ(old_conn->submit(QBD_OP_WRITE, kBlock, a.data(), 4096, 0, 1), 0);
    // Its thread now holds A (the stall) while the reconnect comes.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto new_conn = s.connect();
    ASSERT_EQ(new_conn->open(v.id, v.epoch, nullptr, 0, {42, 2}), 0) << new_conn->error();
    ASSERT_EQ(new_conn->write(kBlock, b.data(), 4096), 0);
    // Once the stall is over the old connection ends, unanswered.
    uint64_t tag;
    int status = 0;
    EXPECT_NE(old_conn->reap(&tag, &status), 0)
        << "the fenced write was answered, status " << status;
    std::vector<char> back(4096);
    ASSERT_EQ(new_conn->read(kBlock, back.data(), 4096), 0);
    EXPECT_EQ(back, b) << "the stale write landed over newer data";
}

TEST(Server, AReadOnlyOpenServesReadsAndRefusesWrites) {
    ServerProcess s;
    s.start();
    client::Volume v = create_volume(s, "ro", 1 << 20);
    auto rw = s.connect();
    ASSERT_EQ(rw->open(v.id, v.epoch), 0) << rw->error();
    auto d = pattern(4096, 4);
    ASSERT_EQ(rw->write(0, d.data(), 4096), 0);
    auto ro = s.connect();
    ASSERT_EQ(ro->open(v.id, v.epoch, nullptr, QBD_REQ_READ_ONLY), 0) << ro->error();
    std::vector<char> back(4096);
    ASSERT_EQ(ro->read(0, back.data(), 4096), 0);
    EXPECT_EQ(back, d);
    auto other = pattern(4096, 5);
    EXPECT_EQ(ro->write(0, other.data(), 4096), -EROFS);
    EXPECT_EQ(ro->discard(0, 4096), -EROFS);
    EXPECT_EQ(ro->write_zeroes(0, 4096), -EROFS);
    EXPECT_EQ(ro->flush(), 0);
    ASSERT_EQ(ro->read(0, back.data(), 4096), 0);
    EXPECT_EQ(back, d);
}

TEST(Server, AnOpenOlderThanTheSlotsNewestIsRefused) {
    ServerProcess s;
    s.start();
    client::Volume v = create_volume(s, "inc", 1 << 20);
    auto newest = s.connect();
    ASSERT_EQ(newest->open(v.id, v.epoch, nullptr, 0, {42, 5}), 0) << newest->error();
    auto late = s.connect();
    EXPECT_EQ(late->open(v.id, v.epoch, nullptr, 0, {42, 4}), -ESTALE);
    auto replay = s.connect();
    EXPECT_EQ(replay->open(v.id, v.epoch, nullptr, 0, {42, 5}), -ESTALE);
    // The newest goes on serving.
    EXPECT_EQ(newest->heartbeat(), 0);
    std::vector<char> z(4096);
    EXPECT_EQ(newest->read(0, z.data(), 4096), 0);
}

// One writer per volume (writer_claims.h), through the server: a second
// host's read-write OPEN is refused while the first holds the volume, and
// CTL_HOLDERS names the holder; reads need no claim; the holder's release
// lets the second in at once.
TEST(ServerOneWriter, ASecondHostIsRefusedWhileTheFirstHoldsTheVolume) {
    ServerProcess s;
    s.start({"--claim-grace", "600"});
    client::Volume v = create_volume(s, "claimed", 1 << 20);
    const HostKey web1{"web1", ""}, web2{"web2", ""};
    auto a = s.connect(web1);
    ASSERT_EQ(a->open(v.id, v.epoch), 0) << a->error();
    auto a2 = s.connect(web1);  // the same host's other queues
    ASSERT_EQ(a2->open(v.id, v.epoch), 0) << a2->error();
    auto b = s.connect(web2);
    EXPECT_EQ(b->open(v.id, v.epoch), -EBUSY);
    EXPECT_EQ(b->open(v.id, v.epoch, nullptr, QBD_REQ_SHARED), -EBUSY);
    auto ro = s.connect(web2);
    EXPECT_EQ(ro->open(v.id, v.epoch, nullptr, QBD_REQ_READ_ONLY), 0) << ro->error();

    auto ctl = s.connect(web2);
    std::vector<client::Holder> h;
    ASSERT_EQ(ctl->holders("pool", "claimed", &h), 0) << ctl->error();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].host_id, "web1");
    EXPECT_FALSE(h[0].shared);
    EXPECT_EQ(h[0].connections, 2u);
    EXPECT_EQ(ctl->holders("pool", "nosuch", &h), -ENOENT);
    // Only the holder releases, and only once its connections are closed.
    EXPECT_EQ(ctl->release("pool", "claimed"), -ENOENT);
    auto ctl1 = s.connect(web1);
    EXPECT_EQ(ctl1->release("pool", "claimed"), -EBUSY);

    // web1's connections end (an unmap): its claim stays for the grace
    // period, so web2 is still refused...
    a.reset();
    a2.reset();
    for (int i = 0; i < 200; i++) {  // the server sees them close in its own time
        ASSERT_EQ(ctl->holders("pool", "claimed", &h), 0) << ctl->error();
        ASSERT_EQ(h.size(), 1u);
        if (h[0].connections == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(h[0].connections, 0u);
    auto b2 = s.connect(web2);
    EXPECT_EQ(b2->open(v.id, v.epoch), -EBUSY);
    // ...until web1 releases it.
    EXPECT_EQ(ctl1->release("pool", "claimed"), 0) << ctl1->error();
    b2 = s.connect(web2);
    EXPECT_EQ(b2->open(v.id, v.epoch), 0) << b2->error();
    auto d = pattern(4096, 9);
    EXPECT_EQ(b2->write(0, d.data(), 4096), 0);
}

// A claim whose host stays away expires after the grace period; hosts that
// all ask for sharing share; a take-over fences the holder's connection:
// its writes no longer reach the disk.
TEST(ServerOneWriter, SharingExpiryAndTakeOver) {
    ServerProcess s;
    s.start({"--claim-grace", "1"});
    client::Volume v = create_volume(s, "shared", 1 << 20);
    const HostKey web1{"web1", ""}, web2{"web2", ""}, web3{"web3", ""};
    {
        auto a = s.connect(web1);
        ASSERT_EQ(a->open(v.id, v.epoch), 0) << a->error();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    auto b = s.connect(web2);
    ASSERT_EQ(b->open(v.id, v.epoch, nullptr, QBD_REQ_SHARED), 0) << b->error();
    auto c = s.connect(web3);
    ASSERT_EQ(c->open(v.id, v.epoch, nullptr, QBD_REQ_SHARED), 0) << c->error();
    auto x = s.connect(web1);
    EXPECT_EQ(x->open(v.id, v.epoch), -EBUSY);

    x = s.connect(web1);
    ASSERT_EQ(x->open(v.id, v.epoch, nullptr, QBD_REQ_TAKE_OVER), 0) << x->error();
    auto stale = pattern(4096, 1);
    EXPECT_NE(b->write(0, stale.data(), 4096), 0);  // fenced: closed unanswered
    auto fresh = pattern(4096, 2);
    ASSERT_EQ(x->write(0, fresh.data(), 4096), 0);
    std::vector<char> back(4096);
    ASSERT_EQ(x->read(0, back.data(), 4096), 0);
    EXPECT_EQ(back, fresh);
    auto again = s.connect(web2);
    EXPECT_EQ(again->open(v.id, v.epoch, nullptr, QBD_REQ_SHARED), -EBUSY);
}

// A wait for io_uring completions that fails must not answer the requests
// it did not see complete as done.
TEST(Server, AFailedRingWaitAnswersAnErrorNotSuccess) {
    ServerProcess s;  // the host's /tmp: IO goes through the ring
    s.start({"--fault", "ring-wait-fails"});
    client::Volume v = create_volume(s, "ring", 1 << 20);
    auto c = s.connect();
    ASSERT_EQ(c->open(v.id, v.epoch), 0) << c->error();
    auto d = pattern(4096, 3);
    int status = c->write(0, d.data(), 4096);
    EXPECT_LT(status, 0) << "a write whose completion was never seen was acknowledged";
    // The ring is not trusted again: the connection is closed.
    EXPECT_NE(c->heartbeat(), 0);
}

// skip-flush and skip-fua lie only to a power cut (52-power-cut.sh shows
// it): FLUSH and FUA writes are answered as done, on the ring and inline.
TEST_P(ServerData, TheDurabilityFaultsAnswerFlushAndFuaAsDone) {
    ServerProcess s({}, GetParam());
    s.start({"--fault", "skip-flush", "--fault", "skip-fua"});
    auto c = open_volume(s, "lie", 1 << 20, 0);
    auto d = pattern(4096, 9);
    ASSERT_EQ(c->write(0, d.data(), 4096, true), 0) << c->error();
    EXPECT_EQ(c->flush(), 0) << c->error();
    std::vector<char> back(4096);
    ASSERT_EQ(c->read(0, back.data(), 4096), 0);
    EXPECT_EQ(back, d);
}

TEST(Server, UnknownFaultsAreRefused) {
    ServerProcess s;
    EXPECT_EQ(ServerProcess::exit_code({"serve", "--data-dir", s.data_dir(), "--listen", s.addr(),
                                        "--fault", "stall-write=1"}),
              2);
    EXPECT_EQ(ServerProcess::exit_code({"serve", "--data-dir", s.data_dir(), "--listen", s.addr(),
                                        "--fault", "no-such-fault"}),
              2);
}

const HostKey kWeb1{"web1", "web1-key-0123456789abcdef"};

// A server with keys lets in the hosts it has a key for, each proving its
// own key, and no one else.
TEST(ServerAuth, OnlyKnownHostsWithTheirKeysGetIn) {
    ServerProcess s(kWeb1);
    s.start();
    std::string err;
    EXPECT_EQ(s.try_connect({}, &err), -EACCES) << err;
    EXPECT_EQ(s.try_connect({"web2", kWeb1.key}, &err), -EACCES) << err;
    EXPECT_NE(err.find("no key for host web2"), std::string::npos) << err;
    EXPECT_EQ(s.try_connect({"web1", "web1-key-0123456789abcdeX"}, &err), -EACCES) << err;
    EXPECT_NE(err.find("failed to prove"), std::string::npos) << err;
    auto c = s.connect();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->create("pool", "auth", 1 << 20, 0), 0) << c->error();
}

// A client with a key refuses a server that cannot prove it knows it: a
// server without keys (anyone could run one at that address), or one that
// has another key for the host.
TEST(ServerAuth, ClientRefusesServerThatCannotProveItsKey) {
    std::string err;
    {
        ServerProcess s;
        s.start();
        EXPECT_EQ(s.try_connect(kWeb1, &err), -EACCES);
        EXPECT_NE(err.find("cannot prove"), std::string::npos) << err;
    }
    ServerProcess s({"web1", "another-key-0123456789abcdef"});
    s.start();
    EXPECT_EQ(s.try_connect(kWeb1, &err), -EACCES);
    EXPECT_NE(err.find("failed to prove"), std::string::npos) << err;
}

// remove-host revokes a host at once: its next connection is refused,
// without a restart; add-host lets a new one in the same way.
TEST(ServerAuth, KeysFileChangesApplyAtTheNextConnection) {
    ServerProcess s(kWeb1);
    s.start();
    std::string err;
    ASSERT_EQ(s.try_connect(kWeb1, &err), 0) << err;
    EXPECT_EQ(ServerProcess::exit_code({"remove-host", "web1", "--keys-file", s.keys_file()}), 0);
    EXPECT_EQ(s.try_connect(kWeb1, &err), -EACCES) << err;
    EXPECT_EQ(ServerProcess::exit_code({"remove-host", "web1", "--keys-file", s.keys_file()}), 1);

    std::string key;
    ASSERT_EQ(add_host_key(s.keys_file(), "web2", &key, &err), 0) << err;
    EXPECT_EQ(s.try_connect({"web2", key}, &err), 0) << err;
    EXPECT_EQ(ServerProcess::exit_code({"add-host", "web2", "--keys-file", s.keys_file()}), 1);
}

// Authentication is on unless the operator turns it off: a server that
// would listen on a network address without keys does not start, nor one
// that would tell clients a wildcard address.
TEST(ServerAuth, NoUnauthenticatedNetworkListener) {
    ServerProcess s;
    const std::string port = s.addr().substr(s.addr().find(':'));
    const std::string any = "0.0.0.0" + port;
    EXPECT_EQ(ServerProcess::exit_code(
                  {"serve", "--data-dir", s.data_dir(), "--listen", any, "--advertise", s.addr()}),
              2);
    // A wildcard is no address to connect to.
    EXPECT_EQ(ServerProcess::exit_code({"serve", "--data-dir", s.data_dir(), "--listen", any,
                                        "--allow-unauthenticated"}),
              2);
    // A keys file others may read is refused before anything listens.
    std::ofstream(s.keys_file()) << "web1 " << kWeb1.key << "\n";
    chmod(s.keys_file().c_str(), 0644);
    EXPECT_EQ(ServerProcess::exit_code({"serve", "--data-dir", s.data_dir(), "--listen", s.addr(),
                                        "--keys-file", s.keys_file()}),
              2);
}

// The explicit opt-out serves, as loopback without keys does.
TEST(ServerAuth, AllowUnauthenticatedServesTheNetwork) {
    ServerProcess s;
    const std::string any = "0.0.0.0" + s.addr().substr(s.addr().find(':'));
    s.launch({"serve", "--data-dir", s.data_dir(), "--listen", any, "--advertise", s.addr(),
              "--allow-unauthenticated"});
    auto c = s.connect();
    ASSERT_TRUE(c);
    client::Volume v = create_volume(s, "open", 1 << 20);
    EXPECT_EQ(v.paths, std::vector<std::string>{s.addr()});
}

TEST(Server, ControlOperations) {
    ServerProcess s;
    s.start();
    auto c = s.connect();
    ASSERT_EQ(c->create("pool", "a", 10 << 20, 4 << 20), 0);
    EXPECT_EQ(c->create("pool", "a", 10 << 20, 4 << 20), -EEXIST);
    EXPECT_EQ(c->create("pool", "bad", 1000, 0), -EINVAL);
    EXPECT_EQ(c->create("pool", "bad", 1 << 20, 3000), -EINVAL);
    EXPECT_EQ(c->create("po/ol", "bad", 1 << 20, 0), -EINVAL);
    client::Volume v;
    ASSERT_EQ(c->info("pool", "a", &v), 0);
    EXPECT_EQ(v.size, 10u << 20);
    EXPECT_EQ(v.shard_size, 4u << 20);
    EXPECT_EQ(v.paths, std::vector<std::string>{s.addr()});  // this server, its only path
    EXPECT_EQ(c->resize("pool", "a", 4 << 20), -EINVAL);     // shrink
    ASSERT_EQ(c->resize("pool", "a", 20 << 20), 0);
    ASSERT_EQ(c->info("pool", "a", &v), 0);
    EXPECT_EQ(v.size, 20u << 20);
    std::vector<client::Volume> vols;
    ASSERT_EQ(c->list("", &vols), 0);
    ASSERT_EQ(vols.size(), 1u);
    EXPECT_EQ(vols[0].id, v.id);
    EXPECT_TRUE(vols[0].paths.empty());
    ASSERT_EQ(c->remove("pool", "a"), 0);
    EXPECT_EQ(c->info("pool", "a", &v), -ENOENT);
    EXPECT_EQ(c->remove("pool", "a"), -ENOENT);
}

// CTL_INFO names the address the server advertises, which is the path a
// client connects to, not the one it listens on (0.0.0.0, a NAT).
TEST(Server, InfoAnswersTheAdvertisedAddressAsThePath) {
    ServerProcess s;
    s.start({"--advertise", "192.0.2.7:7900"});
    client::Volume v = create_volume(s, "adv", 1 << 20);
    EXPECT_EQ(v.paths, std::vector<std::string>{"192.0.2.7:7900"});
}

// What the retired cluster took: the options are unknown and the wire
// calls get an answer that says so, on a connection that goes on serving.
TEST(Server, TheRetiredClusterIsRefused) {
    EXPECT_EQ(ServerProcess::exit_code({"serve", "--data-dir", "/nonexistent", "--listen",
                                        "127.0.0.1:1", "--peer", "127.0.0.1:2"}),
              2);
    EXPECT_EQ(ServerProcess::exit_code(
                  {"create", "p/v", "1M", "--replicas", "2", "--data-dir", "/nonexistent"}),
              2);
    EXPECT_EQ(
        ServerProcess::exit_code({"move", "p/v", "0", "127.0.0.1:2", "--data-dir", "/nonexistent"}),
        2);
    ServerProcess s;
    s.start();
    auto c = s.connect();
    qbd_ctl_create cr{};
    client::put_fixed(cr.name.pool, QBD_NAME_MAX, "pool");
    client::put_fixed(cr.name.volume, QBD_NAME_MAX, "two");
    cr.size = htole64(1 << 20);
    cr.reserved[0] = 2;  // where the replica count was
    EXPECT_EQ(c->call(QBD_OP_CTL_CREATE, 0, &cr, sizeof(cr), nullptr), -EINVAL);
    EXPECT_NE(c->error().find("md RAID1"), std::string::npos) << c->error();
    std::vector<char> payload(208);
    for (uint16_t op : {37, 38})  // CTL_ADOPT, CTL_MOVE
        EXPECT_EQ(c->call(op, 0, payload.data(), static_cast<uint32_t>(payload.size()), nullptr),
                  -EOPNOTSUPP)
            << op;
    EXPECT_EQ(c->call(QBD_OP_CTL_CREATE, 1U << 2, &cr, sizeof(cr), nullptr), -EINVAL)
        << "the retired FORWARDED flag is an unknown flag";
    std::vector<client::Volume> vols;
    EXPECT_EQ(c->list("", &vols), 0);
    EXPECT_TRUE(vols.empty());
}

// A connection opened before the volume grew reads and writes the new
// space at once, before any IO inside the old size refreshed its view
// (resize2fs reads the new last block first thing).
TEST(Server, GrowthIsSeenByConnectionsAlreadyOpen) {
    ServerProcess s;
    s.start();
    auto c = open_volume(s, "grow", 4 << 20, 1 << 20);
    auto ctl = s.connect();
    ASSERT_EQ(ctl->resize("pool", "grow", 8 << 20), 0) << ctl->error();
    std::vector<char> buf = pattern(4096, 7), back(4096);
    EXPECT_EQ(c->write((8 << 20) - 4096, buf.data(), 4096), 0);
    EXPECT_EQ(c->read((8 << 20) - 4096, back.data(), 4096), 0);
    EXPECT_EQ(back, buf);
    EXPECT_EQ(c->read(8 << 20, back.data(), 4096), -ERANGE);
}

// Threads of process `pid` that are running or runnable.
int running_threads(pid_t pid) {
    int n = 0;
    std::error_code ec;
    for (const auto& t :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream f(t.path() / "stat");
        std::string line;
        std::getline(f, line);
        // The state follows the command name, which ends with the last ')'.
        size_t close = line.rfind(')');
        if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'R') n++;
    }
    return n;
}

// --busy-poll: a connection served one request at a time keeps its thread
// polling for the next request for the poll's length after each answer,
// then sleeps; requests are answered from the poll and from the sleep
// alike, and a client that goes away while it is polled is let go.
TEST(Server, BusyPollingPollsBetweenSingleRequestsThenSleeps) {
    ServerProcess s;
    s.start({"--busy-poll", "10000"});
    auto c = open_volume(s, "poll", 1 << 20, 1 << 20);
    std::vector<char> back(4096);
    auto round_trip = [&](int i) {
        std::vector<char> data = pattern(4096, static_cast<unsigned>(i));
        ASSERT_EQ(c->write(uint64_t(i % 64) * 4096, data.data(), 4096), 0);
        ASSERT_EQ(c->read(uint64_t(i % 64) * 4096, back.data(), 4096), 0);
        ASSERT_EQ(back, data) << i;
    };
    // Two windows of single requests: judged latency-bound.
    for (int i = 0; i < 2 * 64; i++) ASSERT_NO_FATAL_FAILURE(round_trip(i));
    EXPECT_GE(running_threads(s.pid()), 1) << "nothing polls right after an answer";
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(running_threads(s.pid()), 0) << "still polling long after the last answer";
    // From the sleep, then from the poll again.
    for (int i = 0; i < 8; i++) ASSERT_NO_FATAL_FAILURE(round_trip(1000 + i));
    c.reset();
    auto d = open_volume(s, "after", 1 << 20, 1 << 20);
    EXPECT_EQ(d->heartbeat(), 0);
}

TEST(Server, BusyPollTakesMicrosecondsUpToTenThousand) {
    for (const char* bad : {"x", "-1", "10001", "5us", ""})
        EXPECT_EQ(ServerProcess::exit_code({"serve", "--data-dir", "/nonexistent", "--listen",
                                            "127.0.0.1:1", "--busy-poll", bad}),
                  2)
            << bad;
}

// Raw bytes at the server: it must drop or answer, and stay up.
class RawSocket {
  public:
    explicit RawSocket(const ServerProcess& s) {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        std::string a = s.addr();
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(static_cast<uint16_t>(std::stoi(a.substr(a.find(':') + 1))));
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connect(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
        timeval tv{5, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    ~RawSocket() { close(fd_); }
    void send_bytes(const void* p, size_t n) { (void)!::send(fd_, p, n, MSG_NOSIGNAL); }
    // True when the server closed the connection.
    bool closed() {
        char b[256];
        for (;;) {
            ssize_t n = recv(fd_, b, sizeof(b), 0);
            if (n == 0) return true;
            if (n < 0) return errno != EAGAIN;
        }
    }
    int fd_;
};

qbd_req_hdr raw_hdr(uint16_t op, uint32_t len) {
    qbd_req_hdr h{};
    h.magic = htole32(QBD_PROTO_MAGIC);
    h.version = htole16(QBD_PROTO_VERSION);
    h.opcode = htole16(op);
    h.length = htole32(len);
    return h;
}

void expect_server_alive(ServerProcess& s) {
    auto c = s.connect();
    std::vector<client::Volume> vols;
    EXPECT_EQ(c->list("", &vols), 0);
}

TEST(Server, VolumeOnAnExistingDevice) {
    ServerProcess s;
    std::string dev = "/tmp/qbd-device-test-" + std::to_string(getpid());
    unlink(dev.c_str());
    { std::ofstream(dev).put('\0'); }
    ASSERT_EQ(truncate(dev.c_str(), 8 << 20), 0);
    std::string cmd = std::string(QBD_SERVER_BINARY) + " create pool/raw 4M --device " + dev +
                      " --data-dir " + s.data_dir() + " >/dev/null";
    ASSERT_EQ(system(cmd.c_str()), 0);
    // A device smaller than the volume is refused.
    cmd = std::string(QBD_SERVER_BINARY) + " create pool/big 16M --device " + dev + " --data-dir " +
          s.data_dir() + " 2>/dev/null";
    ASSERT_NE(system(cmd.c_str()), 0);
    s.start();
    auto ctl = s.connect();
    client::Volume v;
    ASSERT_EQ(ctl->info("pool", "raw", &v), 0);
    auto c = s.connect();
    ASSERT_EQ(c->open(v.id, v.epoch), 0);
    auto data = pattern(65536, 3);
    ASSERT_EQ(c->write(1 << 20, data.data(), 65536, true), 0);
    // The bytes are in the device itself, at the volume's offset.
    std::ifstream in(dev, std::ios::binary);
    in.seekg(1 << 20);
    std::vector<char> back(65536);
    in.read(back.data(), 65536);
    EXPECT_EQ(back, data);
    ASSERT_EQ(ctl->remove("pool", "raw"), 0);
    EXPECT_EQ(access(dev.c_str(), F_OK), 0);  // deleting the volume keeps the device
    unlink(dev.c_str());
}

// A data directory a member of the retired --peer cluster wrote, with a
// volume a killed mover left fenced, opens and serves its data: the
// volume's id, size and epoch as they were, this server as its path.
TEST(Server, ADataDirectoryFromTheClusterServesItsVolumes) {
    ServerProcess s;
    const std::string dir = s.data_dir();
    for (const char* f : {"/catalog.db", "/catalog.db-wal", "/catalog.db-shm"})
        unlink((dir + f).c_str());
    ASSERT_EQ(test::write_old_catalog(dir + "/catalog.db", true,
                                      "INSERT INTO volumes VALUES "
                                      "(21, 'pool', 'old', 2097152, 1048576, 4, 1, '', 1);"
                                      "INSERT INTO placement VALUES (21, 0, 0, '127.0.0.1:1'),"
                                      " (21, 1, 0, '127.0.0.1:1');"),
              "");
    auto data = pattern(1 << 20, 21);
    {
        std::ofstream img(dir + "/volumes/21.img", std::ios::binary);
        img.seekp(1 << 20);
        img.write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    s.start();
    client::Volume v;
    auto ctl = s.connect();
    ASSERT_EQ(ctl->info("pool", "old", &v), 0) << ctl->error();
    EXPECT_EQ(v.id, 21u);
    EXPECT_EQ(v.size, 2u << 20);
    EXPECT_EQ(v.epoch, 4u);
    EXPECT_EQ(v.paths, std::vector<std::string>{s.addr()});
    auto c = s.connect();
    ASSERT_EQ(c->open(v.id, v.epoch), 0) << c->error();  // no longer fenced
    std::vector<char> back(1 << 20);
    ASSERT_EQ(c->read(1 << 20, back.data(), static_cast<uint32_t>(back.size())), 0);
    EXPECT_EQ(back, data);
    ASSERT_EQ(c->write(0, data.data(), 4096), 0);
    // New volumes beside it.
    client::Volume n = create_volume(s, "new", 1 << 20);
    EXPECT_NE(n.id, v.id);
}

// What "serve --rdma" of the server under test prints; its exit status in
// *status.
static std::string serve_rdma(ServerProcess& s, int* status) {
    std::string cmd = "timeout 20 " + std::string(QBD_SERVER_BINARY) + " serve --data-dir " +
                      s.data_dir() + " --listen " + s.addr() + " --rdma 2>&1";
    FILE* out = popen(cmd.c_str(), "r");
    if (!out) return "popen failed";
    std::string text;
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof(buf), out)) text.append(buf, n);
    *status = pclose(out);
    return text;
}

#ifdef QBD_HAVE_RDMA
// Without an RDMA device, --rdma is a configuration error: serve stops at
// start with one message naming the address, instead of serving TCP only.
TEST(ServerRdma, ServeFailsAtStartWhenNoDeviceCanReachTheAddress) {
    std::error_code ec;
    std::filesystem::directory_iterator devs("/sys/class/infiniband", ec);
    if (!ec && devs != std::filesystem::directory_iterator())
        GTEST_SKIP() << "this host has an RDMA device";
    ServerProcess s;
    int status = 0;
    std::string text = serve_rdma(s, &status);
    ASSERT_TRUE(WIFEXITED(status)) << text;
    EXPECT_EQ(WEXITSTATUS(status), 1) << text;
    EXPECT_NE(text.find("--rdma: no RDMA device can reach " + s.addr() + ": "), std::string::npos)
        << text;
}
#else
// Built without rdma-core (QBD_RDMA=OFF): --rdma stops serve at start and
// says that RDMA was not built in, instead of serving TCP only.
TEST(ServerRdma, ServeSaysRdmaIsNotBuiltIn) {
    ServerProcess s;
    int status = 0;
    std::string text = serve_rdma(s, &status);
    ASSERT_TRUE(WIFEXITED(status)) << text;
    EXPECT_EQ(WEXITSTATUS(status), 1) << text;
    EXPECT_NE(text.find("--rdma: RDMA support was not built in"), std::string::npos) << text;
}
#endif

TEST(ServerBadInput, GarbageAndShortHeadersAreDropped) {
    ServerProcess s;
    s.start();
    {
        RawSocket r(s);
        r.send_bytes("GET / HTTP/1.0\r\n\r\n", 18);
        char junk[64];
        memset(junk, 0xff, sizeof(junk));
        r.send_bytes(junk, sizeof(junk));
        EXPECT_TRUE(r.closed());
    }
    {
        RawSocket r(s);
        r.send_bytes("QBDP", 4);  // short header, then vanish
    }
    expect_server_alive(s);
}

TEST(ServerBadInput, WrongVersionAndOversizeAreDropped) {
    ServerProcess s;
    s.start();
    {
        RawSocket r(s);
        qbd_req_hdr h = raw_hdr(QBD_OP_HELLO, sizeof(qbd_hello));
        h.version = htole16(77);
        r.send_bytes(&h, sizeof(h));
        EXPECT_TRUE(r.closed());
    }
    {
        RawSocket r(s);
        qbd_req_hdr h = raw_hdr(QBD_OP_HELLO, 1u << 30);
        r.send_bytes(&h, sizeof(h));
        EXPECT_TRUE(r.closed());
    }
    expect_server_alive(s);
}

TEST(ServerBadInput, UnknownFeatureBitsRefused) {
    ServerProcess s;
    s.start();
    RawSocket r(s);
    qbd_req_hdr h = raw_hdr(QBD_OP_HELLO, sizeof(qbd_hello));
    qbd_hello hello{};
    hello.features = htole64(1ULL << 40);
    r.send_bytes(&h, sizeof(h));
    r.send_bytes(&hello, sizeof(hello));
    qbd_reply_hdr rep{};
    ASSERT_EQ(recv(r.fd_, &rep, sizeof(rep), MSG_WAITALL), static_cast<ssize_t>(sizeof(rep)));
    EXPECT_NE(static_cast<int32_t>(le32toh(rep.status)), 0);
    EXPECT_TRUE(r.closed());
    expect_server_alive(s);
}

// The RDMA-only features (inline write data, remote invalidation) mean
// nothing on TCP: a TCP connection agrees to the rest of what it asks.
TEST(ServerBadInput, TcpDoesNotAgreeToRdmaFeatures) {
    ServerProcess s;
    s.start();
    RawSocket r(s);
    qbd_req_hdr h = raw_hdr(QBD_OP_HELLO, sizeof(qbd_hello));
    qbd_hello hello{};
    hello.features = htole64(QBD_FEAT_FUA | QBD_FEAT_RDMA_INLINE | QBD_FEAT_RDMA_REMOTE_INV);
    r.send_bytes(&h, sizeof(h));
    r.send_bytes(&hello, sizeof(hello));
    qbd_reply_hdr rep{};
    ASSERT_EQ(recv(r.fd_, &rep, sizeof(rep), MSG_WAITALL), static_cast<ssize_t>(sizeof(rep)));
    ASSERT_EQ(le32toh(rep.status), 0u);
    ASSERT_EQ(le32toh(rep.length), sizeof(qbd_hello_reply));
    qbd_hello_reply hr{};
    ASSERT_EQ(recv(r.fd_, &hr, sizeof(hr), MSG_WAITALL), static_cast<ssize_t>(sizeof(hr)));
    EXPECT_EQ(le64toh(hr.features), QBD_FEAT_FUA);
}

TEST(ServerBadInput, BadIoGetsErrorStatusesAndTheConnectionLives) {
    ServerProcess s;
    s.start();
    auto c = open_volume(s, "bad", 1 << 20, 1 << 20);
    std::vector<char> buf(8192);
    EXPECT_EQ(c->read((1 << 20) - 4096, buf.data(), 8192), -ERANGE);  // past the end
    EXPECT_EQ(c->write(100, buf.data(), 512), -EINVAL);               // unaligned offset
    EXPECT_EQ(c->write(0, buf.data(), 1000), -EINVAL);                // unaligned length
    std::vector<char> reply;
    EXPECT_EQ(c->call(99, 0, nullptr, 0, &reply), -EOPNOTSUPP);  // unknown opcode
    qbd_ctl_name n;
    memset(&n, 'x', sizeof(n));  // unterminated names
    EXPECT_EQ(c->call(QBD_OP_CTL_INFO, 0, &n, sizeof(n), &reply), -EINVAL);
    char tiny[3] = {};
    EXPECT_EQ(c->call(QBD_OP_CTL_CREATE, 0, tiny, sizeof(tiny), &reply), -EINVAL);
    // Still serving on the same connection.
    EXPECT_EQ(c->write(0, buf.data(), 4096), 0);
}

// End-to-end checksums (QBD_FEAT_CRC32C): agreed over TCP when asked; a
// WRITE whose payload does not match its crc32c is refused with
// QBD_STATUS_BAD_CRC and nothing of it is stored, one without a crc32c is
// refused, and READ data comes with the crc32c of what was read.
// --fault flaky-crc spoils every second checksummed payload of a
// connection in each direction, the first of each being good (what the
// guest tests of both transports' resends rely on); bad-crc spoils all.
TEST(ServerCrc, TheCrcFaultsSpoilPayloadsAsDocumented) {
    ServerProcess s;
    s.start({"--fault", "flaky-crc"});
    auto c = open_volume(s, "flaky", 1 << 20, 1 << 20);
    auto a = pattern(4096, 1), b = pattern(4096, 2);
    EXPECT_EQ(c->write(0, a.data(), 4096), 0);
    EXPECT_EQ(c->write(0, b.data(), 4096), QBD_STATUS_BAD_CRC);  // nothing stored
    EXPECT_EQ(c->write(8192, b.data(), 4096), 0);
    std::vector<char> back(4096);
    EXPECT_EQ(c->read(0, back.data(), 4096), 0);
    EXPECT_EQ(back, a);
    EXPECT_EQ(c->read(0, back.data(), 4096), -EBADMSG);
    EXPECT_EQ(c->read(8192, back.data(), 4096), 0);
    EXPECT_EQ(back, b);

    ServerProcess all;
    all.start({"--fault", "bad-crc"});
    auto d = open_volume(all, "bad", 1 << 20, 1 << 20);
    EXPECT_EQ(d->write(0, a.data(), 4096), QBD_STATUS_BAD_CRC);
    EXPECT_EQ(d->read(0, back.data(), 4096), -EBADMSG);
}

TEST(ServerCrc, AWriteFailingItsCrcStoresNothing) {
    ServerProcess s;
    s.start();
    auto c = open_volume(s, "crc", 1 << 20, 1 << 20);
    ASSERT_TRUE(c->crc32c());
    auto old_data = pattern(8192, 1), new_data = pattern(8192, 2);
    ASSERT_EQ(c->write(0, old_data.data(), 8192), 0);
    EXPECT_EQ(c->write_claiming_crc(0, new_data.data(), 8192, crc32c(new_data.data(), 8192) ^ 1),
              QBD_STATUS_BAD_CRC);
    std::vector<char> back(8192);
    ASSERT_EQ(c->read(0, back.data(), 8192), 0);  // checked against the reply's crc32c
    EXPECT_EQ(back, old_data);
    // The connection lives on, and a right crc32c stores the data.
    EXPECT_EQ(c->write_claiming_crc(0, new_data.data(), 8192, crc32c(new_data.data(), 8192)), 0);
    ASSERT_EQ(c->read(0, back.data(), 8192), 0);
    EXPECT_EQ(back, new_data);
}

// The wire itself, past the client library: a WRITE without QBD_REQ_CRC
// where checksums were agreed, then a READ whose reply is checked here.
TEST(ServerCrc, WritesNeedTheirCrcAndReadsCarryOne) {
    ServerProcess s;
    s.start();
    client::Volume v = create_volume(s, "wire", 1 << 20, 1 << 20);
    auto c = s.connect();
    qbd_open_reply orep{};
    ASSERT_EQ(c->open(v.id, v.epoch, &orep), 0) << c->error();
    ASSERT_TRUE(c->crc32c());
    auto io_hdr = [&](uint16_t op, uint32_t len) {
        qbd_req_hdr h = raw_hdr(op, len);
        h.volume_id = htole64(v.id);
        h.epoch = orep.epoch;
        h.offset = htole64(65536);
        return h;
    };
    auto data = pattern(4096, 3);
    qbd_req_hdr w = io_hdr(QBD_OP_WRITE, 4096);
    ASSERT_EQ(send(c->fd(), &w, sizeof(w), MSG_NOSIGNAL), static_cast<ssize_t>(sizeof(w)));
    ASSERT_EQ(send(c->fd(), data.data(), 4096, MSG_NOSIGNAL), 4096);
    qbd_reply_hdr rep{};
    ASSERT_EQ(recv(c->fd(), &rep, sizeof(rep), MSG_WAITALL), static_cast<ssize_t>(sizeof(rep)));
    EXPECT_EQ(static_cast<int32_t>(le32toh(rep.status)), -EINVAL);

    qbd_req_hdr r = io_hdr(QBD_OP_READ, 4096);
    ASSERT_EQ(send(c->fd(), &r, sizeof(r), MSG_NOSIGNAL), static_cast<ssize_t>(sizeof(r)));
    ASSERT_EQ(recv(c->fd(), &rep, sizeof(rep), MSG_WAITALL), static_cast<ssize_t>(sizeof(rep)));
    ASSERT_EQ(le32toh(rep.status), 0u);
    ASSERT_EQ(le32toh(rep.length), 4096u);
    std::vector<char> back(4096);
    ASSERT_EQ(recv(c->fd(), back.data(), 4096, MSG_WAITALL), 4096);
    std::vector<char> zeros(4096);
    EXPECT_EQ(back, zeros);  // the refused WRITE stored nothing
    EXPECT_EQ(le32toh(rep.flags), QBD_REQ_CRC);
    EXPECT_EQ(le32toh(rep.crc32c), crc32c(zeros.data(), zeros.size()));
}

// The wire's crc32c is the standard CRC-32C.
TEST(ServerCrc, Crc32cIsCastagnoli) {
    EXPECT_EQ(crc32c("123456789", 9), 0xe3069283u);
    EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(ServerBadInput, IoBeforeOpenAndTruncatedPayload) {
    ServerProcess s;
    s.start();
    auto c = s.connect();
    std::vector<char> buf(4096);
    EXPECT_EQ(c->read(0, buf.data(), 4096), -ENOTCONN);
    {
        // A WRITE header promising 64 KiB, 100 bytes, then the peer vanishes.
        auto d = open_volume(s, "trunc", 1 << 20, 1 << 20);
        qbd_req_hdr h = raw_hdr(QBD_OP_WRITE, 65536);
        (void)!send(d->fd(), &h, sizeof(h), MSG_NOSIGNAL);
        (void)!send(d->fd(), buf.data(), 100, MSG_NOSIGNAL);
    }
    expect_server_alive(s);
}

// The other direction on the wire: a client that skips checking the
// server's proof and sends a MAC it could not compute is dropped.
TEST(ServerAuth, ServerRefusesAWrongClientProof) {
    ServerProcess s(kWeb1);
    s.start();
    RawSocket r(s);
    qbd_req_hdr h = raw_hdr(QBD_OP_HELLO, sizeof(qbd_hello));
    qbd_hello hello{};
    memcpy(hello.host_id, "web1", 4);
    r.send_bytes(&h, sizeof(h));
    r.send_bytes(&hello, sizeof(hello));
    qbd_reply_hdr rep{};
    ASSERT_EQ(recv(r.fd_, &rep, sizeof(rep), MSG_WAITALL), static_cast<ssize_t>(sizeof(rep)));
    ASSERT_EQ(le32toh(rep.status), 0u);
    qbd_hello_reply hr{};
    ASSERT_EQ(recv(r.fd_, &hr, sizeof(hr), MSG_WAITALL), static_cast<ssize_t>(sizeof(hr)));
    EXPECT_EQ(le32toh(hr.auth), static_cast<uint32_t>(QBD_AUTH_HMAC_SHA256));
    h = raw_hdr(QBD_OP_AUTH, sizeof(qbd_auth));
    qbd_auth a{};
    r.send_bytes(&h, sizeof(h));
    r.send_bytes(&a, sizeof(a));
    ASSERT_EQ(recv(r.fd_, &rep, sizeof(rep), MSG_WAITALL), static_cast<ssize_t>(sizeof(rep)));
    EXPECT_EQ(static_cast<int32_t>(le32toh(rep.status)), -EACCES);
    EXPECT_TRUE(r.closed());
}

}  // namespace
}  // namespace qbd
