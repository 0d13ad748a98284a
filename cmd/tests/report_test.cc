#include "report.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstring>

namespace qbd {

namespace {

DeviceInfo sample(uint32_t index, const char* pool, const char* vol) {
    DeviceInfo d;
    qbd_ioc_info& i = d.info;
    i.argsz = sizeof(i);
    i.dev_index = index;
    std::snprintf(i.disk_name, sizeof(i.disk_name), "qbd%u", index);
    std::strncpy(i.pool, pool, sizeof(i.pool) - 1);
    std::strncpy(i.volume, vol, sizeof(i.volume) - 1);
    i.size = 10ULL << 30;
    i.shard_size = 1ULL << 30;
    i.nr_shards = 10;
    i.nr_replicas = 1;
    i.epoch = 3;
    i.transport = QBD_TRANSPORT_TCP;
    i.state = QBD_STATE_LIVE;
    i.flags = QBD_MAP_READ_ONLY;
    i.stats.read_ops = 2;
    i.stats.completed = 4;
    i.stats.total_latency_ns = 8000;
    i.nr_addrs = 1;
    qbd_ioc_conn_info c{};
    c.addr.family = AF_INET;
    c.addr.port = 7800;
    c.addr.addr[0] = 127;
    c.addr.addr[3] = 1;
    c.state = QBD_CONN_LIVE;
    c.sent = 9;
    d.conns.push_back(c);
    return d;
}

}  // namespace

TEST(Report, EmptyList) {
    EXPECT_EQ(format_list({}), "dev  pool  volume  size  transport  state\n");
    EXPECT_EQ(format_list_json({}), "[]\n");
}

TEST(Report, ListTable) {
    std::string t = format_list({sample(0, "pool", "vol"), sample(12, "p", "a-longer-volume")});
    EXPECT_EQ(t,
              "dev         pool  volume           size    transport  state\n"
              "/dev/qbd0   pool  vol              10 GiB  tcp        live\n"
              "/dev/qbd12  p     a-longer-volume  10 GiB  tcp        live\n");
}

TEST(Report, ListJson) {
    std::string j = format_list_json({sample(0, "pool", "vol")});
    EXPECT_NE(j.find("\"dev\": \"/dev/qbd0\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"size\": 10737418240"), std::string::npos) << j;
    EXPECT_NE(j.find("\"state\": \"live\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"read_only\": true"), std::string::npos) << j;
    EXPECT_EQ(j.find("connections"), std::string::npos) << j;
}

TEST(Report, Info) {
    std::string t = format_info(sample(3, "pool", "vol"));
    for (const char* want :
         {"/dev/qbd3", "pool/vol", "10737418240 (10 GiB)", "read-only", "2 us over 4 requests",
          "127.0.0.1:7800", "live", "driver default", "reconnects"})
        EXPECT_NE(t.find(want), std::string::npos) << want << "\n" << t;
    std::string j = format_info_json(sample(3, "pool", "vol"));
    EXPECT_NE(j.find("\"address\": \"127.0.0.1:7800\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"mean_latency_us\": 2"), std::string::npos) << j;
    EXPECT_NE(j.find("\"sent\": 9"), std::string::npos) << j;
}

TEST(Report, StateNames) {
    EXPECT_STREQ(dev_state_name(QBD_STATE_CONNECTING), "connecting");
    EXPECT_STREQ(dev_state_name(QBD_STATE_RECONNECTING), "reconnecting");
    EXPECT_STREQ(dev_state_name(QBD_STATE_SUSPENDED), "suspended");
    EXPECT_STREQ(dev_state_name(QBD_STATE_FAILED), "failed");
    EXPECT_STREQ(dev_state_name(QBD_STATE_DELETING), "deleting");
    EXPECT_STREQ(dev_state_name(99), "unknown");
    EXPECT_STREQ(conn_state_name(QBD_CONN_DOWN), "down");
}

TEST(Report, ErrorMessages) {
    EXPECT_NE(unmap_error_message(EBUSY, "qbd0")
                  .find("device is open by another process; close it or use --force"),
              std::string::npos);
    EXPECT_NE(map_error_message(EEXIST, "p/v").find("already mapped"), std::string::npos);
    EXPECT_NE(map_error_message(EACCES, "p/v").find("secret"), std::string::npos);
    EXPECT_NE(map_error_message(ETIMEDOUT, "p/v").find("timed out"), std::string::npos);
    // rdma:// never falls back to TCP, and says why it cannot map.
    EXPECT_NE(map_error_message(EPROTONOSUPPORT, "p/v").find("qbd_rdma.ko"), std::string::npos);
    EXPECT_NE(map_error_message(EADDRNOTAVAIL, "p/v").find("no RDMA path"), std::string::npos);
    EXPECT_NE(map_error_message(ECONNREFUSED, "p/v").find("refused"), std::string::npos);
    EXPECT_NE(map_error_message(EHOSTUNREACH, "p/v").find("unreachable"), std::string::npos);
}

}  // namespace qbd
