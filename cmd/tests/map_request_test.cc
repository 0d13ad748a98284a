#include "map_request.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "error.h"

namespace qbd {

namespace {

// Resolution without DNS: 10.0.0.<port % 256>, and counts calls.
struct FakeResolver {
    int calls = 0;
    qbd_ioc_addr operator()(const HostPort& hp) {
        calls++;
        qbd_ioc_addr a{};
        a.family = AF_INET;
        a.port = hp.port;
        a.addr[0] = 10;
        a.addr[3] = static_cast<uint8_t>(hp.port);
        return a;
    }
};

client::Volume three_paths() {
    client::Volume v;
    v.pool = "pool";
    v.volume = "vol";
    v.id = 42;
    v.size = (2ULL << 20) + 4096;  // 3 shards of 1 MiB, the last one partial
    v.shard_size = 1ULL << 20;
    v.epoch = 7;
    v.paths = {"b:2", "a:1", "c:3"};
    return v;
}

}  // namespace

// The paths go to the driver in the order the servers gave them, each
// resolved once; the volume's description and the tunables as given.
TEST(MapRequest, BuildsThePathListInOrder) {
    FakeResolver fr;
    MapSettings s;
    s.tunables.queue_depth = 64;
    s.tunables.max_io_kb = 512;
    s.tunables.io_timeout = 30;
    s.tunables.read_only = true;
    s.tunables.reconnect_delay_ms = 250;
    s.tunables.giveup_timeout = 120;
    s.me = {"web1", "0123456789abcdef"};
    MapRequest req;
    build_map_request(three_paths(), s, std::ref(fr), req);

    EXPECT_EQ(fr.calls, 3);  // each path resolved once
    ASSERT_EQ(req.paths.size(), 3u);
    EXPECT_EQ(req.path_names, (std::vector<std::string>{"b:2", "a:1", "c:3"}));
    EXPECT_EQ(req.paths[0].port, 2u);
    EXPECT_EQ(req.paths[1].port, 1u);
    EXPECT_EQ(req.paths[2].port, 3u);

    const qbd_ioc_map& m = req.map;
    EXPECT_EQ(m.argsz, sizeof(qbd_ioc_map));
    EXPECT_EQ(m.flags, QBD_MAP_READ_ONLY);  // and checksums, by default
    EXPECT_EQ(m.transport, static_cast<uint32_t>(QBD_TRANSPORT_TCP));
    EXPECT_EQ(m.nr_paths, 3u);
    EXPECT_EQ(m.volume_id, 42u);
    EXPECT_EQ(m.epoch, 7u);
    EXPECT_EQ(m.size, (2ULL << 20) + 4096);
    EXPECT_EQ(m.shard_size, 1ULL << 20);
    EXPECT_STREQ(m.pool, "pool");
    EXPECT_STREQ(m.volume, "vol");
    EXPECT_EQ(m.pool[sizeof(m.pool) - 1], 0);
    EXPECT_EQ(m.paths_ptr, reinterpret_cast<uintptr_t>(req.paths.data()));
    EXPECT_EQ(m.reserved0[0], 0u);
    EXPECT_EQ(m.reserved0[1], 0u);
    EXPECT_EQ(m.reserved3, 0u);
    EXPECT_EQ(m.queue_depth, 64u);
    EXPECT_EQ(m.nr_hw_queues, 0u);
    EXPECT_EQ(m.max_io_bytes, 512u * 1024);
    EXPECT_EQ(m.io_timeout_ms, 30000u);
    EXPECT_EQ(m.key_len, 16u);
    EXPECT_EQ(0, memcmp(m.key, "0123456789abcdef", 16));
    EXPECT_STREQ(m.host_id, "web1");
    EXPECT_EQ(m.dev_index, 0u);
    EXPECT_EQ(m.reserved1, 0u);
    EXPECT_EQ(m.reconnect_delay_ms, 250u);
    EXPECT_EQ(m.giveup_timeout_ms, 120000u);
    EXPECT_EQ(m.heartbeat_ms, 0u);
    for (size_t i = 5; i < sizeof(m.host_id); i++) EXPECT_EQ(m.host_id[i], 0);
}

TEST(MapRequest, OnePathNoTunables) {
    FakeResolver fr;
    client::Volume v = three_paths();
    v.paths = {"a:1"};
    MapRequest req;
    build_map_request(v, MapSettings{}, std::ref(fr), req);
    EXPECT_EQ(req.map.nr_paths, 1u);
    EXPECT_EQ(req.map.flags, 0u);
    EXPECT_EQ(req.map.key_len, 0u);
}

// crc32c=no is the one way to map without checksums.
TEST(MapRequest, Crc32cOffIsAFlag) {
    FakeResolver fr;
    MapSettings s;
    s.tunables.crc32c = false;
    MapRequest req;
    build_map_request(three_paths(), s, std::ref(fr), req);
    EXPECT_EQ(req.map.flags, QBD_MAP_NO_CRC32C);
}

// Sharing and taking over are flags of the map; neither goes with
// read_only (which claims nothing) nor with the other.
TEST(MapRequest, SharedAndTakeOverAreFlags) {
    FakeResolver fr;
    auto flags = [&](bool read_only, bool shared, bool take_over) {
        MapSettings s;
        s.tunables.read_only = read_only;
        s.tunables.shared = shared;
        s.tunables.take_over = take_over;
        MapRequest req;
        build_map_request(three_paths(), s, std::ref(fr), req);
        return req.map.flags;
    };
    EXPECT_EQ(flags(false, true, false), QBD_MAP_SHARED);
    EXPECT_EQ(flags(false, false, true), QBD_MAP_TAKE_OVER);
    EXPECT_THROW(flags(true, true, false), Error);
    EXPECT_THROW(flags(true, false, true), Error);
    EXPECT_THROW(flags(false, true, true), Error);
}

TEST(MapRequest, RejectsBadVolumes) {
    FakeResolver fr;
    auto refuse = [&](auto mutate) {
        client::Volume v = three_paths();
        mutate(v);
        MapRequest req;
        EXPECT_THROW(build_map_request(v, MapSettings{}, std::ref(fr), req), Error);
    };
    refuse([](client::Volume& v) { v.size = 0; });
    refuse([](client::Volume& v) { v.size = 1000; });
    refuse([](client::Volume& v) { v.shard_size = 3 << 20; });
    refuse([](client::Volume& v) { v.shard_size = 2048; });
    refuse([](client::Volume& v) { v.paths.clear(); });                          // no server
    refuse([](client::Volume& v) { v.paths[1] = "a:0"; });                       // bad port
    refuse([](client::Volume& v) { v.paths[1] = ""; });                          // no host
    refuse([](client::Volume& v) { v.pool = std::string(QBD_NAME_MAX, 'p'); });  // too long
    refuse([](client::Volume& v) { v.volume = ""; });
    refuse([](client::Volume& v) { v.volume = "a/b"; });
}

TEST(MapRequest, LongestNamesFitNulTerminated) {
    FakeResolver fr;
    client::Volume v = three_paths();
    v.pool = std::string(QBD_NAME_MAX - 1, 'p');
    v.volume = std::string(QBD_NAME_MAX - 1, 'v');
    MapRequest req;
    build_map_request(v, MapSettings{}, std::ref(fr), req);
    EXPECT_EQ(req.map.pool[QBD_NAME_MAX - 1], 0);
    EXPECT_EQ(req.map.volume[QBD_NAME_MAX - 1], 0);
    EXPECT_EQ(std::string(req.map.pool), v.pool);
}

// A path given twice, or two spellings of one server, would be one server
// taken for two: refused, naming both.
TEST(MapRequest, DuplicatePathsAreRefused) {
    FakeResolver fr;
    client::Volume v = three_paths();
    v.paths = {"a:1", "b:2", "a:1"};
    MapRequest req;
    try {
        build_map_request(v, MapSettings{}, std::ref(fr), req);
        ADD_FAILURE() << "a path given twice was taken";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("a:1 and a:1"), std::string::npos) << e.what();
    }
    v.paths = {"a:1", "b:2", "c:1"};  // c:1 resolves as a:1 does (the port)
    try {
        build_map_request(v, MapSettings{}, std::ref(fr), req);
        ADD_FAILURE() << "two names of one address were taken";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("a:1 and c:1"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("10.0.0.1:1"), std::string::npos) << e.what();
    }
}

TEST(MapRequest, AtMostMaxPaths) {
    FakeResolver fr;
    client::Volume v = three_paths();
    v.paths.clear();
    for (int i = 1; i <= QBD_MAX_PATHS + 1; i++) v.paths.push_back("h:" + std::to_string(i));
    MapRequest req;
    EXPECT_THROW(build_map_request(v, MapSettings{}, std::ref(fr), req), Error);
    v.paths.pop_back();
    EXPECT_NO_THROW(build_map_request(v, MapSettings{}, std::ref(fr), req));
    EXPECT_EQ(req.map.nr_paths, static_cast<uint32_t>(QBD_MAX_PATHS));
}

TEST(MapRequest, RealResolver) {
    client::Volume v = three_paths();
    v.paths = {"127.0.0.1:7800", "[::1]:7801", "127.0.0.1:7801"};
    MapRequest req;
    build_map_request(v, MapSettings{}, resolve_addr, req);
    ASSERT_EQ(req.paths.size(), 3u);
    EXPECT_EQ(req.paths[0].family, AF_INET);
    EXPECT_EQ(req.paths[1].family, AF_INET6);
    EXPECT_EQ(req.paths[2].port, 7801u);
    v.paths = {"127.0.0.1:7800", "localhost:7800"};
    if (resolve_addr(HostPort{"localhost", 7800}).family == AF_INET) {
        EXPECT_THROW(build_map_request(v, MapSettings{}, resolve_addr, req), Error);
    }
}

}  // namespace qbd
