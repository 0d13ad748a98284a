// qbd-server alone, from a userspace client over loopback: 4k random read
// and write at QD32 and 128k sequential read and write.  Prints figures;
// not a test.
//
//   qbd-server-bench HOST:PORT POOL/VOLUME [seconds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "qbd_client.h"

using qbd::client::Client;
using Clock = std::chrono::steady_clock;

struct Job {
    const char* name;
    uint16_t opcode;
    uint32_t bs;
    unsigned qd;
    bool random;
};

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST:PORT POOL/VOLUME [seconds]\n", argv[0]);
        return 2;
    }
    std::string addr = argv[1], name = argv[2];
    double secs = argc > 3 ? atof(argv[3]) : 5;
    auto slash = name.find('/');
    std::unique_ptr<Client> c;
    std::string err;
    if (Client::connect(addr, {}, 5000, &c, &err)) {
        fprintf(stderr, "qbd-server-bench: %s\n", err.c_str());
        return 1;
    }
    qbd::client::Volume v;
    if (c->info(name.substr(0, slash), name.substr(slash + 1), &v) || c->open(v.id, v.epoch)) {
        fprintf(stderr, "qbd-server-bench: %s\n", c->error().c_str());
        return 1;
    }
    const Job jobs[] = {
        {"4k randread QD32", QBD_OP_READ, 4096, 32, true},
        {"4k randwrite QD32", QBD_OP_WRITE, 4096, 32, true},
        {"128k seqread QD8", QBD_OP_READ, 131072, 8, false},
        {"128k seqwrite QD8", QBD_OP_WRITE, 131072, 8, false},
    };
    printf("%-20s %10s %10s %10s %10s\n", "job", "IOPS", "MB/s", "mean_us", "p99_us");
    for (const Job& j : jobs) {
        std::vector<std::vector<char>> bufs(j.qd, std::vector<char>(j.bs, 'q'));
        std::vector<Clock::time_point> started(j.qd);
        std::vector<double> lat;
        std::mt19937_64 rng(1);
        uint64_t blocks = v.size / j.bs, next = 0, ios = 0;
        auto offset = [&] { return (j.random ? rng() % blocks : next++ % blocks) * j.bs; };
        auto t0 = Clock::now();
        for (unsigned i = 0; i < j.qd; i++) {
            started[i] = Clock::now();
            c->submit(j.opcode, offset(), bufs[i].data(), j.bs, 0, i);
        }
        while (std::chrono::duration<double>(Clock::now() - t0).count() < secs) {
            uint64_t tag;
            int status;
            if (c->reap(&tag, &status) || status) {
                fprintf(stderr, "qbd-server-bench: IO failed: %s %d\n", c->error().c_str(), status);
                return 1;
            }
            auto now = Clock::now();
            lat.push_back(std::chrono::duration<double, std::micro>(now - started[tag]).count());
            ios++;
            started[tag] = now;
            c->submit(j.opcode, offset(), bufs[tag].data(), j.bs, 0, tag);
        }
        double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        for (unsigned i = 0; i < j.qd; i++) {
            uint64_t tag;
            int status;
            c->reap(&tag, &status);
        }
        std::sort(lat.begin(), lat.end());
        double mean = 0;
        for (double l : lat) mean += l;
        mean /= lat.empty() ? 1 : lat.size();
        double p99 = lat.empty() ? 0 : lat[lat.size() * 99 / 100];
        printf("%-20s %10.0f %10.1f %10.1f %10.1f\n", j.name, ios / elapsed,
               ios * j.bs / elapsed / 1e6, mean, p99);
    }
    return 0;
}
