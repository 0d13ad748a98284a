// Both tools print one JSON schema (qbd_json.h): qbd's documents (from its
// report code, no driver needed) and qbd-server's (list and info against a
// real server on loopback) are parsed here, and their versions, key names
// and value types compared.
#include <gtest/gtest.h>
#include <stdio.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "qbd_json.h"
#include "report.h"
#include "server_process.h"

namespace qbd {

namespace {

using Parsed = nlohmann::json;

// A mapped device with two paths, as the driver would describe it.
DeviceInfo sample_device() {
    DeviceInfo d;
    qbd_ioc_info& i = d.info;
    i.argsz = sizeof(i);
    i.dev_index = 0;
    std::snprintf(i.disk_name, sizeof(i.disk_name), "qbd0");
    std::snprintf(i.pool, sizeof(i.pool), "pool");
    std::snprintf(i.volume, sizeof(i.volume), "vol");
    i.volume_id = 1ULL << 60;  // past a double's 53 bits: must come out exact
    i.size = 4ULL << 20;
    i.shard_size = 1ULL << 20;
    i.epoch = 1;
    i.transport = QBD_TRANSPORT_TCP;
    i.state = QBD_STATE_LIVE;
    i.nr_paths = 2;
    for (uint8_t last : {1, 2}) {
        qbd_ioc_conn_info c{};
        c.addr.family = AF_INET;
        c.addr.port = 7800;
        c.addr.addr[0] = 127;
        c.addr.addr[3] = last;
        c.state = QBD_CONN_LIVE;
        d.paths.push_back(c);
    }
    return d;
}

// What `cmd` prints on standard output; its exit status must be 0.
std::string output_of(const std::string& cmd) {
    FILE* p = popen(cmd.c_str(), "r");
    EXPECT_NE(p, nullptr) << cmd;
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << cmd;
    return out;
}

Parsed parse(const std::string& text) {
    Parsed j = Parsed::parse(text, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << text;
    return j;
}

// Values are data: every string is a name, an address or one of the
// schema's enums, never a sentence.
void expect_data_values(const Parsed& j, const std::string& where = "") {
    static const std::set<std::string> names = {"dev", "pool", "volume", "address",
                                                "active_address"};
    static const std::map<std::string, std::set<std::string>> enums = {
        {"transport", {"tcp", "rdma", "unknown"}},
        {"resume_mode", {"normal", "error", "discard"}},
        {"state",
         {"connecting", "live", "reconnecting", "suspended", "failed", "deleting", "down",
          "released", "closing", "unknown"}},
    };
    if (j.is_array()) {
        for (const auto& e : j) expect_data_values(e, where);
        return;
    }
    if (!j.is_object()) return;
    for (const auto& [k, v] : j.items()) {
        if (v.is_structured()) {
            expect_data_values(v, k);
            continue;
        }
        if (!v.is_string()) continue;
        if (auto e = enums.find(k); e != enums.end()) {
            EXPECT_TRUE(e->second.count(v.get<std::string>())) << where << "." << k << ": " << v;
        } else {
            EXPECT_TRUE(names.count(k)) << where << "." << k << " is a string: " << v;
        }
    }
}

// Every key of @server's object is in @qbd's, with a value of the same type.
void expect_same_keys(const Parsed& server, const Parsed& qbd, const std::string& what) {
    for (const auto& [k, v] : server.items()) {
        ASSERT_TRUE(qbd.contains(k)) << what << ": qbd-server says " << k << ", qbd does not";
        EXPECT_EQ(v.type_name(), std::string(qbd[k].type_name())) << what << "." << k;
        EXPECT_EQ(v.is_number_unsigned(), qbd[k].is_number_unsigned()) << what << "." << k;
    }
}

class JsonSchema : public testing::Test {
  protected:
    void SetUp() override {
        server_.start();
        auto c = server_.connect();
        ASSERT_TRUE(c);
        ASSERT_EQ(c->create("pool", "vol", 4 << 20, 1 << 20), 0) << c->error();
    }
    std::string server_cmd(const std::string& args) const {
        return std::string(QBD_SERVER_BINARY) + " " + args + " --server " + server_.addr();
    }
    test::ServerProcess server_;
};

}  // namespace

TEST_F(JsonSchema, BothToolsHaveTheVersion) {
    Parsed qbd_list = parse(format_list_json({sample_device()}));
    Parsed qbd_info = parse(format_info_json(sample_device()));
    Parsed srv_list = parse(output_of(server_cmd("list --json")));
    Parsed srv_info = parse(output_of(server_cmd("info pool/vol --json")));
    for (const Parsed* doc : {&qbd_list, &qbd_info, &srv_list, &srv_info}) {
        ASSERT_TRUE(doc->is_object()) << *doc;
        EXPECT_EQ((*doc)["version"], json::kVersion) << *doc;
    }
    ASSERT_TRUE(qbd_list["devices"].is_array());
    ASSERT_TRUE(srv_list["volumes"].is_array());
    EXPECT_EQ(qbd_list["devices"].size(), 1u);
    EXPECT_EQ(srv_list["volumes"].size(), 1u);
}

// A volume has the same keys in both tools: pool, volume, volume_id, size,
// shard_size, epoch, and paths of objects with an address.
TEST_F(JsonSchema, TheSameKeysInBothTools) {
    Parsed qbd_info = parse(format_info_json(sample_device()));
    Parsed qbd_dev = parse(format_list_json({sample_device()}))["devices"][0];
    Parsed srv_info = parse(output_of(server_cmd("info pool/vol -o json")));
    Parsed srv_vol = parse(output_of(server_cmd("list --output-format=json")))["volumes"][0];

    for (const char* k : {json::key::pool, json::key::volume, json::key::volume_id, json::key::size,
                          json::key::shard_size, json::key::epoch}) {
        EXPECT_TRUE(srv_info.contains(k)) << k;
        EXPECT_TRUE(srv_vol.contains(k)) << k;
        EXPECT_TRUE(qbd_info.contains(k)) << k;
    }
    EXPECT_EQ(srv_info["pool"], "pool");
    EXPECT_EQ(srv_info["volume"], "vol");
    EXPECT_EQ(srv_info["size"], 4u << 20);
    EXPECT_EQ(srv_info["shard_size"], 1u << 20);
    EXPECT_EQ(qbd_info["volume_id"].get<uint64_t>(), 1ULL << 60);

    Parsed srv_path = srv_info["paths"][0];
    Parsed qbd_path = qbd_info["paths"][0];
    EXPECT_EQ(srv_path["address"], server_.addr());
    expect_same_keys(srv_path, qbd_path, "path");
    srv_info.erase("paths");
    expect_same_keys(srv_info, qbd_info, "info");
    expect_same_keys(srv_vol, qbd_dev, "list");
}

TEST_F(JsonSchema, ValuesAreData) {
    expect_data_values(parse(format_list_json({sample_device()})));
    expect_data_values(parse(format_info_json(sample_device())));
    expect_data_values(parse(output_of(server_cmd("list --json"))));
    expect_data_values(parse(output_of(server_cmd("info pool/vol --json"))));
}

// -o table is the default, and a table: a header, then a row per volume.
TEST_F(JsonSchema, TableIsTheDefault) {
    std::string list = output_of(server_cmd("list"));
    EXPECT_EQ(list, output_of(server_cmd("list -o table")));
    EXPECT_TRUE(
        list.starts_with("pool  volume  size   shard_size  epoch  volume_id\n"
                         "pool  vol     4 MiB  1 MiB       1      "))
        << list;
    std::string info = output_of(server_cmd("info pool/vol"));
    EXPECT_NE(info.find("\nsize:        4194304 (4 MiB)\n"), std::string::npos) << info;
    EXPECT_NE(info.find("\npath:        " + server_.addr() + "\n"), std::string::npos) << info;
}

}  // namespace qbd
