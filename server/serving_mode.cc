#include "serving_mode.h"

#include <pthread.h>
#include <sys/socket.h>

namespace qbd {

namespace {
// Latency-bound: at least this many batches of the window held one small
// request.  Above kSmallBytes, moving the data costs more than a wakeup.
constexpr unsigned kSinglesToBind = ServingMode::kWindow * 3 / 4;
constexpr uint64_t kSmallBytes = 64 * 1024;
}  // namespace

ServingMode::ServingMode(int fd, unsigned busy_poll_us) : fd_(fd), busy_poll_us_(busy_poll_us) {
    CPU_ZERO(&allowed_);
    // One CPU allowed leaves nothing to choose.
    can_bind_ = pthread_getaffinity_np(pthread_self(), sizeof(allowed_), &allowed_) == 0 &&
                CPU_COUNT(&allowed_) > 1;
    set_policy(SCHED_BATCH);
}

// Onto one CPU (only), onto every allowed CPU but one (avoid), or onto
// every allowed CPU (both -1).
void ServingMode::set_affinity(int only, int avoid) {
    if (!can_bind_ || (only == only_cpu_ && avoid == avoid_cpu_)) return;
    cpu_set_t set = allowed_;
    if (only >= 0) {
        CPU_ZERO(&set);
        CPU_SET(only, &set);
    }
    if (avoid >= 0) CPU_CLR(avoid, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0) {
        only_cpu_ = only;
        avoid_cpu_ = avoid;
    }
}

// Best effort: a thread that cannot change policy is served as it is.
void ServingMode::set_policy(int policy) {
    if (policy == policy_) return;
    sched_param no_priority{};
    if (sched_setscheduler(0, policy, &no_priority) == 0) policy_ = policy;
}

// The CPU that receives the connection's packets, or -1 when unknown or
// not one this thread may use.
int ServingMode::incoming_cpu() const {
    int cpu = -1;
    socklen_t len = sizeof(cpu);
    if (getsockopt(fd_, SOL_SOCKET, SO_INCOMING_CPU, &cpu, &len) == 0 && cpu >= 0 &&
        cpu < CPU_SETSIZE && CPU_ISSET(cpu, &allowed_))
        return cpu;
    return -1;
}

// Onto the CPU that receives the connection's packets.
void ServingMode::follow_incoming_cpu() {
    if (int cpu = incoming_cpu(); cpu >= 0) set_affinity(cpu, -1);
}

// Beside the submitter, to preempt it, or away from it, to poll.
void ServingMode::place_for_latency() {
    if (!busy_poll_us_)
        follow_incoming_cpu();
    else if (int cpu = incoming_cpu(); cpu >= 0)
        set_affinity(-1, cpu);
}

void ServingMode::serve_for_latency() {
    latency_bound_ = true;
    place_for_latency();
    set_policy(SCHED_OTHER);
    // Away from the submitter, polling or not, the thread preempts nothing,
    // so queuing shows in the windows themselves: no probe, whose few
    // requests served without polling were a good part of the slowest 1%.
    if (avoid_cpu_ >= 0 || ++latency_windows_ % kProbeEvery) return;
    // The probe watches from beside the submitter, without preempting it
    // and without polling.
    probing_ = true;
    probe_batches_ = probe_requests_ = 0;
    follow_incoming_cpu();
    set_policy(SCHED_BATCH);
}

void ServingMode::serve_for_throughput(bool small_requests) {
    latency_bound_ = false;
    latency_windows_ = 0;
    if (small_requests)
        follow_incoming_cpu();
    else
        set_affinity(-1, -1);
    set_policy(SCHED_BATCH);
}

void ServingMode::batch_served(unsigned requests, uint64_t bytes) {
    if (probing_) {
        probe_requests_ += requests;
        if (++probe_batches_ < kProbeBatches) return;
        probing_ = false;
        // Requests queued up once nothing answered each on its own.
        if (probe_requests_ > probe_batches_) {
            serve_for_throughput(true);
        } else {
            place_for_latency();
            set_policy(SCHED_OTHER);
        }
        return;
    }
    singles_ += requests == 1 && bytes <= kSmallBytes;
    requests_ += requests;
    bytes_ += bytes;
    if (++batches_ < kWindow) return;
    const bool latency_bound = singles_ >= kSinglesToBind;
    const bool small_requests = bytes_ <= requests_ * kSmallBytes;
    batches_ = singles_ = 0;
    requests_ = 0;
    bytes_ = 0;
    if (latency_bound)
        serve_for_latency();
    else
        serve_for_throughput(small_requests);
}

}  // namespace qbd
