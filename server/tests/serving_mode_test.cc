// ServingMode: a connection served one small request at a time is moved
// onto the CPU that receives its packets and preempts its submitter; one
// whose requests arrive in batches runs SCHED_BATCH, beside the submitter
// when they are small and on every CPU when they are large; a
// latency-bound one whose probe finds requests queuing up is served in
// batches too.  With busy polling, a latency-bound connection polls, and
// does so away from the receiving CPU, never on it, and without probes:
// queuing shows in its windows; nothing else polls.
#include "serving_mode.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace qbd {
namespace {

cpu_set_t current_affinity() {
    cpu_set_t set;
    CPU_ZERO(&set);
    EXPECT_EQ(pthread_getaffinity_np(pthread_self(), sizeof(set), &set), 0);
    return set;
}

// A connected loopback TCP pair: [0] accepted (the server side), [1] the peer.
struct LoopbackPair {
    int fds[2] = {-1, -1};
    LoopbackPair() {
        int lfd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(a);
        EXPECT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
        EXPECT_EQ(listen(lfd, 1), 0);
        EXPECT_EQ(getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len), 0);
        fds[1] = socket(AF_INET, SOCK_STREAM, 0);
        EXPECT_EQ(connect(fds[1], reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
        fds[0] = accept(lfd, nullptr, nullptr);
        close(lfd);
    }
    ~LoopbackPair() {
        close(fds[0]);
        close(fds[1]);
    }
};

// Loopback receive processing runs on the sending CPU.
void send_from_cpu(int fd, int cpu) {
    std::thread([fd, cpu] {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
        char c = 'x';
        ASSERT_EQ(send(fd, &c, 1, 0), 1);
    }).join();
}

class ServingModeTest : public testing::Test {
  protected:
    void SetUp() override {
        saved_ = current_affinity();
        if (CPU_COUNT(&saved_) < 2) GTEST_SKIP() << "needs two CPUs to choose from";
        // The highest allowed CPU: not where a thread starts by default.
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &saved_)) target_ = c;
    }
    void TearDown() override { restore_thread(); }
    // Every CPU allowed again, no policy.
    void restore_thread() {
        pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_);
        sched_param no_priority{};
        sched_setscheduler(0, SCHED_OTHER, &no_priority);
    }
    // One window of batches, each of `requests` requests moving `bytes`.
    static void serve_window(ServingMode& mode, unsigned requests, uint64_t bytes) {
        for (unsigned i = 0; i < ServingMode::kWindow; i++) mode.batch_served(requests, bytes);
    }
    // Latency-bound for kProbeEvery windows: the next few batches are
    // served without preempting the submitter.
    static void serve_until_probe(ServingMode& mode) {
        for (unsigned w = 0; w < ServingMode::kProbeEvery; w++) {
            serve_window(mode, 1, 4096);
            if (w + 1 < ServingMode::kProbeEvery) {
                ASSERT_EQ(sched_getscheduler(0), SCHED_OTHER) << w;
            }
        }
        ASSERT_EQ(sched_getscheduler(0), SCHED_BATCH);
    }
    // On the CPU the test's packets arrive on, and no other.
    bool on_receiving_cpu() const {
        cpu_set_t now = current_affinity();
        return CPU_COUNT(&now) == 1 && CPU_ISSET(target_, &now);
    }
    bool on_every_cpu() const {
        cpu_set_t now = current_affinity();
        return CPU_EQUAL(&now, &saved_);
    }
    bool on_every_cpu_but_the_receiving_one() const {
        cpu_set_t but = saved_;
        CPU_CLR(target_, &but);
        cpu_set_t now = current_affinity();
        return CPU_EQUAL(&now, &but);
    }
    cpu_set_t saved_;
    int target_ = -1;
};

TEST_F(ServingModeTest, LatencyBoundThreadFollowsTheReceivingCpu) {
    LoopbackPair pair;
    send_from_cpu(pair.fds[1], target_);
    ServingMode mode(pair.fds[0]);
    serve_window(mode, 1, 4096);
    EXPECT_TRUE(on_receiving_cpu());
    EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
    EXPECT_EQ(mode.poll_us(), 0u);  // no busy polling asked for
}

TEST_F(ServingModeTest, WithBusyPollingALatencyBoundThreadPollsAwayFromTheReceivingCpu) {
    LoopbackPair pair;
    send_from_cpu(pair.fds[1], target_);
    ServingMode mode(pair.fds[0], 100);
    EXPECT_EQ(mode.poll_us(), 0u);  // not judged yet
    serve_window(mode, 1, 4096);
    EXPECT_EQ(mode.poll_us(), 100u);
    EXPECT_TRUE(on_every_cpu_but_the_receiving_one());
    EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
}

TEST_F(ServingModeTest, NoPollingWhenTheThreadMayOnlyRunOnTheReceivingCpu) {
    LoopbackPair pair;
    send_from_cpu(pair.fds[1], target_);
    cpu_set_t only;
    CPU_ZERO(&only);
    CPU_SET(target_, &only);
    ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(only), &only), 0);
    ServingMode mode(pair.fds[0], 100);
    serve_window(mode, 1, 4096);
    EXPECT_EQ(mode.poll_us(), 0u);
    EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
}

TEST_F(ServingModeTest, APollingThreadNeverStopsPollingToProbe) {
    LoopbackPair pair;
    send_from_cpu(pair.fds[1], target_);
    ServingMode mode(pair.fds[0], 100);
    for (unsigned w = 0; w < 2 * ServingMode::kProbeEvery; w++) {
        serve_window(mode, 1, 4096);
        ASSERT_EQ(mode.poll_us(), 100u) << w;
        ASSERT_TRUE(on_every_cpu_but_the_receiving_one()) << w;
        ASSERT_EQ(sched_getscheduler(0), SCHED_OTHER) << w;
    }
}

TEST_F(ServingModeTest, RequestsQueuingWhilePollingAreServedForThroughput) {
    LoopbackPair pair;
    send_from_cpu(pair.fds[1], target_);
    ServingMode mode(pair.fds[0], 100);
    serve_window(mode, 1, 4096);
    ASSERT_EQ(mode.poll_us(), 100u);
    serve_window(mode, 6, 6 * 4096);
    EXPECT_EQ(mode.poll_us(), 0u);
    EXPECT_TRUE(on_receiving_cpu());
    EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH);
}

TEST_F(ServingModeTest, SmallRequestsInBatchesStayOnTheReceivingCpuWithoutPreemptingOrPolling) {
    for (unsigned busy_poll_us : {0u, 100u}) {
        restore_thread();
        LoopbackPair pair;
        send_from_cpu(pair.fds[1], target_);
        ServingMode mode(pair.fds[0], busy_poll_us);
        serve_window(mode, 1, 4096);
        serve_window(mode, 8, 8 * 4096);
        EXPECT_TRUE(on_receiving_cpu()) << busy_poll_us;
        EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH) << busy_poll_us;
        EXPECT_EQ(mode.poll_us(), 0u);
    }
}

TEST_F(ServingModeTest, LargeRequestsInBatchesGetEveryCpuBack) {
    LoopbackPair pair;
    send_from_cpu(pair.fds[1], target_);
    ServingMode mode(pair.fds[0]);
    serve_window(mode, 1, 4096);
    serve_window(mode, 4, 4 * 128 * 1024);
    EXPECT_TRUE(on_every_cpu());
    EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH);
}

TEST_F(ServingModeTest, LargeRequestsOneAtATimeGetEveryCpuBack) {
    LoopbackPair pair;
    send_from_cpu(pair.fds[1], target_);
    ServingMode mode(pair.fds[0]);
    serve_window(mode, 1, 4096);
    serve_window(mode, 1, 128 * 1024);
    EXPECT_TRUE(on_every_cpu());
}

TEST_F(ServingModeTest, StaysWithinTheCpusItWasAllowed) {
    LoopbackPair pair;
    send_from_cpu(pair.fds[1], target_);
    // Allowed everything but the receiving CPU: nothing to follow.
    cpu_set_t without = saved_;
    CPU_CLR(target_, &without);
    ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(without), &without), 0);
    ServingMode mode(pair.fds[0]);
    serve_window(mode, 1, 4096);
    cpu_set_t now = current_affinity();
    EXPECT_TRUE(CPU_EQUAL(&now, &without));
}

TEST_F(ServingModeTest, NewConnectionDoesNotPreemptItsSubmitter) {
    LoopbackPair pair;
    ServingMode mode(pair.fds[0]);
    EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH);
}

TEST_F(ServingModeTest, ProbeThatFindsRequestsQueuingServesForThroughput) {
    LoopbackPair pair;
    send_from_cpu(pair.fds[1], target_);
    ServingMode mode(pair.fds[0]);
    ASSERT_NO_FATAL_FAILURE(serve_until_probe(mode));
    for (unsigned i = 0; i < ServingMode::kProbeBatches; i++) mode.batch_served(6, 6 * 4096);
    EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH);
    EXPECT_TRUE(on_receiving_cpu());  // still beside the submitter
}

TEST_F(ServingModeTest, ProbeThatFindsOneRequestAtATimeGoesBackToPreempting) {
    LoopbackPair pair;
    send_from_cpu(pair.fds[1], target_);
    ServingMode mode(pair.fds[0]);
    ASSERT_NO_FATAL_FAILURE(serve_until_probe(mode));
    for (unsigned i = 0; i < ServingMode::kProbeBatches; i++) mode.batch_served(1, 4096);
    EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
    EXPECT_TRUE(on_receiving_cpu());
}

}  // namespace
}  // namespace qbd
