// A thread per connection, each with its own small io_uring: requests that
// arrive together are read into a preallocated arena, submitted to the
// ring in one io_uring_submit, and answered with one sendmsg.  The thread
// model keeps a slow client from stalling others and needs no locking on
// the data path; the ring batches the disk IO.  Nothing is allocated per
// request.
#include "connection.h"

#include <endian.h>
#include <fcntl.h>
#include <liburing.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth.h"
#include "io_gate.h"
#include "request.h"
#include "server.h"

namespace qbd {

namespace {

constexpr unsigned kMaxBatch = 64;
constexpr size_t kArenaBytes = 2 * QBD_MAX_IO_BYTES;
constexpr size_t kInBytes = 64 * 1024;

struct Slot {
    Request req;
    int status;
    uint32_t data_off;  // READ data in the arena
    uint32_t data_len;
    bool pending;       // waiting for a completion
    bool wants_disk;    // admitted, to be queued on the ring by run_batch
};

class Connection {
public:
    Connection(Server& srv, int fd, std::string peer)
        : srv_(srv), fd_(fd), peer_(std::move(peer)), arena_(kArenaBytes), in_(kInBytes) {}
    ~Connection() {
        if (ring_ok_) io_uring_queue_exit(&ring_);
        if (vol_fd_ >= 0) close(vol_fd_);
        close(fd_);
    }
    void run();
    // Data connections are worth a line when they end; control calls are not.
    bool opened() const { return st_.opened; }

private:
    // Buffered socket reading: many headers from one recv.
    bool fill(bool block);
    bool read_exact(void* dst, size_t len);
    bool discard(size_t len);
    bool buffered() const { return in_end_ > in_pos_; }

    bool handle_setup(const Request& r, const std::vector<char>& payload);
    bool reply_now(const Request& r, int status, const void* payload, uint32_t len);
    bool run_batch();
    void prepare(unsigned slot);
    int execute_now(const Slot& s);
    void finish(Slot& s, int res);
    void refresh_volume();
    void drop(const char* why);

    Server& srv_;
    int fd_;
    std::string peer_;
    ConnState st_;
    std::vector<char> arena_;
    size_t arena_used_ = 0;
    std::vector<char> in_;
    size_t in_pos_ = 0, in_end_ = 0;
    io_uring ring_{};
    bool ring_ok_ = false;
    int vol_fd_ = -1;
    // The volume's file cannot do non-blocking IO (tmpfs, for one): the
    // ring would hand every request to a worker thread, so this thread
    // does the IO itself, saving two context switches per request.
    bool inline_io_ = false;
    uint64_t generation_ = 0;
    std::array<Slot, kMaxBatch> slots_{};
    unsigned nr_slots_ = 0;
    unsigned nr_disk_io_ = 0;  // slots with wants_disk
    uint8_t nonce_[QBD_NONCE_BYTES] = {};
    uint8_t client_nonce_[QBD_NONCE_BYTES] = {};
};

// Whether reads of @fd can be tried without blocking (FMODE_NOWAIT), which
// is what lets io_uring complete them inline instead of in a worker.
bool supports_nowait(int fd) {
    char probe[QBD_SECTOR_SIZE];
    iovec iov{probe, sizeof(probe)};
    return preadv2(fd, &iov, 1, 0, RWF_NOWAIT) >= 0 || errno != EOPNOTSUPP;
}

void Connection::drop(const char* why) { srv_.log(peer_ + ": closing connection: " + why); }

bool Connection::fill(bool block) {
    if (in_pos_ == in_end_) in_pos_ = in_end_ = 0;
    if (in_end_ == in_.size()) {
        memmove(in_.data(), in_.data() + in_pos_, in_end_ - in_pos_);
        in_end_ -= in_pos_;
        in_pos_ = 0;
    }
    ssize_t n = recv(fd_, in_.data() + in_end_, in_.size() - in_end_, block ? 0 : MSG_DONTWAIT);
    if (n <= 0) return false;
    in_end_ += static_cast<size_t>(n);
    return true;
}

bool Connection::read_exact(void* dst, size_t len) {
    auto* p = static_cast<char*>(dst);
    while (len) {
        if (!buffered()) {
            // Large payloads go straight to their destination.
            if (len >= kInBytes / 2) {
                ssize_t n = recv(fd_, p, len, MSG_WAITALL);
                if (n <= 0) return false;
                p += n;
                len -= static_cast<size_t>(n);
                continue;
            }
            if (!fill(true)) return false;
        }
        size_t n = std::min(len, in_end_ - in_pos_);
        memcpy(p, in_.data() + in_pos_, n);
        in_pos_ += n;
        p += n;
        len -= n;
    }
    return true;
}

bool Connection::discard(size_t len) {
    char sink[4096];
    while (len) {
        size_t n = std::min(len, sizeof(sink));
        if (!read_exact(sink, n)) return false;
        len -= n;
    }
    return true;
}

namespace {

qbd_reply_hdr reply_header(const Request& r, int status, uint32_t len) {
    qbd_reply_hdr h{};
    h.magic = htole32(QBD_PROTO_MAGIC);
    h.version = htole16(QBD_PROTO_VERSION);
    h.opcode = htole16(r.opcode);
    h.status = htole32(static_cast<uint32_t>(status));
    h.length = htole32(len);
    h.tag = htole64(r.tag);
    return h;
}

// Sends every byte the iovecs describe; false when the peer is gone.
bool send_all(int fd, iovec* iov, size_t iovcnt) {
    msghdr msg{};
    while (iovcnt) {
        msg.msg_iov = iov;
        msg.msg_iovlen = std::min<size_t>(iovcnt, IOV_MAX);
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n <= 0) return false;
        // Advance the iovecs past what went out.
        auto done = static_cast<size_t>(n);
        while (done && iovcnt) {
            if (done >= iov->iov_len) {
                done -= iov->iov_len;
                iov++;
                iovcnt--;
            } else {
                iov->iov_base = static_cast<char*>(iov->iov_base) + done;
                iov->iov_len -= done;
                done = 0;
            }
        }
        while (iovcnt && !iov->iov_len) {
            iov++;
            iovcnt--;
        }
    }
    return true;
}

}  // namespace

bool Connection::reply_now(const Request& r, int status, const void* payload, uint32_t len) {
    qbd_reply_hdr h = reply_header(r, status, len);
    iovec iov[2] = {{&h, sizeof(h)}, {const_cast<void*>(payload), len}};
    return send_all(fd_, iov, len ? 2 : 1);
}

void Connection::refresh_volume() {
    uint64_t gen = srv_.catalog().generation();
    if (!st_.opened || gen == generation_) return;
    generation_ = gen;
    if (auto v = srv_.catalog().find(st_.volume_id)) {
        st_.epoch = v->epoch;
        st_.size = v->size;
        st_.fenced = v->fenced;
    } else {
        st_.size = 0;  // deleted: every IO is now out of range
    }
}

// HELLO, AUTH, OPEN and control calls: answered one at a time.
bool Connection::handle_setup(const Request& r, const std::vector<char>& payload) {
    switch (r.opcode) {
        case QBD_OP_HELLO: {
            qbd_hello hello;
            memcpy(&hello, payload.data(), sizeof(hello));
            uint64_t want = le64toh(hello.features);
            if (want & ~QBD_FEATURES_KNOWN) {
                reply_now(r, -EPROTO, nullptr, 0);
                drop("HELLO asks for unknown features");
                return false;
            }
            memcpy(client_nonce_, hello.nonce, sizeof(client_nonce_));
            qbd_hello_reply hr{};
            hr.features = htole64(want & (QBD_FEAT_FUA | QBD_FEAT_DISCARD | QBD_FEAT_WRITE_ZEROES));
            hr.max_io_bytes = htole32(QBD_MAX_IO_BYTES);
            random_bytes(nonce_, sizeof(nonce_));
            memcpy(hr.nonce, nonce_, sizeof(nonce_));
            const std::string& secret = srv_.config().secret;
            if (!secret.empty()) {
                hr.auth = htole32(QBD_AUTH_HMAC_SHA256);
                auth_mac(secret, QBD_AUTH_SERVER_LABEL, client_nonce_, nonce_, hr.server_mac);
                st_.auth_required = true;
            }
            st_.hello_done = true;
            return reply_now(r, 0, &hr, sizeof(hr));
        }
        case QBD_OP_AUTH: {
            qbd_auth a;
            memcpy(&a, payload.data(), sizeof(a));
            uint8_t expect[QBD_MAC_BYTES];
            auth_mac(srv_.config().secret, QBD_AUTH_CLIENT_LABEL, nonce_, client_nonce_, expect);
            if (!equal_macs(expect, a.client_mac)) {
                reply_now(r, -EACCES, nullptr, 0);
                drop("authentication failed");
                return false;
            }
            st_.authenticated = true;
            return reply_now(r, 0, nullptr, 0);
        }
        case QBD_OP_OPEN: {
            qbd_open o;
            memcpy(&o, payload.data(), sizeof(o));
            generation_ = srv_.catalog().generation();
            auto v = srv_.catalog().find(le64toh(o.volume_id));
            if (!v) return reply_now(r, -ENOENT, nullptr, 0);
            const bool mover = r.flags & QBD_REQ_FORWARDED;
            if (le64toh(o.epoch) != v->epoch || (v->fenced && !mover))
                return reply_now(r, QBD_STATUS_STALE_EPOCH, nullptr, 0);
            vol_fd_ = ::open(srv_.data_path(*v).c_str(), O_RDWR | O_CLOEXEC);
            if (vol_fd_ < 0) return reply_now(r, -EIO, nullptr, 0);
            inline_io_ = !supports_nowait(vol_fd_);
            st_.opened = true;
            st_.volume_id = v->id;
            st_.epoch = v->epoch;
            st_.size = v->size;
            st_.fenced = v->fenced;
            st_.mover = mover;
            qbd_open_reply orep{};
            orep.size = htole64(v->size);
            orep.shard_size = htole64(v->shard_size);
            orep.epoch = htole64(v->epoch);
            srv_.log(peer_ + ": opened " + v->pool + "/" + v->name);
            return reply_now(r, 0, &orep, sizeof(orep));
        }
        default: {
            CtlResult res = srv_.control(r.opcode, r.flags, payload.data(),
                                         static_cast<uint32_t>(payload.size()));
            if (res.status)
                srv_.log(peer_ + ": control " + std::to_string(r.opcode) + " failed: " +
                         std::string(res.payload.begin(), res.payload.end()));
            return reply_now(r, res.status, res.payload.data(), static_cast<uint32_t>(res.payload.size()));
        }
    }
}

// Queues a slot's disk IO on the ring.
void Connection::prepare(unsigned i) {
    Slot& s = slots_[i];
    const Request& r = s.req;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    char* buf = arena_.data() + s.data_off;
    auto off = static_cast<off_t>(r.offset);
    switch (r.opcode) {
        case QBD_OP_READ:
            io_uring_prep_read(sqe, vol_fd_, buf, r.length, off);
            break;
        case QBD_OP_WRITE:
            io_uring_prep_write(sqe, vol_fd_, buf, r.length, off);
            if (r.flags & QBD_REQ_FUA) sqe->rw_flags = RWF_DSYNC;
            break;
        case QBD_OP_FLUSH:
            io_uring_prep_fsync(sqe, vol_fd_, IORING_FSYNC_DATASYNC);
            // Covers every write of the batch before it.
            sqe->flags |= IOSQE_IO_DRAIN;
            break;
        case QBD_OP_DISCARD:
            io_uring_prep_fallocate(sqe, vol_fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
                                    r.length);
            break;
        case QBD_OP_WRITE_ZEROES:
            io_uring_prep_fallocate(sqe, vol_fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off,
                                    r.length);
            break;
    }
    io_uring_sqe_set_data64(sqe, i);
    s.pending = true;
}

// Carries out a slot's disk IO in this thread; returns what the ring would.
int Connection::execute_now(const Slot& s) {
    const Request& r = s.req;
    char* buf = arena_.data() + s.data_off;
    auto off = static_cast<off_t>(r.offset);
    ssize_t n = 0;
    switch (r.opcode) {
        case QBD_OP_READ:
            n = pread(vol_fd_, buf, r.length, off);
            break;
        case QBD_OP_WRITE: {
            iovec iov{buf, r.length};
            n = pwritev2(vol_fd_, &iov, 1, off, (r.flags & QBD_REQ_FUA) ? RWF_DSYNC : 0);
            break;
        }
        case QBD_OP_FLUSH:
            n = fdatasync(vol_fd_);
            break;
        case QBD_OP_DISCARD:
            n = fallocate(vol_fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, r.length);
            break;
        case QBD_OP_WRITE_ZEROES:
            n = fallocate(vol_fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, r.length);
            break;
    }
    return n < 0 ? -errno : static_cast<int>(n);
}

// Turns a disk IO's result into the slot's status.
void Connection::finish(Slot& s, int res) {
    if (res == -EOPNOTSUPP && s.req.opcode == QBD_OP_WRITE_ZEROES) {
        res = fallocate(vol_fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        static_cast<off_t>(s.req.offset), s.req.length)
                  ? -errno
                  : 0;
    }
    if (res < 0) {
        s.status = res;
    } else if (s.req.opcode == QBD_OP_READ && static_cast<uint32_t>(res) < s.req.length) {
        // Past the end of the sparse file: zeros.
        memset(arena_.data() + s.data_off + res, 0, s.req.length - res);
    } else if (s.req.opcode == QBD_OP_WRITE && static_cast<uint32_t>(res) != s.req.length) {
        s.status = -EIO;
    }
}

// Submits the batch's IO in one go, waits for it, answers everything.
bool Connection::run_batch() {
    unsigned submitted = 0;
    // Inside the gate, a fence (shard move) either waits for this batch or
    // is seen by it: judge the epoch again now that nothing can change it.
    std::optional<IoGateHold> hold;
    if (nr_disk_io_) {
        hold.emplace(srv_.io_gate());
        refresh_volume();
        for (unsigned i = 0; i < nr_slots_; i++) {
            Slot& s = slots_[i];
            if (!s.wants_disk) continue;
            s.wants_disk = false;
            if (!epoch_current(s.req.epoch, st_)) {
                s.status = QBD_STATUS_STALE_EPOCH;
                continue;
            }
            if (inline_io_) {
                finish(s, execute_now(s));
                continue;
            }
            prepare(i);
            submitted++;
        }
        nr_disk_io_ = 0;
    }
    if (submitted) {
        int ret = io_uring_submit_and_wait(&ring_, submitted);
        if (ret < 0) {
            for (unsigned i = 0; i < nr_slots_; i++)
                if (slots_[i].pending) slots_[i].status = ret;
        } else {
            for (unsigned done = 0; done < submitted; done++) {
                io_uring_cqe* cqe;
                if (io_uring_wait_cqe(&ring_, &cqe)) break;
                Slot& s = slots_[io_uring_cqe_get_data64(cqe)];
                int res = cqe->res;
                io_uring_cqe_seen(&ring_, cqe);
                s.pending = false;
                finish(s, res);
            }
        }
    }
    hold.reset();
    // Every answer of the batch in one sendmsg.
    std::array<qbd_reply_hdr, kMaxBatch> hdrs;
    std::array<iovec, 2 * kMaxBatch> iov;
    size_t nr_iov = 0;
    for (unsigned i = 0; i < nr_slots_; i++) {
        Slot& s = slots_[i];
        bool data = s.req.opcode == QBD_OP_READ && s.status == 0;
        hdrs[i] = reply_header(s.req, s.status, data ? s.req.length : 0);
        iov[nr_iov++] = {&hdrs[i], sizeof(hdrs[i])};
        if (data) iov[nr_iov++] = {arena_.data() + s.data_off, s.req.length};
    }
    bool ok = send_all(fd_, iov.data(), nr_iov);
    nr_slots_ = 0;
    arena_used_ = 0;
    return ok;
}

void Connection::run() {
    if (io_uring_queue_init(kMaxBatch, &ring_, 0)) {
        drop("io_uring_queue_init failed");
        return;
    }
    ring_ok_ = true;
    std::vector<char> payload;
    for (;;) {
        qbd_req_hdr h;
        // Block only when nothing waits to be answered.
        if (nr_slots_ && !buffered() && !fill(false)) {
            if (!run_batch()) return;
            continue;
        }
        if (!read_exact(&h, sizeof(h))) {
            if (nr_slots_) run_batch();
            return;
        }
        Verdict v = check_request(h, st_);
        Request r = decode(h);
        if (v.action == Action::close) {
            drop(v.why);
            return;
        }
        const bool data_write = r.opcode == QBD_OP_WRITE && v.action == Action::serve;
        const bool needs_arena = (r.opcode == QBD_OP_READ || r.opcode == QBD_OP_WRITE) &&
                                 v.action == Action::serve;
        // Control and setup calls, and IO that does not fit, wait for the batch.
        if (nr_slots_ && (nr_slots_ == kMaxBatch || !is_io(r.opcode) ||
                          (needs_arena && arena_used_ + r.length > arena_.size()))) {
            if (!run_batch()) return;
        }
        if (v.action == Action::reply) {
            if (!discard(v.payload_in)) return;
            // A stale epoch is routine (a shard moved): the client remaps.
            if (v.status != QBD_STATUS_STALE_EPOCH) srv_.log(peer_ + ": refused request: " + v.why);
            Slot& s = slots_[nr_slots_++];
            s = Slot{r, v.status, 0, 0, false, false};
            continue;
        }
        if (!is_io(r.opcode)) {
            payload.resize(v.payload_in);
            if (!read_exact(payload.data(), payload.size())) return;
            if (!handle_setup(r, payload)) return;
            continue;
        }
        refresh_volume();
        Slot& s = slots_[nr_slots_++];
        s = Slot{r, 0, static_cast<uint32_t>(arena_used_), 0, false, false};
        if (r.opcode != QBD_OP_HEARTBEAT && !epoch_current(r.epoch, st_)) {
            if (data_write && !discard(r.length)) return;
            s.status = QBD_STATUS_STALE_EPOCH;
            continue;
        }
        if (r.opcode != QBD_OP_HEARTBEAT && r.opcode != QBD_OP_FLUSH &&
            (r.offset > st_.size || r.length > st_.size - r.offset)) {
            if (data_write && !discard(r.length)) return;
            s.status = -ERANGE;
            continue;
        }
        if (needs_arena) arena_used_ += r.length;
        if (data_write && !read_exact(arena_.data() + s.data_off, r.length)) return;
        if (r.opcode == QBD_OP_HEARTBEAT) continue;
        s.wants_disk = true;
        nr_disk_io_++;
    }
}

}  // namespace

void serve_connection(Server& server, int fd, const char* peer) {
    auto c = std::make_unique<Connection>(server, fd, peer);
    c->run();
    if (c->opened()) server.log(std::string(peer) + ": disconnected");
}

}  // namespace qbd
