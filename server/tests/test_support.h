// What the tests that run real servers or a real Ceph cluster share.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace qbd::test {

// A loopback port free now (the kernel's pick), for a server to listen on.
inline uint16_t free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
    socklen_t sl = sizeof(sin);
    getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &sl);
    close(fd);
    return ntohs(sin.sin_port);
}

// @n bytes of data that differ with @seed, to write and read back.
inline std::vector<char> pattern(size_t n, unsigned seed) {
    std::vector<char> v(n);
    std::mt19937 rng(seed);
    for (auto& c : v) c = static_cast<char>(rng());
    return v;
}

// The cluster the CTest fixture started with tests/ceph/cluster.sh:
// QBD_CEPH_ENV names its env file (CEPH_CONF=..., CEPH_KEYRING=...,
// CEPH_POOL=..., a shell's export line, quoted values).
struct Ceph {
    std::string conf, keyring, pool;
};

inline const Ceph& ceph() {
    static const Ceph c = [] {
        Ceph c;
        const char* env = getenv("QBD_CEPH_ENV");
        std::ifstream in(env ? env : "");
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind("export ", 0) == 0) line.erase(0, 7);
            auto eq = line.find('=');
            if (eq == std::string::npos) continue;
            std::string k = line.substr(0, eq), v = line.substr(eq + 1);
            if (v.size() >= 2 && (v.front() == '"' || v.front() == '\''))
                v = v.substr(1, v.size() - 2);
            if (k == "CEPH_CONF") c.conf = v;
            if (k == "CEPH_KEYRING") c.keyring = v;
            if (k == "CEPH_POOL") c.pool = v;
        }
        return c;
    }();
    return c;
}

}  // namespace qbd::test
