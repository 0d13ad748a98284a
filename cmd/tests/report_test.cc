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
    i.epoch = 3;
    i.transport = QBD_TRANSPORT_TCP;
    i.state = QBD_STATE_LIVE;
    i.flags = QBD_MAP_READ_ONLY;
    i.stats.read_ops = 2;
    i.stats.completed = 4;
    i.stats.total_latency_ns = 8000;
    // Two paths, IO on the second.
    i.nr_paths = 2;
    i.active_path = 1;
    for (uint8_t last : {1, 2}) {
        qbd_ioc_conn_info c{};
        c.addr.family = AF_INET;
        c.addr.port = 7800;
        c.addr.addr[0] = 127;
        c.addr.addr[3] = last;
        c.state = last == 1 ? QBD_CONN_CONNECTING : QBD_CONN_LIVE;
        c.sent = 9 * last;
        d.paths.push_back(c);
    }
    return d;
}

}  // namespace

TEST(Report, EmptyList) {
    EXPECT_EQ(format_list({}), "dev  pool  volume  size  transport  state  paths  active\n");
    EXPECT_EQ(format_list_json({}), "{\n  \"version\": 1,\n  \"devices\": []\n}\n");
}

// A row per device; the last columns: how many paths, and the one IO goes to.
TEST(Report, ListTable) {
    DeviceInfo lone = sample(12, "p", "a-longer-volume");
    lone.info.nr_paths = 1;
    lone.info.active_path = 0;
    lone.paths.pop_back();
    std::string t = format_list({sample(0, "pool", "vol"), lone});
    EXPECT_EQ(
        t,
        "dev         pool  volume           size    transport  state  paths  active\n"
        "/dev/qbd0   pool  vol              10 GiB  tcp        live   2      127.0.0.2:7800\n"
        "/dev/qbd12  p     a-longer-volume  10 GiB  tcp        live   1      127.0.0.1:7800\n");
}

// The JSON is qbd_json.h's schema: a version, the devices under "devices",
// values as data.
TEST(Report, ListJson) {
    auto doc = nlohmann::json::parse(format_list_json({sample(0, "pool", "vol")}));
    EXPECT_EQ(doc["version"], json::kVersion);
    ASSERT_EQ(doc["devices"].size(), 1u);
    const auto& d = doc["devices"][0];
    EXPECT_EQ(d["dev"], "/dev/qbd0");
    EXPECT_EQ(d["pool"], "pool");
    EXPECT_EQ(d["volume"], "vol");
    EXPECT_EQ(d["size"], 10737418240u);
    EXPECT_EQ(d["state"], "live");
    EXPECT_EQ(d["transport"], "tcp");
    EXPECT_EQ(d["read_only"], true);
    EXPECT_EQ(d["shared"], false);
    EXPECT_EQ(d["nr_paths"], 2);
    EXPECT_EQ(d["active_address"], "127.0.0.2:7800");
    EXPECT_EQ(d["resume_mode"], "normal");
    EXPECT_EQ(d["stats"]["mean_latency_us"], 2);
    EXPECT_FALSE(d.contains("paths"));  // the list has no path table
    EXPECT_EQ(d.dump().find("shards"), std::string::npos);
}

// No active path is null, not a dash; an unknown transport is "unknown",
// and a resume mode is a name without prose.
TEST(Report, JsonValuesAreData) {
    DeviceInfo d = sample(1, "p", "v");
    d.info.active_path = 7;
    d.info.transport = 9;
    d.info.resume_mode = QBD_RESUME_ERROR;
    d.info.state = QBD_STATE_SUSPENDED;
    auto j = nlohmann::json::parse(format_info_json(d));
    EXPECT_TRUE(j["active_address"].is_null());
    EXPECT_EQ(j["transport"], "unknown");
    EXPECT_EQ(j["resume_mode"], "error");
    EXPECT_EQ(j["state"], "suspended");
    EXPECT_NE(format_info(d).find("io mode:             suspended"), std::string::npos);
    d.info.state = QBD_STATE_LIVE;  // the table explains the mode
    EXPECT_NE(format_info(d).find("error (IO fails with EIO)"), std::string::npos);
}

TEST(Report, Info) {
    std::string t = format_info(sample(3, "pool", "vol"));
    for (const char* want :
         {"/dev/qbd3", "pool/vol", "10737418240 (10 GiB)", "read-only", "2 us over 4 requests",
          "active path:         127.0.0.2:7800", "paths: 2", "driver default", "reconnects"})
        EXPECT_NE(t.find(want), std::string::npos) << want << "\n" << t;
    // One line per path, in the map's order, the active one starred.
    size_t first = t.find("   127.0.0.1:7800  connecting");
    size_t second = t.find("*  127.0.0.2:7800  live");
    EXPECT_NE(first, std::string::npos) << t;
    EXPECT_NE(second, std::string::npos) << t;
    EXPECT_LT(first, second) << t;
    EXPECT_EQ(t.find("shard"), t.find("shard size:")) << t;  // no shard or replica counts
    EXPECT_EQ(t.find("replica"), std::string::npos) << t;
    auto j = nlohmann::json::parse(format_info_json(sample(3, "pool", "vol")));
    EXPECT_EQ(j["version"], json::kVersion);
    EXPECT_EQ(j["dev"], "/dev/qbd3");
    EXPECT_EQ(j["active_path"], 1);
    ASSERT_EQ(j["paths"].size(), 2u);
    EXPECT_EQ(j["paths"][0]["address"], "127.0.0.1:7800");
    EXPECT_EQ(j["paths"][0]["active"], false);
    EXPECT_EQ(j["paths"][0]["state"], "connecting");
    EXPECT_EQ(j["paths"][1]["active"], true);
    EXPECT_EQ(j["paths"][1]["sent"], 18);
    EXPECT_EQ(j["stats"]["mean_latency_us"], 2);
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
    EXPECT_NE(map_error_message(EACCES, "p/v").find("key_file"), std::string::npos);
    EXPECT_NE(map_error_message(ETIMEDOUT, "p/v").find("timed out"), std::string::npos);
    // rdma:// never falls back to TCP, and says why it cannot map.
    EXPECT_NE(map_error_message(EPROTONOSUPPORT, "p/v").find("qbd_rdma.ko"), std::string::npos);
    EXPECT_NE(map_error_message(EADDRNOTAVAIL, "p/v").find("no RDMA path"), std::string::npos);
    EXPECT_NE(map_error_message(ECONNREFUSED, "p/v").find("refused"), std::string::npos);
    EXPECT_NE(map_error_message(EHOSTUNREACH, "p/v").find("unreachable"), std::string::npos);
}

}  // namespace qbd
