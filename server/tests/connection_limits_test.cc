#include "connection_limits.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace qbd {
namespace {

using namespace std::chrono_literals;
using Place = ConnectionLimits::Place;

TEST(ConnectionLimits, AHostGetsItsShareAndAPlaceComesBackOnce) {
    ConnectionLimits l(10, 2);
    std::string say;
    Place a = l.admit("192.0.2.1", &say);
    Place b = l.admit("192.0.2.1", &say);
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(l.admit("192.0.2.1", &say));
    EXPECT_EQ(say,
              "refused a connection from 192.0.2.1: 2 connections from that address "
              "(max_connections_per_host)");
    Place other = l.admit("192.0.2.2", &say);
    EXPECT_TRUE(other);
    EXPECT_EQ(l.total(), 3u);
    // Moved, a place is still given back once.
    Place moved = std::move(a);
    EXPECT_FALSE(a);
    moved = Place();
    EXPECT_EQ(l.of_host("192.0.2.1"), 1u);
    EXPECT_TRUE(l.admit("192.0.2.1", &say));  // and given back again at once
    EXPECT_EQ(l.of_host("192.0.2.1"), 1u);
    b = Place();
    other = Place();
    EXPECT_EQ(l.total(), 0u);
    EXPECT_EQ(l.hosts(), 0u) << "addresses without connections are forgotten";
}

TEST(ConnectionLimits, TheOverallLimitHoldsAcrossHosts) {
    ConnectionLimits l(3, 128);
    std::string say;
    std::vector<Place> held;
    for (int i = 0; i < 3; i++) held.push_back(l.admit("198.51.100." + std::to_string(i), &say));
    for (const Place& p : held) EXPECT_TRUE(p);
    EXPECT_FALSE(l.admit("198.51.100.9", &say));
    EXPECT_EQ(say,
              "refused a connection from 198.51.100.9: 3 connections in all (max_connections)");
    held.pop_back();
    EXPECT_TRUE(l.admit("198.51.100.9", &say));
}

// A per-host limit above the overall one is the overall one.
TEST(ConnectionLimits, APerHostLimitAboveTheTotalIsTheTotal) {
    ConnectionLimits l(2, 128);
    std::string say;
    Place a = l.admit("::1", &say), b = l.admit("::1", &say);
    EXPECT_TRUE(a && b);
    EXPECT_FALSE(l.admit("::1", &say));
}

// At most one line a second; the next says how many went unsaid.
TEST(ConnectionLimits, RefusalsAreLoggedOnceASecondWithACount) {
    ConnectionLimits l(1, 1);
    std::string say;
    const auto t0 = ConnectionLimits::Clock::time_point{} + 100s;
    Place held = l.admit("203.0.113.1", &say, t0);
    EXPECT_FALSE(l.admit("203.0.113.2", &say, t0));
    EXPECT_FALSE(say.empty());
    for (int i = 1; i <= 5; i++) {
        EXPECT_FALSE(l.admit("203.0.113.2", &say, t0 + i * 100ms));
        EXPECT_EQ(say, "") << i;
    }
    EXPECT_FALSE(l.admit("203.0.113.3", &say, t0 + 1s));
    EXPECT_EQ(say,
              "refused a connection from 203.0.113.3: 1 connections in all (max_connections); 5 "
              "more refused since the last such line");
    EXPECT_FALSE(l.admit("203.0.113.3", &say, t0 + 2500ms));
    EXPECT_EQ(say, "refused a connection from 203.0.113.3: 1 connections in all (max_connections)");
}

}  // namespace
}  // namespace qbd
