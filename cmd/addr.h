// Server addresses: "host:port" / "[v6addr]:port" text, and their binary
// form for the driver (struct qbd_ioc_addr).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "qbd_ioctl.h"

namespace qbd {

struct HostPort {
    std::string host;  // without brackets
    uint16_t port = 0;

    std::string str() const;  // brackets around IPv6 literals
};

// Parses "host:port", "[v6]:port", or a bare host when @default_port is
// non-zero.  Throws Error(EINVAL) naming the problem (empty host, bad port).
HostPort parse_host_port(std::string_view s, uint16_t default_port = 0);

// Resolves with getaddrinfo (numeric port, first AF_INET/AF_INET6 result)
// into the driver's binary form.  Throws Error(EHOSTUNREACH or EINVAL)
// naming the address and the resolver's reason.
qbd_ioc_addr resolve_addr(const HostPort& hp);

// "192.0.2.1:7800" / "[2001:db8::1]:7800" for display.
std::string format_addr(const qbd_ioc_addr& a);

}  // namespace qbd
