#include "addr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "error.h"

namespace qbd {

TEST(Addr, ParseHostPort) {
    auto a = parse_host_port("127.0.0.1:7800");
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 7800);
    auto b = parse_host_port("[::1]:7801");
    EXPECT_EQ(b.host, "::1");
    EXPECT_EQ(b.port, 7801);
    EXPECT_EQ(b.str(), "[::1]:7801");
    auto c = parse_host_port("server.example", 7800);
    EXPECT_EQ(c.port, 7800);
    EXPECT_EQ(parse_host_port("[fe80::1]", 9).port, 9);
}

TEST(Addr, BadHostPort) {
    for (const char* bad : {"host", ":7800", "host:", "host:0", "host:65536", "host:-1", "host:80x",
                            "::1:7800", "[::1", "[::1]x", "[1.2.3.4]:80", "[]:80", "ho st:80"}) {
        EXPECT_THROW(parse_host_port(bad), Error) << bad;
    }
}

TEST(Addr, ResolveIpv4) {
    qbd_ioc_addr a = resolve_addr(parse_host_port("127.0.0.1:7800"));
    EXPECT_EQ(a.family, AF_INET);
    EXPECT_EQ(a.port, 7800);  // host byte order
    EXPECT_EQ(a.reserved, 0u);
    const unsigned char want[4] = {127, 0, 0, 1};
    EXPECT_EQ(0, memcmp(a.addr, want, 4));
    for (int i = 4; i < 16; i++) EXPECT_EQ(a.addr[i], 0);
    EXPECT_EQ(format_addr(a), "127.0.0.1:7800");
}

TEST(Addr, ResolveIpv6) {
    qbd_ioc_addr a = resolve_addr(parse_host_port("[::1]:7800"));
    EXPECT_EQ(a.family, AF_INET6);
    EXPECT_EQ(a.port, 7800);
    unsigned char want[16] = {};
    want[15] = 1;
    EXPECT_EQ(0, memcmp(a.addr, want, 16));
    EXPECT_EQ(format_addr(a), "[::1]:7800");
}

TEST(Addr, ResolveFailure) {
    EXPECT_THROW(resolve_addr(HostPort{"no-such-host.invalid", 7800}), Error);
}

}  // namespace qbd
