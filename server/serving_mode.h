// How a connection's thread is scheduled, chosen from how its requests
// arrive.
//
// Latency-bound (one small request at a time): the thread runs on the CPU
// that receives the connection's packets and, woken there, preempts the
// submitter.  The kernel runs a socket's receive processing on the CPU of
// the network queue (or, over loopback, of the sender); a thread woken
// there from another CPU costs an inter-processor interrupt per request,
// and an idle CPU must wake up for it: at queue depth 1 that is most of the
// latency.  Following SO_INCOMING_CPU makes that wakeup local, as nvmet's
// per-queue io_cpu does.
//
// Throughput-bound (requests in batches, or large): the thread is
// SCHED_BATCH, so a request that wakes it does not preempt a submitter on
// the same CPU.  The submitter goes on queuing until it waits, and the
// thread answers the lot in one recv, one batch of disk IO and one
// sendmsg.  Preempting instead answers every request on its own: at queue
// depth 32 over loopback that cost half of the IOPS.  Small requests keep
// the thread on the receiving CPU, beside its submitter; large ones give
// it every CPU it was allowed, to move data beside the CPU that feeds it
// (bound, 128k sequential writes ran at half the speed).
//
// Preemption hides queue depth (each request is answered before the next
// is sent), so a latency-bound connection now and then serves a few
// batches without it, to see whether requests queue up behind each other.
// A thread moved off the receiving CPU (busy polling below) preempts
// nothing and needs no such probe.
//
// Busy polling (qbd-server serve --busy-poll USEC): a latency-bound
// connection polls its socket for up to USEC after each answer before it
// sleeps, on any allowed CPU but the receiving one.  Neither the submitter
// nor the thread is then switched out per request: the submitter's CPU
// goes idle while it waits (a kernel thread, which keeps the address
// space), and the thread finds the next request without a wakeup.  Polling
// on the receiving CPU would take it from the submitter instead.  It costs
// up to USEC of CPU per request; off by default.
#pragma once

#include <sched.h>

#include <cstdint>

namespace qbd {

class ServingMode {
  public:
    // Batches judged together: one getsockopt per window costs nothing next
    // to their recv, disk IO and sendmsg, and a change is noticed quickly.
    static constexpr unsigned kWindow = 64;
    // A latency-bound connection probes for queued requests once every
    // kProbeEvery windows, for kProbeBatches batches: rare and short enough
    // to leave a queue-depth-1 client's 99th percentile alone.
    static constexpr unsigned kProbeEvery = 32;
    static constexpr unsigned kProbeBatches = 8;

    // fd: the connection's socket; busy_poll_us: see above (0: never).
    // The calling thread (the connection's) starts throughput-bound.  It
    // is only moved within the CPUs it was allowed when this was made
    // (taskset, cpusets).
    explicit ServingMode(int fd, unsigned busy_poll_us = 0);
    // Called after each batch the connection answered: how many requests
    // it held and the bytes they moved.
    void batch_served(unsigned requests, uint64_t bytes);
    // How long to poll the socket for the next request before sleeping on
    // it, in microseconds: 0 unless latency-bound with busy polling and
    // moved off the receiving CPU (polling there would starve the
    // submitter).
    unsigned poll_us() const {
        return latency_bound_ && !probing_ && avoid_cpu_ >= 0 ? busy_poll_us_ : 0;
    }

  private:
    int incoming_cpu() const;
    void follow_incoming_cpu();
    void place_for_latency();
    void serve_for_latency();
    void serve_for_throughput(bool small_requests);
    void set_affinity(int only, int avoid);
    void set_policy(int policy);

    int fd_;
    unsigned busy_poll_us_;
    cpu_set_t allowed_;
    bool can_bind_ = false;
    int only_cpu_ = -1;   // bound to this CPU, or -1
    int avoid_cpu_ = -1;  // on every allowed CPU but this one, or -1
    int policy_ = -1;
    bool latency_bound_ = false;
    unsigned batches_ = 0;
    unsigned singles_ = 0;   // batches of one small request in this window
    uint64_t requests_ = 0;  // and the requests and bytes of all its batches
    uint64_t bytes_ = 0;
    unsigned latency_windows_ = 0;
    bool probing_ = false;
    unsigned probe_batches_ = 0;
    unsigned probe_requests_ = 0;
};

}  // namespace qbd
