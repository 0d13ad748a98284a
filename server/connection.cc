// A thread per connection: requests that arrive together are read into a
// preallocated arena, submitted to the volume's backend together (for the
// file backend, the volume's own small io_uring, in one io_uring_submit),
// and answered with one sendmsg.  The thread model keeps a slow client
// from stalling others and needs no locking on the data path; the backend
// batches the disk IO.  Nothing is allocated per
// request.
//
// Until it opens a volume a connection costs its thread and a few KiB: the
// arena and the large input buffer come with a successful OPEN, and a
// control call's payload is held only while the call runs.  Anyone who can
// reach the port can open a connection; only a client that opened a
// volume gets the memory to serve IO.
//
// Nor can it hold its thread for long: until a successful OPEN, the peer
// has handshake_timeout to send each call it makes (HELLO, AUTH, OPEN, a
// control call: the time runs from the accept, and again from each
// answered OPEN or control call) and to take its answers, or the
// connection is closed.  An opened data connection may be idle for ever:
// the client's heartbeats are what watch it.
#include "connection.h"

#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fence.h"
#include "request.h"
#include "server.h"
#include "serving_mode.h"
#include "session.h"

namespace qbd {

namespace {

constexpr unsigned kMaxBatch = 64;
constexpr size_t kArenaBytes = 2 * QBD_MAX_IO_BYTES;
// Input buffers: before OPEN it holds headers and the small setup payloads
// (HELLO, AUTH, OPEN), after it many IO headers from one recv.
constexpr size_t kSetupInBytes = 4 * 1024;
constexpr size_t kInBytes = 64 * 1024;
static_assert(kSetupInBytes >= 2 * (sizeof(qbd_req_hdr) + sizeof(qbd_hello)));

// The arena READ and WRITE data pass through, mapped on its own: the pages
// are fresh zeros (never another connection's data, as a recycled malloc
// chunk could be), cost memory only once IO touches them, and go back to
// the system when the connection ends.
class Arena {
  public:
    Arena() = default;
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;
    ~Arena() { reset(); }
    // 0 or -ENOMEM.
    int map(size_t bytes) {
        void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return -ENOMEM;
        reset();
        base_ = static_cast<char*>(p);
        size_ = bytes;
        return 0;
    }
    void reset() {
        if (base_) munmap(base_, size_);
        base_ = nullptr;
        size_ = 0;
    }
    char* data() const { return base_; }
    size_t size() const { return size_; }

  private:
    char* base_ = nullptr;
    size_t size_ = 0;
};

struct Slot {
    Request req;
    int status;
    uint32_t data_off;  // READ data in the arena
    uint32_t data_len;
    bool pending;     // waiting for a completion
    bool wants_disk;  // admitted, to be submitted to the backend by run_batch
};

class Connection {
  public:
    Connection(Server& srv, int fd, std::string peer)
        : srv_(srv),
          fd_(fd),
          session_(srv, std::move(peer), QBD_FEAT_CRC32C),
          mode_(fd, srv.config().busy_poll_us),
          in_(kSetupInBytes) {
        srv.connection_sockets().add(fd);
        start_setup_window();
    }
    ~Connection() {
        srv_.connection_sockets().remove(fd_);
        close(fd_);
    }
    void run();
    // Data connections are worth a line when they end; control calls are not.
    bool opened() const { return session_.state().opened; }

  private:
    // Buffered socket reading: many headers from one recv.
    bool fill(bool block);
    bool poll_socket();
    bool read_exact(void* dst, size_t len);
    bool discard(size_t len);
    bool buffered() const { return in_end_ > in_pos_; }
    // The handshake deadline (see the top of the file).
    void start_setup_window();
    void end_setup_window();
    bool wait_for_bytes();

    bool handle_setup(const Request& r, uint32_t payload_len);
    bool reply_now(const Request& r, int status, const void* payload, uint32_t len);
    bool run_batch();
    int reap(unsigned submitted);
    void stall_for_test();
    void prepare(unsigned slot);
    void drop(const char* why);

    Server& srv_;
    int fd_;
    Session session_;
    ServingMode mode_;
    Arena arena_;  // mapped by a successful OPEN
    size_t arena_used_ = 0;
    std::vector<char> in_;
    size_t in_pos_ = 0, in_end_ = 0;
    // Until a successful OPEN: when the peer's time to set up runs out.
    std::optional<std::chrono::steady_clock::time_point> deadline_;
    std::array<Slot, kMaxBatch> slots_{};
    unsigned nr_slots_ = 0;
    unsigned nr_disk_io_ = 0;  // slots with wants_disk
};

void Connection::drop(const char* why) {
    session_.log(LOG_NOTICE, std::string("closing connection: ") + why);
}

void Connection::start_setup_window() {
    const unsigned secs = srv_.config().handshake_timeout_s;
    deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(secs);
    // Replies the peer does not take time out too (send_all fails).
    timeval tv{static_cast<time_t>(secs), 0};
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void Connection::end_setup_window() {
    deadline_.reset();
    timeval none{};
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
}

// Before a blocking read: true when bytes (or an error, which the read
// then reports) came in time, false when the handshake deadline passed
// (said once: the connection ends).
bool Connection::wait_for_bytes() {
    if (!deadline_) return true;
    for (;;) {
        const auto left = *deadline_ - std::chrono::steady_clock::now();
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
        if (ms <= 0) break;
        pollfd p{fd_, POLLIN, 0};
        int n = poll(&p, 1, static_cast<int>(std::min<long long>(ms, INT_MAX)));
        if (n > 0 || (n < 0 && errno != EINTR)) return true;
    }
    drop(("setup not done within " + std::to_string(srv_.config().handshake_timeout_s) +
          " s (handshake_timeout)")
             .c_str());
    return false;
}

bool Connection::fill(bool block) {
    if (in_pos_ == in_end_) in_pos_ = in_end_ = 0;
    if (in_end_ == in_.size()) {
        memmove(in_.data(), in_.data() + in_pos_, in_end_ - in_pos_);
        in_end_ -= in_pos_;
        in_pos_ = 0;
    }
    if (block && !wait_for_bytes()) return false;
    ssize_t n = recv(fd_, in_.data() + in_end_, in_.size() - in_end_, block ? 0 : MSG_DONTWAIT);
    if (n <= 0) return false;
    in_end_ += static_cast<size_t>(n);
    return true;
}

// Polls the socket for the next bytes for as long as the serving mode says
// (busy polling, see serving_mode.h); false when none came or the socket
// broke, which the blocking read that follows then reports.
bool Connection::poll_socket() {
    const unsigned us = mode_.poll_us();
    if (!us) return false;
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
    do {
        errno = 0;
        if (fill(false)) return true;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    } while (std::chrono::steady_clock::now() < until);
    return false;
}

bool Connection::read_exact(void* dst, size_t len) {
    auto* p = static_cast<char*>(dst);
    while (len) {
        if (!buffered()) {
            // Large payloads go straight to their destination.
            if (len >= in_.size() / 2) {
                // Within the handshake deadline, a piece at a time.
                if (!wait_for_bytes()) return false;
                ssize_t n = recv(fd_, p, len, deadline_ ? 0 : MSG_WAITALL);
                if (n <= 0) return false;
                p += n;
                len -= static_cast<size_t>(n);
                continue;
            }
            if (!poll_socket() && !fill(true)) return false;
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

// HELLO, AUTH, OPEN and control calls, whose @payload_len bytes follow
// the header: answered one at a time.  The payload is held only for the
// call (a control call's may be QBD_MAX_CTL_BYTES).  The memory IO needs
// is mapped before the OPEN is carried out, so an OPEN the server cannot
// serve is refused with nothing opened, and unmapped again when the OPEN
// fails.
bool Connection::handle_setup(const Request& r, uint32_t payload_len) {
    SetupReply rep;
    {
        std::vector<char> payload(payload_len);
        if (!read_exact(payload.data(), payload.size())) return false;
        const bool open = r.opcode == QBD_OP_OPEN;
        if (open && arena_.map(kArenaBytes)) {
            session_.log(LOG_ERR, "refused OPEN: no memory for its IO buffers");
            rep.status = -ENOMEM;
        } else {
            rep = session_.handle_setup(r, payload.data());
        }
        if (open && !opened()) arena_.reset();
        if (open && opened()) in_.resize(kInBytes);
    }
    bool sent =
        reply_now(r, rep.status, rep.payload.data(), static_cast<uint32_t>(rep.payload.size()));
    if (rep.close_why) {
        drop(rep.close_why);
        return false;
    }
    if (!sent) {
        if (deadline_ && (errno == EAGAIN || errno == EWOULDBLOCK))
            drop("the peer did not take its reply within handshake_timeout");
        return false;
    }
    if (opened()) {
        if (deadline_) end_setup_window();
    } else if (r.opcode != QBD_OP_HELLO && r.opcode != QBD_OP_AUTH) {
        start_setup_window();
    }
    return true;
}

// Queues a slot's disk IO on the volume (one io_uring entry for the file
// backend): started by the wait in run_batch.
void Connection::prepare(unsigned i) {
    Slot& s = slots_[i];
    session_.volume_io()->submit(Session::io_request(s.req, arena_.data() + s.data_off, i));
    s.pending = true;
}

// Waits for the completions of the @submitted requests.  A slot whose IO
// did not complete keeps pending set; the error that stopped the wait is
// returned (0 when all completed).
int Connection::reap(unsigned submitted) {
    VolumeIo& io = *session_.volume_io();
    std::array<IoCompletion, kMaxBatch> done;
    for (unsigned got = 0; got < submitted;) {
        int n = io.wait(submitted - got, done.data(), done.size());
        if (n < 0) return n;
        for (int k = 0; k < n; k++) {
            Slot& s = slots_[done[k].cookie];
            s.pending = false;
            s.status = Session::reply_status(done[k].res);
        }
        got += static_cast<unsigned>(n);
    }
    return 0;
}

// Submits the batch's IO in one go, waits for it, answers everything.
// False when the connection must end: the peer is gone, the backend failed
// (what it had may still complete, so it is not used again), Ceph fenced
// this gateway (nothing is answered), or a
// newer connection of the same client fenced this one (nothing more of it
// may reach the disk, and nothing is answered).
bool Connection::run_batch() {
    unsigned submitted = 0;
    bool ring_failed = false;
    std::optional<FencePermit> permit;
    if (nr_disk_io_) {
        stall_for_test();
        permit.emplace(session_.incarnation());
        if (permit->refused()) {
            drop("a newer connection of its client took over");
            return false;
        }
        // The size as the backend has it now, not as it was when the
        // requests were read.
        session_.refresh_volume();
        for (unsigned i = 0; i < nr_slots_; i++) {
            Slot& s = slots_[i];
            if (!s.wants_disk) continue;
            s.wants_disk = false;
            if (!epoch_current(s.req.epoch, session_.state())) {
                s.status = QBD_STATUS_STALE_EPOCH;
                continue;
            }
            prepare(i);
            submitted++;
        }
        nr_disk_io_ = 0;
    }
    if (submitted) {
        if (int err = reap(submitted)) {
            for (unsigned i = 0; i < nr_slots_; i++) {
                if (!slots_[i].pending) continue;
                slots_[i].pending = false;
                slots_[i].status = err;
            }
            session_.log(LOG_ERR, "disk IO failed: " + std::string(strerror(-err)));
            ring_failed = true;
        }
        // Fenced by Ceph: this server may have lost the race to another
        // gateway, so nothing it did since may be answered, not even as an
        // error; the client resends on its next path.
        if (session_.volume_io()->dead()) {
            drop("another gateway took the volume over");
            return false;
        }
    }
    permit.reset();
    // Every answer of the batch in one sendmsg.
    std::array<qbd_reply_hdr, kMaxBatch> hdrs;
    std::array<iovec, 2 * kMaxBatch> iov;
    size_t nr_iov = 0;
    uint64_t bytes = 0;
    for (unsigned i = 0; i < nr_slots_; i++) {
        Slot& s = slots_[i];
        bytes += s.req.length;
        bool data = s.req.opcode == QBD_OP_READ && s.status == 0;
        hdrs[i] = reply_header(s.req, s.status, data ? s.req.length : 0);
        if (data) session_.set_read_crc(&hdrs[i], arena_.data() + s.data_off, s.req.length);
        iov[nr_iov++] = {&hdrs[i], sizeof(hdrs[i])};
        if (data) iov[nr_iov++] = {arena_.data() + s.data_off, s.req.length};
    }
    bool ok = send_all(fd_, iov.data(), nr_iov);
    mode_.batch_served(nr_slots_, bytes);
    nr_slots_ = 0;
    arena_used_ = 0;
    if (ring_failed) drop("its disk IO failed");
    return ok && !ring_failed;
}

// --fault stall-write: holds the batch of the chosen WRITE, as a stalled
// disk or a descheduled thread would, before its IO is admitted.
void Connection::stall_for_test() {
    for (unsigned i = 0; i < nr_slots_; i++) {
        const Slot& s = slots_[i];
        if (!s.wants_disk || s.req.opcode != QBD_OP_WRITE) continue;
        if (unsigned ms = srv_.take_write_stall(s.req.offset)) {
            session_.log("stalling a write for " + std::to_string(ms) + " ms (--fault)");
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        }
    }
}

void Connection::run() {
    for (;;) {
        qbd_req_hdr h;
        // Block only when nothing waits to be answered.
        if (nr_slots_ && !buffered()) {
            if (!run_batch()) return;
            continue;
        }
        if (!read_exact(&h, sizeof(h))) {
            if (nr_slots_) run_batch();
            return;
        }
        Verdict v = session_.check(h);
        Request r = decode(h);
        if (v.action == Action::close) {
            drop(v.why);
            return;
        }
        const bool data_write = r.opcode == QBD_OP_WRITE && v.action == Action::serve;
        const bool needs_arena =
            (r.opcode == QBD_OP_READ || r.opcode == QBD_OP_WRITE) && v.action == Action::serve;
        // Control and setup calls, and IO that does not fit, wait for the batch.
        if (nr_slots_ && (nr_slots_ == kMaxBatch || !is_io(r.opcode) ||
                          (needs_arena && arena_used_ + r.length > arena_.size()))) {
            if (!run_batch()) return;
        }
        if (v.action == Action::reply) {
            if (!discard(v.payload_in)) return;
            // A stale epoch is routine (a shard moved): the client remaps.
            if (v.status != QBD_STATUS_STALE_EPOCH)
                session_.log(LOG_WARNING, std::string("refused request: ") + v.why);
            Slot& s = slots_[nr_slots_++];
            s = Slot{r, v.status, 0, 0, false, false};
            continue;
        }
        if (!is_io(r.opcode)) {
            if (!handle_setup(r, v.payload_in)) return;
            continue;
        }
        Slot& s = slots_[nr_slots_++];
        s = Slot{r, 0, static_cast<uint32_t>(arena_used_), 0, false, false};
        if (int status = session_.admit_io(r)) {
            if (data_write && !discard(r.length)) return;
            s.status = status;
            continue;
        }
        if (needs_arena) arena_used_ += r.length;
        if (data_write && !read_exact(arena_.data() + s.data_off, r.length)) return;
        if (data_write) {
            s.status = session_.check_write_crc(r, arena_.data() + s.data_off);
            if (s.status) continue;
        }
        if (r.opcode == QBD_OP_HEARTBEAT) continue;
        s.wants_disk = true;
        nr_disk_io_++;
    }
}

}  // namespace

void ConnectionSockets::add(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_)
        shutdown(fd, SHUT_RDWR);
    else
        fds_.insert(fd);
}

void ConnectionSockets::remove(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    fds_.erase(fd);
}

void ConnectionSockets::shutdown_all() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
}

void serve_connection(Server& server, int fd, const char* peer) {
    auto c = std::make_unique<Connection>(server, fd, peer);
    c->run();
    if (c->opened()) server.log(std::string(peer) + ": disconnected");
}

}  // namespace qbd
