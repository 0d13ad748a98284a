// qbd-server's configuration file: every key, and errors that name the
// file and line.
#include "server_config.h"

#include <gtest/gtest.h>

namespace qbd {
namespace {

int parse(const std::string& text, ServerSettings* s, std::string* error) {
    return parse_server_config(text, "/etc/qbd/qbd-server.conf", s, error);
}

// Every key the page documents is read into its setting.
TEST(ServerConfig, EveryKey) {
    ServerSettings s;
    std::string error;
    ASSERT_EQ(parse(R"(# a gateway
backend = rbd
data_dir = /var/lib/qbd
listen = 127.0.0.1:7800 , [::1]:7800
advertise = 10.0.0.5:7800   # what clients are told
keys_file = /etc/qbd/qbd-server.keys
allow_unauthenticated = yes
rdma = yes
busy_poll_us = 50
default_shard_size = 4M
ceph_conf = /etc/ceph/ceph.conf
ceph_client = qbd
ceph_keyring = /etc/ceph/ceph.client.qbd.keyring
pools = rbd, fast
ceph_timeout = 30

)",
                    &s, &error),
              0)
        << error;
    EXPECT_EQ(s.backend, BackendKind::rbd);
    EXPECT_EQ(s.data_dir, "/var/lib/qbd");
    EXPECT_EQ(s.listen, (std::vector<std::string>{"127.0.0.1:7800", "[::1]:7800"}));
    EXPECT_EQ(s.advertise, "10.0.0.5:7800");
    EXPECT_EQ(s.keys_file, "/etc/qbd/qbd-server.keys");
    EXPECT_TRUE(s.allow_unauthenticated);
    EXPECT_TRUE(s.rdma);
    EXPECT_EQ(s.busy_poll_us, 50u);
    EXPECT_EQ(s.default_shard_size, 4ULL << 20);
    EXPECT_EQ(s.ceph_conf, "/etc/ceph/ceph.conf");
    EXPECT_EQ(s.ceph_client, "client.qbd");
    EXPECT_EQ(s.ceph_keyring, "/etc/ceph/ceph.client.qbd.keyring");
    EXPECT_EQ(s.pools, (std::vector<std::string>{"rbd", "fast"}));
    EXPECT_EQ(s.ceph_timeout_s, 30u);
    EXPECT_EQ(check_server_settings(s, &error), 0) << error;
}

// What the file does not say keeps its default (the command line's).
TEST(ServerConfig, DefaultsStay) {
    ServerSettings s;
    s.data_dir = "/from/the/command/line";
    std::string error;
    ASSERT_EQ(parse("backend = file\n", &s, &error), 0) << error;
    EXPECT_EQ(s.data_dir, "/from/the/command/line");
    EXPECT_EQ(s.ceph_client, "client.admin");
    EXPECT_EQ(s.default_shard_size, 64ULL << 20);
}

// Each mistake is refused with FILE:LINE and what was expected.
TEST(ServerConfig, ErrorsNameFileAndLine) {
    const struct {
        const char* text;
        const char* says;
    } cases[] = {
        {"\n\nbackend = nfs\n",
         "qbd-server.conf:3: bad value 'nfs' for backend: expected file or rbd"},
        {"listen\n", "qbd-server.conf:1: expected 'key = value', got 'listen'"},
        {"pools =\n", "qbd-server.conf:1: bad value '' for pools: expected a value"},
        {"pools = a,,b\n", "qbd-server.conf:1: bad value 'a,,b' for pools"},
        {"colour = blue\n", "qbd-server.conf:1: unknown key 'colour'"},
        {"rdma = maybe\n", "expected yes or no"},
        {"busy_poll_us = 10001\n", "microseconds, 0 to 10000"},
        {"default_shard_size = 3M\n", "a power of two from 4K to 1T"},
        {"ceph_timeout = 0\n", "seconds, 1 to 3600"},
        {"ceph_client = client.\n", "a cephx user name"},
        {"pools = a\npools = b\n", "qbd-server.conf:2: pools given twice"},
    };
    for (const auto& c : cases) {
        ServerSettings s;
        std::string error;
        EXPECT_EQ(parse(c.text, &s, &error), -EINVAL) << c.text;
        EXPECT_NE(error.find(c.says), std::string::npos) << c.text << " said: " << error;
    }
}

// The chosen backend's needs are checked once file and command line are in.
TEST(ServerConfig, BackendNeeds) {
    ServerSettings s;
    std::string error;
    EXPECT_EQ(check_server_settings(s, &error), -EINVAL);
    EXPECT_NE(error.find("data directory"), std::string::npos) << error;
    s.backend = BackendKind::rbd;
    EXPECT_EQ(check_server_settings(s, &error), -EINVAL);
    EXPECT_NE(error.find("pools"), std::string::npos) << error;
}

TEST(ServerConfig, MissingFile) {
    ServerSettings s;
    std::string error;
    EXPECT_EQ(load_server_config("/nonexistent/qbd-server.conf", &s, &error), -ENOENT);
    EXPECT_NE(error.find("/nonexistent/qbd-server.conf"), std::string::npos) << error;
}

TEST(ServerConfig, Sizes) {
    uint64_t v = 0;
    EXPECT_TRUE(parse_size("4096", &v));
    EXPECT_EQ(v, 4096u);
    EXPECT_TRUE(parse_size("1G", &v));
    EXPECT_EQ(v, 1ULL << 30);
    EXPECT_FALSE(parse_size("", &v));
    EXPECT_FALSE(parse_size("M", &v));
    EXPECT_FALSE(parse_size("-1", &v));
    EXPECT_FALSE(parse_size("99999999999999999999T", &v));
    EXPECT_FALSE(parse_size("17179869184T", &v));  // 2^64
}

}  // namespace
}  // namespace qbd
