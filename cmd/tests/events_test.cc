// qbd --events' lines (events.h): every driver event of include/qbd_genl.h
// has a name, and its JSON line parses and carries what the event says,
// in qbd_json.h's schema.  The events themselves, from a real driver, are
// the guest scenario 69-driver-events'.
#include "events.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "qbd_genl.h"
#include "qbd_json.h"

namespace qbd {

TEST(DriverEvents, EveryEventHasAName) {
    for (uint32_t t : {QBD_EVENT_CONN_LOST, QBD_EVENT_CONN_RESTORED, QBD_EVENT_GAVE_UP,
                       QBD_EVENT_REMAP_WANTED, QBD_EVENT_RESIZED})
        EXPECT_NE(event_name(t), nullptr) << t;
    EXPECT_EQ(event_name(0), nullptr);
    EXPECT_EQ(event_name(99), nullptr);
}

TEST(DriverEvents, AJsonLinePerEvent) {
    DriverEvent e;
    e.type = QBD_EVENT_CONN_LOST;
    e.dev_index = 3;
    e.disk = "qbd3";
    e.pool = "pool";
    e.volume = "vol";
    e.address = "127.0.0.1:7800";
    e.time_ms = 1765000000123;
    const std::string line = event_json_line(e);
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "not one line: " << line;
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["version"], json::kVersion);
    EXPECT_EQ(j["event"], "connection_lost");
    EXPECT_EQ(j["dev"], "/dev/qbd3");
    EXPECT_EQ(j["dev_index"], 3);
    EXPECT_EQ(j["pool"], "pool");
    EXPECT_EQ(j["volume"], "vol");
    EXPECT_EQ(j["address"], "127.0.0.1:7800");
    EXPECT_EQ(j["time_ms"], 1765000000123);
    EXPECT_FALSE(j.contains("size"));

    e.type = QBD_EVENT_RESIZED;
    e.address.reset();
    e.size = 1ULL << 40;
    j = nlohmann::json::parse(event_json_line(e));
    EXPECT_EQ(j["event"], "resized");
    EXPECT_EQ(j["size"], 1ULL << 40);
    EXPECT_FALSE(j.contains("address"));
    EXPECT_EQ(event_text_line(e), "resized /dev/qbd3 pool/vol size 1099511627776\n");

    e.type = 77;  // from a newer driver
    EXPECT_TRUE(nlohmann::json::parse(event_json_line(e))["event"].is_null());
}

}  // namespace qbd
