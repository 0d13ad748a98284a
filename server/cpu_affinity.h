// Keeps a latency-bound connection's thread on the CPU that receives its
// packets.
//
// The kernel runs a socket's receive processing on the CPU of the network
// queue (or, over loopback, of the sender).  A thread woken there from
// another CPU costs an inter-processor interrupt per request, and an idle
// CPU must wake up for it: at queue depth 1 that is most of the latency.
// Following SO_INCOMING_CPU makes that wakeup local, as nvmet's per-queue
// io_cpu does.  A connection whose requests arrive together (batches of
// more than one) or are large is bound by throughput instead, and is better
// off free to run beside the CPU that feeds it: it gets back every CPU it
// was allowed.
#pragma once

#include <sched.h>

#include <cstdint>

namespace qbd {

class IncomingCpuAffinity {
  public:
    // fd: the connection's socket.  The thread is only moved within the
    // CPUs it was allowed when this was made (taskset, cpusets).
    explicit IncomingCpuAffinity(int fd);
    // Called after each batch the connection answered: how many requests
    // it held and the bytes they moved.
    void batch_served(unsigned requests, uint64_t bytes);

  private:
    void bind(int cpu);

    int fd_;
    cpu_set_t allowed_;
    bool usable_ = false;
    int cpu_ = -1;  // bound to, or -1: free to use every allowed CPU
    unsigned batches_ = 0;
    unsigned singles_ = 0;  // batches of one small request in this window
};

}  // namespace qbd
