// Looking a volume up on every server of qbd.conf: each server that serves
// it is one path, in qbd.conf order; servers that do not serve it or do
// not answer are skipped; two different volumes under one name are an
// error naming both servers.  merge_answers on made-up answers, then
// lookup_volume and resize_volume against qbd-server processes.
#include "lookup.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "error.h"
#include "test_support.h"

namespace qbd {

namespace {

ServerAnswer serves(const std::string& server, const std::string& path, uint64_t id = 42,
                    uint64_t size = 1 << 30) {
    ServerAnswer a;
    a.server = server;
    a.volume.pool = "pool";
    a.volume.volume = "vol";
    a.volume.id = id;
    a.volume.size = size;
    a.volume.shard_size = 1 << 20;
    a.volume.epoch = 1;
    a.volume.paths = {path};
    return a;
}

ServerAnswer lacks(const std::string& server) {
    ServerAnswer a;
    a.server = server;
    a.err = -ENOENT;
    a.why = server + ": no volume pool/vol";
    return a;
}

ServerAnswer silent(const std::string& server) {
    ServerAnswer a;
    a.server = server;
    a.err = -ECONNREFUSED;
    a.why = "cannot connect to " + server + ": Connection refused";
    return a;
}

// The Error merge_answers throws for @answers (an empty one if none).
Error merge_error(const std::vector<ServerAnswer>& answers) {
    try {
        merge_answers("pool", "vol", answers);
    } catch (const Error& e) {
        return e;
    }
    return Error(0, "");
}

}  // namespace

TEST(Lookup, EveryServerThatServesTheVolumeIsAPathInConfOrder) {
    client::Volume v = merge_answers("pool", "vol",
                                     {lacks("a:1"), serves("b:1", "10.0.0.2:7800"), silent("c:1"),
                                      serves("d:1", "10.0.0.4:7800")});
    EXPECT_EQ(v.id, 42u);
    EXPECT_EQ(v.size, 1u << 30);
    EXPECT_EQ(v.paths, (std::vector<std::string>{"10.0.0.2:7800", "10.0.0.4:7800"}));
}

// A path is the server's advertised address, not qbd.conf's name for it;
// two entries of qbd.conf that reach one server give one path.
TEST(Lookup, OneServerReachedTwiceIsOnePath) {
    client::Volume v = merge_answers(
        "pool", "vol", {serves("srv:7800", "10.0.0.2:7800"), serves("10.0.0.2", "10.0.0.2:7800")});
    EXPECT_EQ(v.paths, std::vector<std::string>{"10.0.0.2:7800"});
}

// A server listening on a wildcard address answers with it: the path is
// the host qbd.conf names, on the port the server gave.
TEST(Lookup, AWildcardAddressIsTheHostOfTheConf) {
    client::Volume v =
        merge_answers("pool", "vol",
                      {serves("srv1:7000", "0.0.0.0:7800"), serves("[fd00::2]", "[::]:7801"),
                       serves("srv3", "10.0.0.3:7802")});
    EXPECT_EQ(v.paths, (std::vector<std::string>{"srv1:7800", "[fd00::2]:7801", "10.0.0.3:7802"}));
}

TEST(Lookup, DifferentVolumesUnderOneNameNameBothServers) {
    for (const auto& other : {serves("b:1", "b:7800", 43), serves("b:1", "b:7800", 42, 1 << 20)}) {
        Error e = merge_error({serves("a:1", "a:7800"), silent("c:1"), other});
        EXPECT_EQ(e.err(), ENOTUNIQ);
        std::string msg = e.what();
        EXPECT_NE(msg.find("a:1 and b:1"), std::string::npos) << msg;
        EXPECT_NE(msg.find("pool/vol"), std::string::npos) << msg;
    }
}

TEST(Lookup, NoServerServesIt) {
    Error absent = merge_error({lacks("a:1"), lacks("b:1")});
    EXPECT_EQ(absent.err(), ENOENT);
    EXPECT_STREQ(absent.what(), "pool/vol does not exist on a:1, b:1");

    Error unreachable = merge_error({silent("a:1"), silent("b:1")});
    EXPECT_EQ(unreachable.err(), ECONNREFUSED);
    EXPECT_NE(std::string(unreachable.what()).find("cannot reach a control server"),
              std::string::npos);
    EXPECT_NE(std::string(unreachable.what()).find("b:1"), std::string::npos);

    // The one that did not answer may have it: not a plain ENOENT.
    Error maybe = merge_error({lacks("a:1"), silent("b:1")});
    EXPECT_EQ(maybe.err(), ECONNREFUSED);
    EXPECT_NE(std::string(maybe.what()).find("does not exist on a:1"), std::string::npos);
    EXPECT_NE(std::string(maybe.what()).find("b:1"), std::string::npos);
}

namespace {

using test::free_port;

// A port nobody listens on.
std::string down_addr() { return "127.0.0.1:" + std::to_string(free_port()); }

pid_t spawn(const std::vector<std::string>& args) {
    pid_t pid = fork();
    if (pid == 0) {
        std::vector<char*> argv{const_cast<char*>(QBD_SERVER_BINARY)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        if (!freopen("/dev/null", "w", stderr)) _exit(126);
        execv(QBD_SERVER_BINARY, argv.data());
        _exit(127);
    }
    return pid;
}

int run(const std::vector<std::string>& args) {
    int status = 0;
    waitpid(spawn(args), &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A qbd-server on loopback serving @dir; killed at the end of the scope.
class Server {
  public:
    explicit Server(const std::string& dir) : addr_("127.0.0.1:" + std::to_string(free_port())) {
        pid_ = spawn({"serve", "--data-dir", dir, "--listen", addr_});
        for (int i = 0; i < 200; i++) {
            std::unique_ptr<client::Client> c;
            std::string why;
            if (client::Client::connect(addr_, {}, 1000, &c, &why) == 0) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ADD_FAILURE() << "qbd-server on " << addr_ << " did not start";
    }
    ~Server() {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    const std::string& addr() const { return addr_; }

  private:
    std::string addr_;
    pid_t pid_;
};

class LookupServers : public testing::Test {
  protected:
    void SetUp() override {
        for (std::string* d : {&one_, &other_}) {
            char tmpl[] = "/tmp/qbd-lookup-test-XXXXXX";
            ASSERT_TRUE(mkdtemp(tmpl));
            *d = tmpl;
            ASSERT_EQ(run({"init", "--data-dir", *d}), 0);
        }
        ASSERT_EQ(run({"create", "pool/vol", "4M", "--data-dir", one_}), 0);
    }
    void TearDown() override {
        std::string cmd = "rm -rf " + one_ + " " + other_;
        EXPECT_EQ(system(cmd.c_str()), 0);
    }
    static Config conf(const std::vector<std::string>& servers) {
        Config cfg;
        cfg.servers.clear();
        for (const auto& s : servers) cfg.servers.push_back(parse_host_port(s));
        cfg.connect_timeout = 2;
        return cfg;
    }
    std::string one_, other_;
};

}  // namespace

// Two servers of one data directory (two gateways of one volume), a server
// without the volume and one that is down: the two are the paths, in
// qbd.conf order; a grow through the first is what both then report.
TEST_F(LookupServers, AsksEveryServerOfTheConf) {
    Server a(one_), b(one_), elsewhere(other_);
    const std::string down = down_addr();
    Config cfg = conf({elsewhere.addr(), b.addr(), down, a.addr()});
    client::Volume v = lookup_volume(cfg, {}, "pool", "vol");
    EXPECT_EQ(v.size, 4u << 20);
    EXPECT_EQ(v.paths, (std::vector<std::string>{b.addr(), a.addr()}));

    resize_volume(cfg, {}, "pool", "vol", 8 << 20);
    v = lookup_volume(cfg, {}, "pool", "vol");
    EXPECT_EQ(v.size, 8u << 20);
    EXPECT_EQ(v.paths.size(), 2u);

    try {
        lookup_volume(conf({elsewhere.addr()}), {}, "pool", "vol");
        ADD_FAILURE() << "found on a server that does not have it";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("does not exist on " + elsewhere.addr()),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(LookupServers, TwoVolumesOfOneNameAreAnError) {
    ASSERT_EQ(run({"create", "pool/vol", "4M", "--data-dir", other_}), 0);  // another id
    Server a(one_), b(other_);
    try {
        lookup_volume(conf({a.addr(), b.addr()}), {}, "pool", "vol");
        ADD_FAILURE() << "two volumes were taken for one";
    } catch (const Error& e) {
        EXPECT_EQ(e.err(), ENOTUNIQ);
        EXPECT_NE(std::string(e.what()).find(a.addr() + " and " + b.addr()), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(resize_volume(conf({down_addr()}), {}, "pool", "vol", 8 << 20), Error);
}

}  // namespace qbd
