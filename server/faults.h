// Faults qbd-server injects on purpose (--fault), so tests can show what
// the server and the driver do when a disk stalls or io_uring fails, and
// that the power-cut test catches a server that does not make data durable.
// Never set in production; qbd-server(8) lists them.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

namespace qbd {

struct FaultConfig {
    // rdma-wrong-inv-rkey: an RDMA reply to a READ or WRITE through a
    // registered span invalidates another region of the client's (the last
    // one invalidated rightly, now idle) instead of the request's own.
    bool rdma_wrong_inv_rkey = false;
    // rdma-long-hello-reply: the RDMA reply to HELLO is a byte longer than
    // the client's receive buffers, so its receive fails.
    bool rdma_long_hello_reply = false;
    // stall-write=OFFSET:MS: the first WRITE at byte OFFSET waits MS
    // milliseconds before its disk IO is admitted.
    uint64_t stall_write_offset = std::numeric_limits<uint64_t>::max();
    unsigned stall_write_ms = 0;
    // ring-wait-fails: every wait for io_uring completions fails (-EIO)
    // after the IO was submitted.
    bool ring_wait_fails = false;
    // skip-flush: a FLUSH is answered 0 without its fdatasync.
    bool skip_flush = false;
    // skip-fua: a FUA WRITE is written without RWF_DSYNC.
    bool skip_fua = false;
    // flaky-crc: on each connection that agreed to checksums, every second
    // READ reply carries a wrong crc32c and every second WRITE is refused
    // as though its data had failed its crc32c (nothing of it is stored);
    // the first of each is good, so a request resent on a new connection
    // goes through.  bad-crc: every one of them.
    bool flaky_crc = false;
    bool bad_crc = false;
    // stale-once: the first WRITE the server is sent is answered
    // QBD_STATUS_STALE_EPOCH, so that the driver asks userspace to remap.
    // A WRITE, not a READ: udev's probe of a new disk reads it, and would
    // hold up the uevent of the remap request for the same disk.
    bool stale_once = false;
};

// Adds one --fault SPEC to @f; false with a message when SPEC is unknown.
bool parse_fault(const std::string& spec, FaultConfig* f, std::string* error);

}  // namespace qbd
