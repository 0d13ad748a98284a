// Bounded random ioctls on /dev/qbdctl: garbage, truncated, oversized and
// hostile arguments (bad lengths, unterminated strings, absurd counts, wild
// pointers).  Every call must fail cleanly; the guest test then checks the
// kernel log.  Exit status 1 if a call the driver should refuse succeeded.
//
//   qbd-ioctl-fuzz [iterations] [seed]
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "qbd_ioctl.h"

namespace {

const unsigned long known_cmds[] = {
    QBD_IOC_VERSION,      QBD_IOC_MAP,     QBD_IOC_UNMAP,  QBD_IOC_LIST,   QBD_IOC_INFO,
    QBD_IOC_SET_THROTTLE, QBD_IOC_SUSPEND, QBD_IOC_RESUME, QBD_IOC_UPDATE,
};

// A map request that passes validation except for what the caller breaks,
// pointing at a server nobody listens on, so even a surviving request
// cannot create a device.
void plausible_map(qbd_ioc_map& m, std::mt19937_64& rng, std::vector<uint8_t>& side) {
    memset(&m, 0, sizeof(m));
    m.argsz = sizeof(m);
    m.transport = QBD_TRANSPORT_TCP;
    m.nr_paths = 1;
    m.shard_size = 1 << 20;
    m.size = (rng() % 64 + 1) << 20;
    strcpy(m.pool, "fuzz");
    strcpy(m.volume, "fuzz");
    side.assign(4096, 0);
    auto* a = reinterpret_cast<qbd_ioc_addr*>(side.data());
    a->family = 2;  // AF_INET, port 1 on 127.0.0.1: refused at once
    a->port = 1;
    a->addr[0] = 127;
    a->addr[3] = 1;
    m.paths_ptr = reinterpret_cast<uintptr_t>(side.data());
    // Then break one thing.
    switch (rng() % 9) {
        case 0: m.nr_paths = rng() % 2 ? 0 : QBD_MAX_PATHS + 1 + rng() % 1000; break;
        case 1: m.nr_paths = static_cast<uint32_t>(rng()) | (1U << 31); break;
        case 2: memset(m.pool, 'p', sizeof(m.pool)); break;
        case 3: m.paths_ptr = rng(); break;
        case 4: m.shard_size = (rng() % (1 << 20)) | 1; break;  // not a power of two
        case 5: m.key_len = static_cast<uint32_t>(rng()) | 128; break;
        case 6: m.size = rng() | 1; break;
        case 7: m.argsz = static_cast<uint32_t>(rng()); break;
        default:
            a->family = static_cast<uint16_t>(rng() | 1);
            break;  // neither AF_INET nor AF_INET6
    }
}

}  // namespace

int main(int argc, char** argv) {
    long iterations = argc > 1 ? atol(argv[1]) : 20000;
    uint64_t seed = argc > 2 ? strtoull(argv[2], nullptr, 0) : 1;
    std::mt19937_64 rng(seed);

    int fd = open(QBD_CTL_PATH, O_RDWR);
    if (fd < 0) {
        perror("qbd-ioctl-fuzz: " QBD_CTL_PATH);
        return 2;
    }
    // A page followed by an unmapped one: arguments that run off the end.
    long page = sysconf(_SC_PAGESIZE);
    auto* area = static_cast<uint8_t*>(
        mmap(nullptr, page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (area == MAP_FAILED || munmap(area + page, page)) {
        perror("qbd-ioctl-fuzz: mmap");
        return 2;
    }

    std::vector<uint8_t> side;
    long unexpected = 0, failed = 0;
    for (long i = 0; i < iterations; i++) {
        unsigned long cmd;
        void* arg;
        switch (rng() % 4) {
            case 0: {  // a known command with random bytes
                cmd = known_cmds[rng() % std::size(known_cmds)];
                for (long b = 0; b < page; b++) area[b] = static_cast<uint8_t>(rng());
                arg = area + page - _IOC_SIZE(cmd) + (rng() % 2 ? 0 : rng() % 64);
                break;
            }
            case 1: {  // a plausible map with one thing broken
                cmd = rng() % 2 ? QBD_IOC_MAP : QBD_IOC_UPDATE;
                auto* m = reinterpret_cast<qbd_ioc_map*>(area);
                plausible_map(*m, rng, side);
                arg = m;
                break;
            }
            case 2:  // a known command with a wild pointer
                cmd = known_cmds[rng() % std::size(known_cmds)];
                arg = reinterpret_cast<void*>(rng() % 2 ? rng() : 0);
                break;
            default:  // a random command number
                cmd = static_cast<unsigned long>(rng());
                arg = area;
                break;
        }
        if (ioctl(fd, cmd, arg) == 0) {
            // Only VERSION and LIST can succeed on garbage-free input.
            if (cmd != QBD_IOC_VERSION && cmd != QBD_IOC_LIST) {
                fprintf(stderr, "qbd-ioctl-fuzz: ioctl %#lx unexpectedly succeeded at %ld\n", cmd,
                        i);
                unexpected++;
            }
        } else {
            failed++;
        }
    }
    printf("qbd-ioctl-fuzz: %ld calls, %ld refused, %ld unexpected successes\n", iterations, failed,
           unexpected);
    return unexpected ? 1 : 0;
}
