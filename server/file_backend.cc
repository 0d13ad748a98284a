#include "file_backend.h"

#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "auth.h"
#include "catalog.h"

namespace qbd {

namespace {

constexpr uint64_t kSectorSize = 512;

// Whether reads of @fd can be tried without blocking (FMODE_NOWAIT), which
// is what lets io_uring complete them inline instead of in a worker.
bool supports_nowait(int fd) {
    char probe[kSectorSize];
    iovec iov{probe, sizeof(probe)};
    return preadv2(fd, &iov, 1, 0, RWF_NOWAIT) >= 0 || errno != EOPNOTSUPP;
}

// A new entry of @dir survives a power cut only once the directory itself
// is synced: fsync of the file does not cover its name.
int sync_dir(const std::string& dir, std::string* error) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd)) {
        int err = -errno;
        *error = "cannot sync directory " + dir + ": " + strerror(errno);
        if (fd >= 0) close(fd);
        return err;
    }
    close(fd);
    return 0;
}

VolumeInfo info_of(const VolumeRecord& v) {
    return VolumeInfo{v.pool, v.name, v.id, v.size, v.shard_size, v.epoch};
}

class FileVolume final : public VolumeIo {
  public:
    FileVolume(Catalog& catalog, uint64_t id, int fd, const FileOptions& o)
        : catalog_(catalog),
          id_(id),
          fd_(fd),
          opts_(o),
          inline_io_(!supports_nowait(fd)),
          slots_(o.queue_depth) {
        for (unsigned i = 0; i < o.queue_depth; i++) free_.push_back(o.queue_depth - 1 - i);
    }
    ~FileVolume() override {
        if (ring_ok_) io_uring_queue_exit(&ring_);
        close(fd_);
    }
    int init() {
        if (inline_io_) return 0;
        if (int err = io_uring_queue_init(opts_.queue_depth, &ring_, 0)) return err;
        ring_ok_ = true;
        return 0;
    }

    void submit(const IoRequest& r) override;
    int wait(unsigned min, IoCompletion* out, unsigned max) override;
    unsigned queue_depth() const override { return opts_.queue_depth; }
    uint64_t size() override;
    bool dead() const override { return false; }

  private:
    int sync_io(const IoRequest& r);
    int finish(const IoRequest& r, int res);
    int start_queued(unsigned wait_nr);
    int reap_one(bool block);

    Catalog& catalog_;
    uint64_t id_;
    int fd_;
    FileOptions opts_;
    // The file cannot do non-blocking IO (tmpfs, for one): the ring would
    // hand every request to a worker thread; doing it in submit() saves
    // two context switches.
    bool inline_io_;
    io_uring ring_{};
    bool ring_ok_ = false;
    std::vector<IoRequest> slots_;  // by the ring entry's user data
    std::vector<unsigned> free_;
    std::vector<IoCompletion> ready_;  // done in submit() (inline IO)
    unsigned queued_ = 0;              // on the ring, not yet submitted
    unsigned in_ring_ = 0;             // submitted, not yet reaped
    int ring_broken_ = 0;              // the error a wait made room with failed
    uint64_t generation_ = ~0ULL;
    uint64_t size_ = 0;
};

uint64_t FileVolume::size() {
    // A connection opened before a resize or a delete sees it at once.
    uint64_t gen = catalog_.generation();
    if (gen != generation_) {
        generation_ = gen;
        auto v = catalog_.find(id_);
        size_ = v ? v->size : 0;  // deleted: every IO is now out of range
    }
    return size_;
}

int FileVolume::sync_io(const IoRequest& r) {
    auto off = static_cast<off_t>(r.offset);
    ssize_t n = 0;
    switch (r.kind) {
        case IoKind::read: n = pread(fd_, r.buf, r.length, off); break;
        case IoKind::write: {
            iovec iov{r.buf, r.length};
            const bool fua = r.fua && !opts_.skip_fua;
            n = pwritev2(fd_, &iov, 1, off, fua ? RWF_DSYNC : 0);
            break;
        }
        case IoKind::flush: n = opts_.skip_flush ? 0 : fdatasync(fd_); break;
        case IoKind::discard:
            n = fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, r.length);
            break;
        case IoKind::write_zeroes:
            n = fallocate(fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, r.length);
            break;
    }
    return n < 0 ? -errno : static_cast<int>(n);
}

// A disk IO's result as the interface promises it: WRITE_ZEROES falls
// back to punching a hole, a READ past the end of the sparse file reads
// zeros, a short WRITE is an error.
int FileVolume::finish(const IoRequest& r, int res) {
    if (res == -EOPNOTSUPP && r.kind == IoKind::write_zeroes) {
        res = fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        static_cast<off_t>(r.offset), r.length)
                  ? -errno
                  : 0;
    }
    if (res < 0) return res;
    if (r.kind == IoKind::read) {
        if (static_cast<uint32_t>(res) < r.length) memset(r.buf + res, 0, r.length - res);
        return static_cast<int>(r.length);
    }
    if (r.kind == IoKind::write) return static_cast<uint32_t>(res) == r.length ? res : -EIO;
    return 0;
}

void FileVolume::submit(const IoRequest& r) {
    // Over the queue depth: make room by completing the oldest first, so
    // that what was submitted before (a FLUSH covers it) starts before.
    while (!inline_io_ && free_.empty() && !ring_broken_) {
        int err = start_queued(1);
        if (!err) err = reap_one(true);
        if (err < 0) ring_broken_ = err;
    }
    if (inline_io_ || ring_broken_) {
        ready_.push_back({r.cookie, ring_broken_ ? ring_broken_ : finish(r, sync_io(r))});
        return;
    }
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);  // queued_ < queue depth = ring size
    unsigned slot = free_.back();
    free_.pop_back();
    slots_[slot] = r;
    auto off = static_cast<off_t>(r.offset);
    switch (r.kind) {
        case IoKind::read: io_uring_prep_read(sqe, fd_, r.buf, r.length, off); break;
        case IoKind::write:
            io_uring_prep_write(sqe, fd_, r.buf, r.length, off);
            if (r.fua && !opts_.skip_fua) sqe->rw_flags = RWF_DSYNC;
            break;
        case IoKind::flush:
            if (opts_.skip_flush)
                io_uring_prep_nop(sqe);
            else
                io_uring_prep_fsync(sqe, fd_, IORING_FSYNC_DATASYNC);
            // Covers every write submitted before it.
            sqe->flags |= IOSQE_IO_DRAIN;
            break;
        case IoKind::discard:
            io_uring_prep_fallocate(sqe, fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
                                    r.length);
            break;
        case IoKind::write_zeroes:
            io_uring_prep_fallocate(sqe, fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off,
                                    r.length);
            break;
    }
    io_uring_sqe_set_data64(sqe, slot);
    queued_++;
}

// Starts what submit() queued, waiting for @wait_nr completions in the
// same system call.  The ring takes its entries in order: those it did
// not take stay queued, and what became of them cannot be known.
int FileVolume::start_queued(unsigned wait_nr) {
    if (!queued_) return 0;
    // --fault ring-wait-fails: the IO is submitted, the waits fail.
    int taken =
        opts_.ring_wait_fails ? io_uring_submit(&ring_) : io_uring_submit_and_wait(&ring_, wait_nr);
    if (taken < 0) return taken;
    if (static_cast<unsigned>(taken) < queued_) return -EIO;
    in_ring_ += queued_;
    queued_ = 0;
    return 0;
}

// Moves one completion from the ring to ready_: 1, 0 when none is there
// and !@block, or a negative errno.
int FileVolume::reap_one(bool block) {
    io_uring_cqe* cqe;
    int ret;
    do {
        ret = !block                  ? io_uring_peek_cqe(&ring_, &cqe)
              : opts_.ring_wait_fails ? -EIO
                                      : io_uring_wait_cqe(&ring_, &cqe);
    } while (ret == -EINTR);
    if (ret == -EAGAIN && !block) return 0;
    if (ret) return ret;
    auto slot = static_cast<unsigned>(io_uring_cqe_get_data64(cqe));
    int res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    in_ring_--;
    free_.push_back(slot);
    ready_.push_back({slots_[slot].cookie, finish(slots_[slot], res)});
    return 1;
}

int FileVolume::wait(unsigned min, IoCompletion* out, unsigned max) {
    if (ring_broken_) return ring_broken_;
    min = std::min<size_t>({min, max, ready_.size() + in_ring_ + queued_});
    const unsigned need = min > ready_.size() ? min - static_cast<unsigned>(ready_.size()) : 0;
    if (int err = start_queued(need)) return err;
    while (ready_.size() < min) {
        if (int r = reap_one(true); r < 0) return r;
    }
    while (ready_.size() < max && in_ring_) {
        int r = reap_one(false);
        if (r < 0) return r;
        if (r == 0) break;
    }
    const auto n = static_cast<unsigned>(std::min<size_t>(max, ready_.size()));
    std::copy_n(ready_.begin(), n, out);
    ready_.erase(ready_.begin(), ready_.begin() + n);
    return static_cast<int>(n);
}

}  // namespace

FileBackend::FileBackend(FileOptions opts) : opts_(std::move(opts)) {}
FileBackend::~FileBackend() = default;

int FileBackend::make(const FileOptions& opts, bool init, std::unique_ptr<FileBackend>* out,
                      std::string* error) {
    if (opts.data_dir.empty()) {
        *error = "the file backend needs a data directory (data_dir, --data-dir)";
        return -EINVAL;
    }
    if (init) {
        for (const std::string& d : {opts.data_dir, opts.data_dir + "/volumes"}) {
            if (mkdir(d.c_str(), 0700) && errno != EEXIST) {
                *error = "cannot create " + d + ": " + strerror(errno);
                return -errno;
            }
        }
    } else if (access((opts.data_dir + "/catalog.db").c_str(), R_OK | W_OK)) {
        *error = opts.data_dir +
                 " is not an initialised data directory (qbd-server init --data-dir " +
                 opts.data_dir + ")";
        return -ENOENT;
    }
    std::unique_ptr<FileBackend> b(new FileBackend(opts));
    if (int err = Catalog::open(opts.data_dir + "/catalog.db", &b->catalog_, error)) return err;
    if (init) {
        // The layout's names: volumes/ and catalog.db in the data
        // directory, the data directory in its parent.
        std::filesystem::path dir(opts.data_dir);
        if (!dir.has_filename()) dir = dir.parent_path();  // "DIR/"
        const std::string parent = dir.parent_path();
        if (int err = sync_dir(opts.data_dir, error)) return err;
        if (int err = sync_dir(parent.empty() ? "." : parent, error)) return err;
    }
    *out = std::move(b);
    return 0;
}

std::string FileBackend::data_path(uint64_t id, const std::string& device) const {
    if (!device.empty()) return device;
    return opts_.data_dir + "/volumes/" + std::to_string(id) + ".img";
}

int FileBackend::ensure_file(const std::string& path, bool device, uint64_t size,
                             std::string* error) {
    if (device) {
        // Someone else's device: check it is big enough, never resize it.
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        off_t end = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
        int err = fd < 0 ? errno : 0;
        if (fd >= 0) close(fd);
        if (err) {
            *error = "cannot open " + path + ": " + strerror(err);
            return -err;
        }
        if (end < 0 || static_cast<uint64_t>(end) < size) {
            *error = path + " is smaller than the volume";
            return -ENOSPC;
        }
        return 0;
    }
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(size)) || fsync(fd)) {
        int err = -errno;
        *error = "cannot size " + path + ": " + strerror(errno);
        if (fd >= 0) close(fd);
        return err;
    }
    close(fd);
    return sync_dir(opts_.data_dir + "/volumes", error);
}

int FileBackend::create(const CreateSpec& spec, VolumeInfo* out, std::string* error) {
    VolumeRecord v;
    v.pool = spec.pool;
    v.name = spec.name;
    v.size = spec.size;
    v.shard_size = spec.shard_size ? spec.shard_size : opts_.default_shard_size;
    v.device = spec.device;
    if (!v.device.empty() && v.device[0] != '/') {
        *error = "--device needs an absolute path";
        return -EINVAL;
    }
    if (v.size == 0 || v.size % kSectorSize || v.size > (1ULL << 60)) {
        *error = "size must be a positive multiple of 512 bytes";
        return -EINVAL;
    }
    if (v.shard_size < 4096 || (v.shard_size & (v.shard_size - 1)) || v.shard_size > (1ULL << 40)) {
        *error = "shard size must be a power of two from 4 KiB to 1 TiB";
        return -EINVAL;
    }
    const std::string what = v.pool + "/" + v.name;
    if (catalog_->find(v.pool, v.name)) {
        *error = what + " exists";
        return -EEXIST;
    }
    random_bytes(&v.id, sizeof(v.id));
    v.id = (v.id >> 1) | 1;  // positive for SQLite, never 0
    v.epoch = 1;
    const std::string path = data_path(v.id, v.device);
    if (int err = ensure_file(path, !v.device.empty(), v.size, error)) return err;
    if (int err = catalog_->insert(v)) {
        if (v.device.empty()) unlink(path.c_str());
        *error = err == -EEXIST ? what + " exists" : "catalog write failed";
        return err;
    }
    *out = info_of(v);
    return 0;
}

int FileBackend::remove(const std::string& pool, const std::string& name, std::string* error) {
    auto v = catalog_->find(pool, name);
    if (!v) {
        *error = "no volume " + pool + "/" + name;
        return -ENOENT;
    }
    if (int err = catalog_->remove(v->pool, v->name)) {
        *error = "catalog write failed";
        return err;
    }
    if (v->device.empty()) unlink(data_path(v->id, v->device).c_str());
    return 0;
}

int FileBackend::resize(const std::string& pool, const std::string& name, uint64_t new_size,
                        VolumeInfo* out, std::string* error) {
    auto v = catalog_->find(pool, name);
    if (!v) {
        *error = "no volume " + pool + "/" + name;
        return -ENOENT;
    }
    if (new_size < v->size) {
        *error = "shrinking a volume is not supported";
        return -EINVAL;
    }
    if (new_size % kSectorSize || new_size > (1ULL << 60)) {
        *error = "size must be a multiple of 512";
        return -EINVAL;
    }
    v->size = new_size;
    if (int err = ensure_file(data_path(v->id, v->device), !v->device.empty(), v->size, error))
        return err;
    if (int err = catalog_->update(*v)) {
        *error = "catalog write failed";
        return err;
    }
    *out = info_of(*v);
    return 0;
}

int FileBackend::info(const std::string& pool, const std::string& name, VolumeInfo* out,
                      std::string* error) {
    auto v = catalog_->find(pool, name);
    if (!v) {
        *error = "no volume " + pool + "/" + name;
        return -ENOENT;
    }
    *out = info_of(*v);
    return 0;
}

int FileBackend::list(const std::string& pool, std::vector<VolumeInfo>* out, std::string*) {
    out->clear();
    for (const auto& v : catalog_->list(pool)) out->push_back(info_of(v));
    return 0;
}

int FileBackend::open(uint64_t id, bool read_only, std::unique_ptr<VolumeIo>* io, VolumeInfo* info,
                      std::string* error) {
    auto v = catalog_->find(id);
    if (!v) {
        *error = "no volume with id " + std::to_string(id);
        return -ENOENT;
    }
    const std::string path = data_path(v->id, v->device);
    int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        *error = "cannot open " + path + ": " + strerror(errno);
        return -EIO;
    }
    auto vol = std::make_unique<FileVolume>(*catalog_, v->id, fd, opts_);
    if (int err = vol->init()) {
        *error = std::string("io_uring_queue_init: ") + strerror(-err);
        return err;
    }
    *info = info_of(*v);
    *io = std::move(vol);
    return 0;
}

}  // namespace qbd
