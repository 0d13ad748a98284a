#include "config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "error.h"

namespace qbd {

namespace {

std::string error_of(const std::string& text) {
    try {
        parse_config(text, "test.conf");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Config, Defaults) {
    Config c = parse_config("", "x");
    ASSERT_EQ(c.servers.size(), 1u);
    EXPECT_EQ(c.servers[0].str(), "127.0.0.1:7800");
    EXPECT_EQ(c.transport, Transport::tcp);
    EXPECT_EQ(c.udev_timeout, 10u);
    EXPECT_EQ(c.tunables.queue_depth, 0u);
    EXPECT_TRUE(c.key_file.empty());
    EXPECT_TRUE(c.host_id.empty());
}

TEST(Config, Good) {
    Config c = parse_config(
        "# qbd.conf\n"
        "\n"
        "servers = 10.0.0.1:7800, [fd00::2]:7900 ,ctl.example  # three\n"
        "  key_file=/etc/qbd/host.key\n"
        "host_id = web1.example.com\n"
        "transport = rdma\n"
        "queue_depth = 256\n"
        "nr_hw_queues = 4\n"
        "max_io_kb = 1024\n"
        "io_timeout = 60\n"
        "reconnect_delay_ms = 200\n"
        "giveup_timeout = 300\n"
        "heartbeat_interval = 5\n"
        "read_only = yes\n"
        "connect_timeout = 3\n"
        "udev_timeout = 0\n",
        "x");
    ASSERT_EQ(c.servers.size(), 3u);
    EXPECT_EQ(c.servers[0].str(), "10.0.0.1:7800");
    EXPECT_EQ(c.servers[1].str(), "[fd00::2]:7900");
    EXPECT_EQ(c.servers[2].str(), "ctl.example:7800");
    EXPECT_EQ(c.key_file, "/etc/qbd/host.key");
    EXPECT_EQ(c.host_id, "web1.example.com");
    EXPECT_EQ(c.transport, Transport::rdma);
    EXPECT_EQ(c.tunables.queue_depth, 256u);
    EXPECT_EQ(c.tunables.nr_hw_queues, 4u);
    EXPECT_EQ(c.tunables.max_io_kb, 1024u);
    EXPECT_EQ(c.tunables.io_timeout, 60u);
    EXPECT_EQ(c.tunables.reconnect_delay_ms, 200u);
    EXPECT_EQ(c.tunables.giveup_timeout, 300u);
    EXPECT_EQ(c.tunables.heartbeat_interval, 5u);
    EXPECT_TRUE(c.tunables.read_only);
    EXPECT_EQ(c.connect_timeout, 3u);
    EXPECT_EQ(c.udev_timeout, 0u);
}

TEST(Config, UnknownKeyNamesFileAndLine) {
    std::string e = error_of("# ok\nqueue_depth = 8\nbogus = 1\n");
    EXPECT_NE(e.find("test.conf:3"), std::string::npos) << e;
    EXPECT_NE(e.find("bogus"), std::string::npos) << e;
}

TEST(Config, BadValuesNameFileAndLine) {
    struct {
        const char* text;
        const char* where;
    } cases[] = {
        {"queue_depth = 0\n", "test.conf:1"},
        {"queue_depth = 2000\n", "test.conf:1"},
        {"\nnr_hw_queues = lots\n", "test.conf:2"},
        {"max_io_kb = 2\n", "test.conf:1"},
        {"io_timeout = -1\n", "test.conf:1"},
        {"transport = udp\n", "test.conf:1"},
        {"read_only = maybe\n", "test.conf:1"},
        {"servers = host:99999\n", "test.conf:1"},
        {"servers = a:1,\n", "test.conf:1"},
        {"servers = a:1\nservers = b:2\n", "test.conf:2"},
        {"connect_timeout = 0\n", "test.conf:1"},
        {"queue_depth\n", "test.conf:1"},
        {"queue_depth =\n", "test.conf:1"},
        // A take-over is one map's decision, never every map's.
        {"take_over = yes\n", "test.conf:1"},
    };
    for (const auto& c : cases) {
        std::string e = error_of(c.text);
        EXPECT_NE(e.find(c.where), std::string::npos) << c.text << " -> " << e;
    }
}

TEST(Config, MissingDefaultFileIsFine) {
    EXPECT_NO_THROW(load_config("/nonexistent/qbd.conf", false));
    EXPECT_THROW(load_config("/nonexistent/qbd.conf", true), Error);
}

TEST(Config, MapOptions) {
    MapTunables t;
    apply_map_options(t, "queue_depth=64,nr_hw_queues=2,max_io_kb=512,io_timeout=30,read_only");
    EXPECT_EQ(t.queue_depth, 64u);
    EXPECT_EQ(t.nr_hw_queues, 2u);
    EXPECT_EQ(t.max_io_kb, 512u);
    EXPECT_EQ(t.io_timeout, 30u);
    EXPECT_TRUE(t.read_only);
    apply_map_options(t, "read_only=no");
    EXPECT_FALSE(t.read_only);
    // Checksums are on unless turned off.
    EXPECT_TRUE(t.crc32c);
    apply_map_options(t, "crc32c=no");
    EXPECT_FALSE(t.crc32c);
    apply_map_options(t, "crc32c");
    EXPECT_TRUE(t.crc32c);
    // One writer per volume unless asked.
    EXPECT_FALSE(t.shared);
    EXPECT_FALSE(t.take_over);
    apply_map_options(t, "shared,take_over");
    EXPECT_TRUE(t.shared);
    EXPECT_TRUE(t.take_over);
    EXPECT_TRUE(parse_config("shared = yes\n", "test.conf").tunables.shared);
    for (const char* bad :
         {"queue_depth=0", "queue_depth=", "queue_depth", "foo=1", "io_timeout=3601",
          "max_io_kb=8192", "read_only=2", "crc32c=sometimes", "", "a=1,,b=2", "queue_depth=1e3"}) {
        MapTunables s;
        EXPECT_THROW(apply_map_options(s, bad), Error) << bad;
    }
}

// The tool reads key_file as qbd-server reads keys (server/tests/
// key_file_test.cc): a CRLF line end is no part of the key, and a file
// others may read is refused, naming it.  The key goes with host_id.
TEST(Config, KeyFileIsReadAsTheServerReadsIt) {
    std::string path = testing::TempDir() + "/qbd-config-key";
    std::ofstream(path) << "0123456789abcdef\r\n";
    ASSERT_EQ(chmod(path.c_str(), 0600), 0);
    Config c;
    c.host_id = "web1";
    c.key_file = path;
    HostKey me = load_host_key(c);
    EXPECT_EQ(me.host_id, "web1");
    EXPECT_EQ(me.key, "0123456789abcdef");
    ASSERT_EQ(chmod(path.c_str(), 0644), 0);
    try {
        load_host_key(c);
        ADD_FAILURE() << "a world-readable key file was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    std::remove(path.c_str());
}

// Without host_id a host is its hostname; with no key file it has no key.
TEST(Config, HostIdDefaultsToTheHostname) {
    char name[256] = {};
    ASSERT_EQ(gethostname(name, sizeof(name) - 1), 0);
    HostKey me = load_host_key(Config{});
    EXPECT_EQ(me.host_id, valid_host_id(name) ? name : "");
    EXPECT_TRUE(me.key.empty());
}

TEST(Config, BadHostIdIsRefused) {
    EXPECT_THROW(parse_config("host_id = a b\n", "x"), Error);
    EXPECT_THROW(parse_config("host_id = a/b\n", "x"), Error);
}

}  // namespace qbd
