#include "listen_policy.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cerrno>

#include "client/qbd_client.h"

namespace qbd {

namespace {

bool loopback(const sockaddr* sa) {
    if (sa->sa_family == AF_INET)
        return (ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
        // ::ffff:127.x.y.z
        return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
    }
    return false;
}

// An address of this host that clients may reach, for a message: the
// first up, non-loopback IPv4 one, or "" when there is none.
std::string some_host_address() {
    ifaddrs* ifs = nullptr;
    if (getifaddrs(&ifs)) return "";
    std::string found;
    for (ifaddrs* i = ifs; i && found.empty(); i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
            loopback(i->ifa_addr))
            continue;
        char buf[INET_ADDRSTRLEN];
        if (inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf,
                      sizeof(buf)))
            found = buf;
    }
    freeifaddrs(ifs);
    return found;
}

}  // namespace

bool is_loopback(const std::string& host_port) {
    std::string host;
    uint16_t port;
    if (client::split_host_port(host_port, &host, &port)) return false;
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &res)) return false;
    bool all = res != nullptr;
    for (addrinfo* r = res; r; r = r->ai_next) all = all && loopback(r->ai_addr);
    freeaddrinfo(res);
    return all;
}

bool is_wildcard(const std::string& host_port) {
    std::string host;
    uint16_t port;
    if (client::split_host_port(host_port, &host, &port)) return false;
    in6_addr a6;
    in_addr a4;
    if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return a4.s_addr == INADDR_ANY;
    if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) return IN6_IS_ADDR_UNSPECIFIED(&a6);
    return false;
}

std::string advertised_address(const ServerSettings& s) {
    if (!s.advertise.empty()) return s.advertise;
    return s.listen.empty() ? "127.0.0.1:" + std::to_string(QBD_DEFAULT_PORT) : s.listen[0];
}

int check_listen_policy(const ServerSettings& s, std::string* warning, std::string* error) {
    warning->clear();
    for (const std::string& addr : s.listen) {
        if (!s.keys_file.empty() || is_loopback(addr)) continue;
        if (!s.allow_unauthenticated) {
            *error = "refusing to listen on " + addr +
                     " without authentication: anyone who reaches it could read and overwrite "
                     "every volume.  Give the hosts' keys (keys_file, --keys-file; "
                     "qbd-server add-host makes them), listen on loopback only, or say "
                     "--allow-unauthenticated";
            return -EINVAL;
        }
        *warning = "insecure: serving " + addr +
                   " without authentication (allow_unauthenticated): anyone who reaches it can "
                   "read and overwrite every volume";
    }
    const std::string adv = advertised_address(s);
    if (is_wildcard(adv)) {
        std::string host, example;
        uint16_t port = QBD_DEFAULT_PORT;
        client::split_host_port(adv, &host, &port);
        const std::string mine = some_host_address();
        example = (mine.empty() ? "HOST" : mine) + ":" + std::to_string(port);
        *error = "cannot tell clients to connect to " + adv +
                 ", a wildcard: give the address they reach this server at (advertise, "
                 "--advertise " +
                 example + ")";
        return -EINVAL;
    }
    return 0;
}

}  // namespace qbd
