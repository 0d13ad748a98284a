// Where qbd-server keeps volumes: the storage backend interface.
//
// A Backend answers the control operations (create, delete, resize, list,
// info) and opens a volume for IO.  Each opened volume is a VolumeIo owned
// by one connection's thread: requests are queued with submit(), started
// and collected with wait(), in batches, the way io_uring is driven:
//
//     for each request of the batch: io.submit(req)
//     n = io.wait(nr_submitted, done, max)   // one syscall for the file
//     if (io.dead()) drop the connection, answer nothing
//
// The file backend maps this straight onto an io_uring; the rbd backend
// onto librbd's asynchronous calls, whose completion callbacks (librbd's
// threads) queue the result and signal an eventfd that wait() sleeps on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "claim_store.h"

namespace qbd {

enum class IoKind : uint8_t { read, write, flush, discard, write_zeroes };

// One data request.  @buf (READ and WRITE) belongs to the caller and must
// stay valid until the request's completion was returned by wait().
struct IoRequest {
    IoKind kind = IoKind::read;
    bool fua = false;  // WRITE: answered only once it is durable
    uint32_t length = 0;
    uint64_t offset = 0;
    char* buf = nullptr;
    uint64_t cookie = 0;  // handed back in the completion
};

// @res: the bytes moved (READ and WRITE, always the full length; a READ
// past the end of a sparse file reads zeros) or 0 (the others) on
// success; a negative errno on failure.
struct IoCompletion {
    uint64_t cookie = 0;
    int res = 0;
};

class VolumeIo {
  public:
    virtual ~VolumeIo() = default;

    // Queues @r; it is started no later than the next wait().  Never
    // fails: an error is @r's completion.  At most queue_depth() requests
    // may be submitted and not yet returned by wait().
    virtual void submit(const IoRequest& r) = 0;
    // Starts what submit() queued, waits until at least @min completions
    // are at hand and stores up to @max of them in @out.  Returns how many
    // it stored, or a negative errno when the backend cannot say what
    // became of the requests in flight (they may still complete: do not
    // reuse their buffers; end the connection).
    virtual int wait(unsigned min, IoCompletion* out, unsigned max) = 0;
    virtual unsigned queue_depth() const = 0;

    // The volume's size now: another server may have grown it.
    virtual uint64_t size() = 0;
    // This server may no longer touch the volume (Ceph fenced it: another
    // gateway took the image over).  Nothing completed since may be
    // answered, not even as an error: the connection ends unanswered and
    // the client resends on another path.
    virtual bool dead() const = 0;

    VolumeIo() = default;
    VolumeIo(const VolumeIo&) = delete;
    VolumeIo& operator=(const VolumeIo&) = delete;
};

// Runs one request to completion (the RDMA listener serves one at a
// time): the completion's res.
inline int run_io(VolumeIo& io, const IoRequest& r) {
    io.submit(r);
    IoCompletion c;
    int n = io.wait(1, &c, 1);
    return n < 0 ? n : c.res;
}

struct VolumeInfo {
    std::string pool;
    std::string name;
    uint64_t id = 0;  // the same on every server serving the volume, never 0
    uint64_t size = 0;
    uint64_t shard_size = 0;  // power of two; no request crosses a multiple of it
    uint64_t epoch = 1;
};

struct CreateSpec {
    std::string pool;
    std::string name;
    uint64_t size = 0;
    uint64_t shard_size = 0;  // 0: the backend's default
    std::string device;       // file backend: an existing block device or file
};

// Control operations return 0 or a negative errno with a message for the
// log and the user in @error.  Every method is thread-safe.
class Backend {
  public:
    virtual ~Backend() = default;
    virtual const char* name() const = 0;

    virtual int create(const CreateSpec& spec, VolumeInfo* out, std::string* error) = 0;
    virtual int remove(const std::string& pool, const std::string& name, std::string* error) = 0;
    // Grows a volume; shrinking is refused.
    virtual int resize(const std::string& pool, const std::string& name, uint64_t new_size,
                       VolumeInfo* out, std::string* error) = 0;
    virtual int info(const std::string& pool, const std::string& name, VolumeInfo* out,
                     std::string* error) = 0;
    // Every volume of @pool ("": of every pool served), ordered by pool
    // and name.
    virtual int list(const std::string& pool, std::vector<VolumeInfo>* out, std::string* error) = 0;
    // Opens volume @id for IO, for reading only with @read_only.
    virtual int open(uint64_t id, bool read_only, std::unique_ptr<VolumeIo>* io, VolumeInfo* info,
                     std::string* error) = 0;
    // Where the writer claims of volumes that other servers serve too are
    // recorded (claim_store.h); none for a backend only this server serves.
    virtual ClaimStore* claim_store() { return nullptr; }

    Backend() = default;
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;
};

}  // namespace qbd
