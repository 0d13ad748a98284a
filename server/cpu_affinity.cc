#include "cpu_affinity.h"

#include <pthread.h>
#include <sys/socket.h>

namespace qbd {

namespace {
// Batches judged together: one getsockopt per window costs nothing next
// to their recv, disk IO and sendmsg, and a change is noticed quickly.
constexpr unsigned kWindow = 64;
// Latency-bound: at least this many batches of the window held one small
// request.  Above kSmallBytes, moving the data costs more than a wakeup.
constexpr unsigned kSinglesToBind = kWindow * 3 / 4;
constexpr uint64_t kSmallBytes = 64 * 1024;
}  // namespace

IncomingCpuAffinity::IncomingCpuAffinity(int fd) : fd_(fd) {
    CPU_ZERO(&allowed_);
    // One CPU allowed leaves nothing to choose.
    usable_ = pthread_getaffinity_np(pthread_self(), sizeof(allowed_), &allowed_) == 0 &&
              CPU_COUNT(&allowed_) > 1;
}

void IncomingCpuAffinity::bind(int cpu) {
    if (cpu == cpu_) return;
    cpu_set_t set;
    if (cpu < 0) {
        set = allowed_;
    } else {
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
    }
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0) cpu_ = cpu;
}

void IncomingCpuAffinity::batch_served(unsigned requests, uint64_t bytes) {
    if (!usable_) return;
    singles_ += requests == 1 && bytes <= kSmallBytes;
    if (++batches_ < kWindow) return;
    const bool latency_bound = singles_ >= kSinglesToBind;
    batches_ = singles_ = 0;
    if (!latency_bound) {
        bind(-1);
        return;
    }
    int cpu = -1;
    socklen_t len = sizeof(cpu);
    if (getsockopt(fd_, SOL_SOCKET, SO_INCOMING_CPU, &cpu, &len) == 0 && cpu >= 0 &&
        cpu < CPU_SETSIZE && CPU_ISSET(cpu, &allowed_))
        bind(cpu);
}

}  // namespace qbd
