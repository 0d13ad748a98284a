// What qbd-server refuses before it listens (server/listen_policy.h): a
// network address without keys unless told so, and a wildcard advertised.
#include "listen_policy.h"

#include <gtest/gtest.h>

namespace qbd {
namespace {

TEST(ListenPolicy, LoopbackAddresses) {
    for (const char* a : {"127.0.0.1:7800", "127.1.2.3:1", "[::1]:7800", "localhost:7800"})
        EXPECT_TRUE(is_loopback(a)) << a;
    for (const char* a : {"0.0.0.0:7800", "[::]:7800", "10.0.0.5:7800", "192.0.2.1:1",
                          "no-such-host.invalid:7800", "garbage"})
        EXPECT_FALSE(is_loopback(a)) << a;
}

TEST(ListenPolicy, Wildcards) {
    EXPECT_TRUE(is_wildcard("0.0.0.0:7800"));
    EXPECT_TRUE(is_wildcard("[::]:7800"));
    EXPECT_FALSE(is_wildcard("127.0.0.1:7800"));
    EXPECT_FALSE(is_wildcard("10.0.0.5:7800"));
}

ServerSettings listening(std::vector<std::string> listen) {
    ServerSettings s;
    s.listen = std::move(listen);
    return s;
}

// Loopback needs no keys: only this host's users reach it.
TEST(ListenPolicy, LoopbackWithoutKeysIsServed) {
    std::string warning, error;
    EXPECT_EQ(check_listen_policy(listening({"127.0.0.1:7800", "[::1]:7800"}), &warning, &error), 0)
        << error;
    EXPECT_TRUE(warning.empty());
}

TEST(ListenPolicy, NetworkWithoutKeysIsRefused) {
    std::string warning, error;
    ServerSettings s = listening({"127.0.0.1:7800", "10.0.0.5:7800"});
    EXPECT_EQ(check_listen_policy(s, &warning, &error), -EINVAL);
    EXPECT_NE(error.find("10.0.0.5:7800 without authentication"), std::string::npos) << error;
    EXPECT_NE(error.find("add-host"), std::string::npos) << error;

    s.keys_file = "/etc/qbd/qbd-server.keys";
    EXPECT_EQ(check_listen_policy(s, &warning, &error), 0) << error;
    EXPECT_TRUE(warning.empty());
}

TEST(ListenPolicy, AllowUnauthenticatedServesWithAWarning) {
    std::string warning, error;
    ServerSettings s = listening({"10.0.0.5:7800"});
    s.allow_unauthenticated = true;
    EXPECT_EQ(check_listen_policy(s, &warning, &error), 0) << error;
    EXPECT_NE(warning.find("without authentication"), std::string::npos) << warning;
}

// A wildcard listen is fine; telling clients to connect to it is not.
TEST(ListenPolicy, AWildcardIsNeverAdvertised) {
    std::string warning, error;
    ServerSettings s = listening({"0.0.0.0:7900"});
    s.keys_file = "/k";
    EXPECT_EQ(check_listen_policy(s, &warning, &error), -EINVAL);
    EXPECT_NE(error.find("--advertise"), std::string::npos) << error;
    EXPECT_NE(error.find(":7900"), std::string::npos) << error;
    s.advertise = "[::]:7900";
    EXPECT_EQ(check_listen_policy(s, &warning, &error), -EINVAL);
    s.advertise = "10.0.0.5:7900";
    EXPECT_EQ(check_listen_policy(s, &warning, &error), 0) << error;
    EXPECT_EQ(advertised_address(s), "10.0.0.5:7900");
    EXPECT_EQ(advertised_address(listening({"127.0.0.1:7801"})), "127.0.0.1:7801");
}

}  // namespace
}  // namespace qbd
