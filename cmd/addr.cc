#include "addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "error.h"
#include "strutil.h"

namespace qbd {

std::string HostPort::str() const {
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

HostPort parse_host_port(std::string_view s, uint16_t default_port) {
    HostPort hp;
    std::string_view port_str;
    bool has_port = false;
    auto bad = [&](const std::string& why) -> HostPort {
        throw Error(EINVAL, "bad address '" + std::string(s) + "': " + why);
    };

    if (s.starts_with("[")) {
        size_t close = s.find(']');
        if (close == std::string_view::npos) return bad("missing ']'");
        hp.host = s.substr(1, close - 1);
        std::string_view after = s.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return bad("expected ':' after ']'");
            port_str = after.substr(1);
            has_port = true;
        }
        if (hp.host.find(':') == std::string::npos)
            return bad("brackets are only for IPv6 addresses");
    } else {
        size_t colon = s.rfind(':');
        if (colon != std::string_view::npos) {
            if (s.find(':') != colon) return bad("put IPv6 addresses in brackets: [addr]:port");
            hp.host = s.substr(0, colon);
            port_str = s.substr(colon + 1);
            has_port = true;
        } else {
            hp.host = s;
        }
    }
    if (hp.host.empty()) return bad("empty host");
    for (char c : hp.host)
        if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '[' || c == ']')
            return bad("invalid character in host");
    if (has_port) {
        auto port = parse_uint(port_str, 1, 65535);
        if (!port) return bad("port must be a number from 1 to 65535");
        hp.port = static_cast<uint16_t>(*port);
    } else {
        if (!default_port) return bad("missing ':port'");
        hp.port = default_port;
    }
    return hp;
}

qbd_ioc_addr resolve_addr(const HostPort& hp) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    addrinfo* res = nullptr;
    std::string port = std::to_string(hp.port);
    int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res);
    if (rc == EAI_ADDRFAMILY || rc == EAI_NONAME) {
        // AI_ADDRCONFIG hides ::1 on hosts with no IPv6 address configured
        // (containers); a literal the user wrote should still resolve.
        hints.ai_flags = AI_NUMERICSERV;
        rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res);
    }
    if (rc) {
        int err = rc == EAI_SYSTEM ? errno : EHOSTUNREACH;
        throw Error(err, "cannot resolve '" + hp.str() +
                             "': " + (rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc)));
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);

    qbd_ioc_addr out{};
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            auto* sin = reinterpret_cast<sockaddr_in*>(ai->ai_addr);
            out.family = AF_INET;
            out.port = hp.port;
            std::memcpy(out.addr, &sin->sin_addr, 4);
            return out;
        }
        if (ai->ai_family == AF_INET6) {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(ai->ai_addr);
            out.family = AF_INET6;
            out.port = hp.port;
            std::memcpy(out.addr, &sin6->sin6_addr, 16);
            return out;
        }
    }
    throw Error(EHOSTUNREACH, "cannot resolve '" + hp.str() + "': no IPv4 or IPv6 address");
}

std::string format_addr(const qbd_ioc_addr& a) {
    char buf[INET6_ADDRSTRLEN];
    if (a.family == AF_INET && inet_ntop(AF_INET, a.addr, buf, sizeof(buf)))
        return std::string(buf) + ":" + std::to_string(a.port);
    if (a.family == AF_INET6 && inet_ntop(AF_INET6, a.addr, buf, sizeof(buf)))
        return "[" + std::string(buf) + "]:" + std::to_string(a.port);
    return "family" + std::to_string(a.family) + ":" + std::to_string(a.port);
}

}  // namespace qbd
