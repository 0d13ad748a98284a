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

client::Volume three_shards() {
    client::Volume v;
    v.pool = "pool";
    v.volume = "vol";
    v.id = 42;
    v.size = (2ULL << 20) + 4096;  // 3 shards of 1 MiB, the last one partial
    v.shard_size = 1ULL << 20;
    v.epoch = 7;
    v.shards = {{"a:1", "b:2"}, {"b:2"}, {"c:3", "a:1"}};
    return v;
}

}  // namespace

TEST(MapRequest, BuildsTableAndShardMap) {
    FakeResolver fr;
    MapSettings s;
    s.tunables.queue_depth = 64;
    s.tunables.max_io_kb = 512;
    s.tunables.io_timeout = 30;
    s.tunables.read_only = true;
    s.tunables.reconnect_delay_ms = 250;
    s.tunables.giveup_timeout = 120;
    s.secret = "k3y";
    MapRequest req;
    build_map_request(three_shards(), s, std::ref(fr), req);

    EXPECT_EQ(fr.calls, 3);  // each distinct address resolved once
    ASSERT_EQ(req.addrs.size(), 3u);
    EXPECT_EQ(req.addr_names, (std::vector<std::string>{"a:1", "b:2", "c:3"}));
    EXPECT_EQ(req.shard_map, (std::vector<uint16_t>{0, 1, 1, 0xffff, 2, 0}));

    const qbd_ioc_map& m = req.map;
    EXPECT_EQ(m.argsz, sizeof(qbd_ioc_map));
    EXPECT_EQ(m.flags, QBD_MAP_READ_ONLY);
    EXPECT_EQ(m.transport, static_cast<uint32_t>(QBD_TRANSPORT_TCP));
    EXPECT_EQ(m.nr_addrs, 3u);
    EXPECT_EQ(m.nr_shards, 3u);
    EXPECT_EQ(m.nr_replicas, 2u);
    EXPECT_EQ(m.volume_id, 42u);
    EXPECT_EQ(m.epoch, 7u);
    EXPECT_EQ(m.size, (2ULL << 20) + 4096);
    EXPECT_EQ(m.shard_size, 1ULL << 20);
    EXPECT_STREQ(m.pool, "pool");
    EXPECT_STREQ(m.volume, "vol");
    EXPECT_EQ(m.pool[sizeof(m.pool) - 1], 0);
    EXPECT_EQ(m.addrs_ptr, reinterpret_cast<uintptr_t>(req.addrs.data()));
    EXPECT_EQ(m.shard_map_ptr, reinterpret_cast<uintptr_t>(req.shard_map.data()));
    EXPECT_EQ(m.queue_depth, 64u);
    EXPECT_EQ(m.nr_hw_queues, 0u);
    EXPECT_EQ(m.max_io_bytes, 512u * 1024);
    EXPECT_EQ(m.io_timeout_ms, 30000u);
    EXPECT_EQ(m.secret_len, 3u);
    EXPECT_EQ(0, memcmp(m.secret, "k3y", 3));
    EXPECT_EQ(m.dev_index, 0u);
    EXPECT_EQ(m.reserved1, 0u);
    EXPECT_EQ(m.reconnect_delay_ms, 250u);
    EXPECT_EQ(m.giveup_timeout_ms, 120000u);
    EXPECT_EQ(m.heartbeat_ms, 0u);
    for (size_t i = 0; i < sizeof(m.reserved2); i++) EXPECT_EQ(m.reserved2[i], 0u);
}

TEST(MapRequest, SingleReplicaNoPadding) {
    FakeResolver fr;
    client::Volume v = three_shards();
    v.shards = {{"a:1"}, {"a:1"}, {"a:1"}};
    MapRequest req;
    build_map_request(v, MapSettings{}, std::ref(fr), req);
    EXPECT_EQ(req.map.nr_replicas, 1u);
    EXPECT_EQ(req.shard_map, (std::vector<uint16_t>{0, 0, 0}));
    EXPECT_EQ(req.map.flags, 0u);
    EXPECT_EQ(req.map.secret_len, 0u);
}

TEST(MapRequest, RejectsBadVolumes) {
    FakeResolver fr;
    auto refuse = [&](auto mutate) {
        client::Volume v = three_shards();
        mutate(v);
        MapRequest req;
        EXPECT_THROW(build_map_request(v, MapSettings{}, std::ref(fr), req), Error);
    };
    refuse([](client::Volume& v) { v.size = 0; });
    refuse([](client::Volume& v) { v.size = 1000; });
    refuse([](client::Volume& v) { v.shard_size = 3 << 20; });
    refuse([](client::Volume& v) { v.shard_size = 2048; });
    refuse([](client::Volume& v) { v.shards.pop_back(); });          // too few lists
    refuse([](client::Volume& v) { v.shards.push_back({"a:1"}); });  // too many
    refuse([](client::Volume& v) { v.shards[1].clear(); });          // no primary
    refuse([](client::Volume& v) { v.shards[0] = {"a:1", "b:2", "c:3", "d:4", "e:5"}; });
    refuse([](client::Volume& v) { v.shards[0][0] = "a:0"; });                   // bad port
    refuse([](client::Volume& v) { v.pool = std::string(QBD_NAME_MAX, 'p'); });  // too long
    refuse([](client::Volume& v) { v.volume = ""; });
    refuse([](client::Volume& v) { v.volume = "a/b"; });
}

TEST(MapRequest, LongestNamesFitNulTerminated) {
    FakeResolver fr;
    client::Volume v = three_shards();
    v.pool = std::string(QBD_NAME_MAX - 1, 'p');
    v.volume = std::string(QBD_NAME_MAX - 1, 'v');
    MapRequest req;
    build_map_request(v, MapSettings{}, std::ref(fr), req);
    EXPECT_EQ(req.map.pool[QBD_NAME_MAX - 1], 0);
    EXPECT_EQ(req.map.volume[QBD_NAME_MAX - 1], 0);
    EXPECT_EQ(std::string(req.map.pool), v.pool);
}

TEST(MapRequest, TooManyAddresses) {
    FakeResolver fr;
    client::Volume v;
    v.pool = "p";
    v.volume = "v";
    v.shard_size = 4096;
    v.size = 4096ULL * (QBD_MAX_ADDRS + 1);
    for (int i = 0; i <= QBD_MAX_ADDRS; i++) v.shards.push_back({"h" + std::to_string(i) + ":1"});
    MapRequest req;
    EXPECT_THROW(build_map_request(v, MapSettings{}, std::ref(fr), req), Error);
    v.shards.back() = {"h0:1"};
    EXPECT_NO_THROW(build_map_request(v, MapSettings{}, std::ref(fr), req));
    EXPECT_EQ(req.map.nr_addrs, static_cast<uint32_t>(QBD_MAX_ADDRS));
}

TEST(MapRequest, RealResolver) {
    client::Volume v = three_shards();
    v.shards = {{"127.0.0.1:7800", "[::1]:7801"}, {"127.0.0.1:7800"}, {"[::1]:7801"}};
    MapRequest req;
    build_map_request(v, MapSettings{}, resolve_addr, req);
    ASSERT_EQ(req.addrs.size(), 2u);
    EXPECT_EQ(req.addrs[0].family, AF_INET);
    EXPECT_EQ(req.addrs[1].family, AF_INET6);
    EXPECT_EQ(req.shard_map, (std::vector<uint16_t>{0, 1, 0, 0xffff, 1, 0xffff}));
}

}  // namespace qbd
