// RDMA transport.  Per device context: one protection domain, one shared
// receive queue whose fixed-size receive buffers live in one registered
// region, two completion queues shared by every connection (one for
// receives, one for sends) on one completion channel, and a registered pool
// of data buffers.  One thread takes rdma_cm events (connect, disconnect)
// and the devices' asynchronous events, one takes completions and does the
// disk IO synchronously: a WRITE's data is RDMA-READ into a buffer, written
// to disk, and answered; a READ is read from disk into a buffer,
// RDMA-WRITTEN to the client and answered.  Each op has a buffer of its own
// for up to kOpDataBytes; larger IO takes one from the pool, and a request
// that finds the pool empty waits for a buffer; it never fails for want of
// one.  A small WRITE whose data came inline (QBD_FEAT_RDMA_INLINE) is
// written to disk straight from its receive buffer before that is
// reposted: no buffer, no RDMA READ.
//
// Credits are the client's (it never has more requests outstanding than
// it posted receives for replies); the server bounds what one connection
// can have in flight by its ops, and keeps what arrives beyond that in a
// bounded backlog.  A receive buffer is reposted as soon as its message
// has been copied out, so the shared queue stays full.
//
// Only receives wake the completion thread as a rule.  A send's completion
// frees only what the next request needs (its op, its data buffer), so the
// send queue is polled on every wakeup and asks for events of its own only
// while something waits for one: an RDMA READ of write data, a request
// waiting for an op or a data buffer, a closing connection's flush.  Under
// a software RDMA device each wakeup of the server is a context switch and
// three system calls, and a READ's two send completions used to cost one.
// For the same reason the work requests of every request served in one
// pass over the completion queue go out in one ibv_post_send per
// connection, and a READ's RDMA WRITE is not signalled.
//
// Both threads take one mutex: connections, the pool and its waiting list
// are only touched under it.  A connection is freed only when every work
// request it posted has completed (flushed, after a disconnect), so no
// completion can name freed memory.
#include "rdma_listener.h"

#include <endian.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "client/qbd_client.h"
#include "rdma_handles.h"
#include "request.h"
#include "server.h"
#include "session.h"

namespace qbd {

namespace {

constexpr unsigned kRecvBuffers = 512;  // receives posted on each shared queue
constexpr unsigned kDataBuffers = 16;   // of QBD_MAX_IO_BYTES each
constexpr unsigned kOpsPerConn = 64;    // requests one connection has in flight
// Each op has a buffer of its own for data up to this size, so small IO
// never waits for the shared pool (a 4 KiB READ held a 4 MiB pool buffer
// until its reply's completion): 1 MiB registered per connection.
constexpr uint32_t kOpDataBytes = 16 << 10;
// An op posts at most two work requests (data transfer and reply).
constexpr unsigned kSendDepth = 2 * kOpsPerConn;
constexpr unsigned kMaxConnsPerDevice = 256;
// Requests that arrive while all of a connection's ops are busy; a client
// that sends more than this beyond its ops breaks the credit rule.
constexpr size_t kMaxBacklog = 1024;

// How often the completion thread looks at every queue without an event.
constexpr int kIdlePollMs = 1000;
// Busy polling starts after this many passes in a row served one request.
constexpr unsigned kSinglePassesToPoll = 4;

// Receive work requests carry their buffer index with the low bit set;
// send work requests carry their Op's address, which is aligned.  A READ's
// RDMA WRITE is not signalled (the reply behind it completes after it): it
// only completes when it failed, and carries kUnsignalledTag so that
// completion is not counted against its op.
constexpr uint64_t kRecvTag = 1;
constexpr uint64_t kUnsignalledTag = 2;

// A file descriptor owned by its scope.
class Fd {
  public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -errno;
    return 0;
}

std::string errno_text(int err) { return strerror(err < 0 ? -err : err); }

std::string peer_of(rdma_cm_id* id) {
    sockaddr* sa = rdma_get_peer_addr(id);
    char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
    socklen_t len = sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
    return std::string("rdma:") + host + ":" + serv;
}

struct Device;
struct Conn;

// One posted receive: a request and, for an inline write, its data.
struct RecvBuf {
    qbd_rdma_req msg;
    char data[QBD_RDMA_INLINE_DATA_MAX];
};
static_assert(sizeof(RecvBuf) == QBD_RDMA_RECV_MAX);

// A request that arrived while every op of its connection was busy.
struct Pending {
    qbd_rdma_req msg;
    std::vector<char> inline_data;
};

// One request being served: the message, its reply slot, its data buffer.
struct Op {
    Conn* conn = nullptr;
    unsigned index = 0;  // of the connection's reply slot
    qbd_rdma_req msg{};
    Request req{};
    char* data = nullptr;             // READ and WRITE only: own_data or a pool buffer
    char* own_data = nullptr;         // kOpDataBytes in the connection's op_data
    unsigned wrs = 0;                 // signalled work requests posted and not completed
    bool reading = false;             // its RDMA READ of write data is posted
    const char* close_why = nullptr;  // drop the connection once answered
    // Its work requests, kept here until they are posted with those of
    // the other requests served in the same pass (flush_sends).
    std::array<ibv_send_wr, 2> send_wrs{};
    std::array<ibv_sge, 2> send_sges{};

    bool holds_pool_buffer() const { return data && data != own_data; }
};

struct Device {
    ibv_context* ctx = nullptr;  // owned by librdmacm
    ibv_device_attr attr{};
    unsigned send_depth = 0;
    unsigned max_conns = 0;
    unsigned nr_conns = 0;
    PdPtr pd;
    CompChannelPtr channel;
    CqPtr recv_cq;               // always armed
    CqPtr send_cq;               // armed only while something waits for a send (see top)
    bool send_cq_armed = false;  // completion thread only
    SrqPtr srq;
    std::vector<RecvBuf> recv_bufs;
    MrPtr recv_mr;
    std::vector<char> pool;
    MrPtr pool_mr;
    std::vector<char*> free_data;
    std::deque<Op*> waiting;  // ops waiting for a data buffer, oldest first
};

struct Conn {
    Conn(Server& srv, Device& d, rdma_cm_id* cm_id, std::string peer)
        : dev(d),
          id(cm_id),
          session(srv, std::move(peer),
                  QBD_FEAT_RDMA_INLINE | QBD_FEAT_RDMA_REMOTE_INV | QBD_FEAT_CRC32C) {}
    Device& dev;
    CmIdPtr id;  // destroyed after the QP and the MR below
    CmQp qp;
    Session session;
    std::vector<qbd_rdma_reply> replies;
    MrPtr reply_mr;
    std::vector<char> op_data;  // every op's own_data
    MrPtr op_data_mr;
    std::array<Op, kOpsPerConn> ops;
    std::vector<Op*> free_ops;
    std::deque<Pending> backlog;
    uint32_t qp_num = 0;
    unsigned outstanding = 0;  // signalled work requests posted (or queued) and not completed
    // Work requests queued and not posted yet, in order: flush_sends posts
    // them before the completion thread lets go of the mutex.
    ibv_send_wr* unposted = nullptr;
    ibv_send_wr** unposted_tail = &unposted;
    unsigned reading = 0;          // ops with reading set
    unsigned closing_replies = 0;  // ops with close_why set
    bool established = false;
    bool dead = false;       // disconnecting: waits for its work requests to flush
    uint32_t idle_rkey = 0;  // --fault rdma-wrong-inv-rkey: see wrong_inv_rkey
};

// --fault rdma-wrong-inv-rkey: the rkey a reply to a request through
// @rkey invalidates instead.  That is the last rkey the connection
// invalidated rightly, when it names another region: that region's
// request was answered, so the client's device takes the invalidation (an
// rkey of no region would break the queue pair instead), while the
// request's own region stays registered.  Meant for one request at a time:
// with more in flight, the idle region may meanwhile be registered again.
uint32_t wrong_inv_rkey(Conn& c, uint32_t rkey) {
    // The low byte is the key the client changes with each registration.
    if (c.idle_rkey && (c.idle_rkey >> 8) != (rkey >> 8)) return c.idle_rkey;
    c.idle_rkey = rkey;
    return rkey;
}

}  // namespace

struct RdmaListener::Impl {
    explicit Impl(Server& s) : srv(s) {}
    ~Impl();

    int listen(const std::string& addr, std::string* error);
    int add_device(ibv_context* ctx, std::string* error);
    Device* device_of(ibv_context* ctx);
    int post_recv(Device& d, unsigned index);

    void cm_loop();
    void on_cm_event(rdma_cm_event_type type, rdma_cm_id* id, const rdma_conn_param& param);
    void on_connect_request(rdma_cm_id* id, const rdma_conn_param& param);
    void on_async_events(Device& d);
    void cq_loop();
    void take_cq_events(Device& d);
    unsigned service(Device& d);
    bool poll_for_next_request();
    bool waits_for_send(const Device& d) const;
    void end_from_cm_thread(Conn& c, const char* why);
    void on_completion(Device& d, const ibv_wc& wc);

    void on_message(Conn& c, const qbd_rdma_req& msg, char* inline_data, uint32_t inline_len);
    void serve(Op& op, char* inline_data, uint32_t inline_len);
    void start_waiting(Device& d);
    void start_data(Op& op);
    void write_data_arrived(Op& op);
    int disk_io(Conn& c, const Request& r, char* buf);
    void reply(Op& op, int status, const void* payload, uint32_t len);
    int checked_write(Conn& c, const Request& r, char* buf);
    static void prepare_reply(Op& op, unsigned slot, int status, uint32_t length);
    static void set_reply_opcode(const Op& op, ibv_send_wr* wr);
    void queue_send(Op& op, ibv_send_wr* first);
    void flush_sends();
    void release(Op& op);
    void drop(Conn& c, const char* why);
    void reap(Conn& c);

    Server& srv;
    EventChannelPtr events;
    DeviceListPtr device_list;
    std::vector<std::unique_ptr<Device>> devices;
    std::vector<CmIdPtr> listen_ids;
    std::mutex mu;
    std::unordered_map<rdma_cm_id*, std::unique_ptr<Conn>> conns;
    std::unordered_map<uint32_t, Conn*> by_qp;
    std::vector<Conn*> with_unposted;  // connections with queued work requests
    Fd stop{eventfd(0, EFD_CLOEXEC)};
    Fd kick{eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};  // see end_from_cm_thread
    Fd epoll{epoll_create1(EPOLL_CLOEXEC)};
    std::atomic<bool> stopping{false};  // ends a busy poll (the threads see stop too)
    std::thread cm_thread, cq_thread;
};

RdmaListener::Impl::~Impl() {
    stopping.store(true, std::memory_order_relaxed);
    uint64_t one = 1;
    if (write(stop.get(), &one, sizeof(one)) < 0)
        srv.log(LOG_ERR, "rdma: cannot wake the threads to stop");
    if (cm_thread.joinable()) cm_thread.join();
    if (cq_thread.joinable()) cq_thread.join();
    // The threads are gone: tear down connections before the devices.
    conns.clear();
}

Device* RdmaListener::Impl::device_of(ibv_context* ctx) {
    for (auto& d : devices)
        if (d->ctx == ctx) return d.get();
    return nullptr;
}

int RdmaListener::Impl::post_recv(Device& d, unsigned index) {
    ibv_sge sge{reinterpret_cast<uintptr_t>(&d.recv_bufs[index]), sizeof(RecvBuf), d.recv_mr->lkey};
    ibv_recv_wr wr{};
    wr.wr_id = (uint64_t{index} << 1) | kRecvTag;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    ibv_recv_wr* bad;
    return -ibv_post_srq_recv(d.srq.get(), &wr, &bad);
}

int RdmaListener::Impl::add_device(ibv_context* ctx, std::string* error) {
    if (device_of(ctx)) return 0;
    auto d = std::make_unique<Device>();
    d->ctx = ctx;
    const std::string name = ibv_get_device_name(ctx->device);
    auto fail = [&](const char* what, int err) {
        *error = "--rdma: cannot set up device " + name + ": " + what + ": " + errno_text(err);
        return err < 0 ? err : -err;
    };
    if (int err = ibv_query_device(ctx, &d->attr)) return fail("ibv_query_device", err);
    d->pd.reset(ibv_alloc_pd(ctx));
    if (!d->pd) return fail("ibv_alloc_pd", errno);
    d->channel.reset(ibv_create_comp_channel(ctx));
    if (!d->channel) return fail("ibv_create_comp_channel", errno);
    if (int err = set_nonblocking(d->channel->fd)) return fail("completion channel", err);
    if (int err = set_nonblocking(ctx->async_fd)) return fail("asynchronous event channel", err);

    const unsigned recvs =
        std::min<unsigned>({kRecvBuffers, static_cast<unsigned>(d->attr.max_srq_wr),
                            static_cast<unsigned>(d->attr.max_cqe)});
    d->send_depth = std::min<unsigned>(kSendDepth, d->attr.max_qp_wr);
    // Each CQ must hold every completion that can be pending on it at once.
    const unsigned send_cqes =
        std::min<unsigned>(d->attr.max_cqe, kMaxConnsPerDevice * d->send_depth);
    if (recvs == 0 || d->send_depth < 2 || send_cqes < d->send_depth)
        return fail("device limits", EINVAL);
    d->max_conns = send_cqes / d->send_depth;
    d->recv_cq.reset(ibv_create_cq(ctx, static_cast<int>(recvs), nullptr, d->channel.get(), 0));
    if (!d->recv_cq) return fail("ibv_create_cq", errno);
    if (int err = ibv_req_notify_cq(d->recv_cq.get(), 0)) return fail("ibv_req_notify_cq", err);
    d->send_cq.reset(ibv_create_cq(ctx, static_cast<int>(send_cqes), nullptr, d->channel.get(), 0));
    if (!d->send_cq) return fail("ibv_create_cq", errno);
    ibv_srq_init_attr sa{};
    sa.attr.max_wr = recvs;
    sa.attr.max_sge = 1;
    d->srq.reset(ibv_create_srq(d->pd.get(), &sa));
    if (!d->srq) return fail("ibv_create_srq", errno);

    d->recv_bufs.resize(recvs);
    d->recv_mr.reset(ibv_reg_mr(d->pd.get(), d->recv_bufs.data(),
                                d->recv_bufs.size() * sizeof(RecvBuf), IBV_ACCESS_LOCAL_WRITE));
    if (!d->recv_mr) return fail("registering receive buffers", errno);
    d->pool.resize(size_t{kDataBuffers} * QBD_MAX_IO_BYTES);
    // Local write: RDMA READs land in these buffers.
    d->pool_mr.reset(
        ibv_reg_mr(d->pd.get(), d->pool.data(), d->pool.size(), IBV_ACCESS_LOCAL_WRITE));
    if (!d->pool_mr) return fail("registering data buffers", errno);
    for (unsigned i = 0; i < kDataBuffers; i++)
        d->free_data.push_back(d->pool.data() + size_t{i} * QBD_MAX_IO_BYTES);
    for (unsigned i = 0; i < recvs; i++)
        if (int err = post_recv(*d, i)) return fail("ibv_post_srq_recv", err);

    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = d.get();
    if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, d->channel->fd, &ev)) return fail("epoll_ctl", errno);
    devices.push_back(std::move(d));
    return 0;
}

int RdmaListener::Impl::listen(const std::string& addr, std::string* error) {
    std::string host;
    uint16_t port;
    if (client::split_host_port(addr, &host, &port)) {
        *error = "--rdma: bad listen address '" + addr + "'";
        return -EINVAL;
    }
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res)) {
        *error = "--rdma: cannot resolve " + addr + ": " + gai_strerror(rc);
        return -EINVAL;
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> ai(res, freeaddrinfo);
    rdma_cm_id* raw = nullptr;
    if (rdma_create_id(events.get(), &raw, nullptr, RDMA_PS_TCP)) {
        int err = errno;
        *error = "--rdma: cannot create an rdma_cm id for " + addr + ": " + errno_text(err);
        return -err;
    }
    CmIdPtr id(raw);
    if (rdma_bind_addr(id.get(), ai->ai_addr)) {
        int err = errno;
        *error = "--rdma: no RDMA device can reach " + addr + ": " + errno_text(err);
        return -err;
    }
    if (id->verbs) {
        if (int err = add_device(id->verbs, error)) return err;
    } else {
        // A wildcard address: connections may come through any device.
        int n = 0;
        if (!device_list) device_list.reset(rdma_get_devices(&n));
        for (ibv_context** c = device_list.get(); c && *c; c++)
            if (int err = add_device(*c, error)) return err;
        if (devices.empty()) {
            *error = "--rdma: no RDMA device can reach " + addr + ": no RDMA device found";
            return -ENODEV;
        }
    }
    if (rdma_listen(id.get(), 128)) {
        int err = errno;
        *error = "--rdma: cannot listen on " + addr + ": " + errno_text(err);
        return -err;
    }
    listen_ids.push_back(std::move(id));
    return 0;
}

void RdmaListener::Impl::cm_loop() {
    // The devices' asynchronous events (a queue pair gone into error on
    // its own) come here too: they end connections like CM events do.
    std::vector<pollfd> fds = {{events->fd, POLLIN, 0}, {stop.get(), POLLIN, 0}};
    for (auto& d : devices) fds.push_back({d->ctx->async_fd, POLLIN, 0});
    for (;;) {
        if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
        if (fds[1].revents) return;
        for (size_t i = 2; i < fds.size(); i++)
            if (fds[i].revents) on_async_events(*devices[i - 2]);
        rdma_cm_event* ev;
        while (rdma_get_cm_event(events.get(), &ev) == 0) {
            // Acknowledged before taking the lock: the completion thread
            // may be destroying an id under it, which waits for the ack.
            const rdma_cm_event_type type = ev->event;
            rdma_cm_id* id = ev->id;
            rdma_conn_param param = ev->param.conn;
            param.private_data = nullptr;
            param.private_data_len = 0;
            rdma_ack_cm_event(ev);
            on_cm_event(type, id, param);
        }
    }
}

void RdmaListener::Impl::on_cm_event(rdma_cm_event_type type, rdma_cm_id* id,
                                     const rdma_conn_param& param) {
    if (type == RDMA_CM_EVENT_CONNECT_REQUEST) {
        on_connect_request(id, param);
        return;
    }
    std::lock_guard lock(mu);
    auto it = conns.find(id);
    if (it == conns.end()) {
        if (type == RDMA_CM_EVENT_DEVICE_REMOVAL)
            srv.log(LOG_WARNING,
                    "rdma: a device was removed; its listener takes no new connections");
        return;
    }
    Conn& c = *it->second;
    switch (type) {
        case RDMA_CM_EVENT_ESTABLISHED:
            c.established = true;
            c.session.log("rdma connection opened");
            return;
        case RDMA_CM_EVENT_DISCONNECTED:
        case RDMA_CM_EVENT_REJECTED:
        case RDMA_CM_EVENT_CONNECT_ERROR:
        case RDMA_CM_EVENT_UNREACHABLE:
        case RDMA_CM_EVENT_DEVICE_REMOVAL:
            end_from_cm_thread(c,
                               type == RDMA_CM_EVENT_DISCONNECTED ? nullptr : rdma_event_str(type));
            return;
        default: return;
    }
}

void RdmaListener::Impl::on_async_events(Device& d) {
    ibv_async_event ev;
    while (ibv_get_async_event(d.ctx, &ev) == 0) {
        const ibv_event_type type = ev.event_type;
        const bool qp_failed = type == IBV_EVENT_QP_FATAL || type == IBV_EVENT_QP_REQ_ERR ||
                               type == IBV_EVENT_QP_ACCESS_ERR;
        const uint32_t qp_num = qp_failed ? ev.element.qp->qp_num : 0;
        // Acknowledged first: destroying the QP waits for it.
        ibv_ack_async_event(&ev);
        if (type == IBV_EVENT_DEVICE_FATAL) {
            srv.log(LOG_ERR, std::string("rdma: device ") + ibv_get_device_name(d.ctx->device) +
                                 " failed; its connections end");
            continue;
        }
        if (!qp_failed) continue;
        std::lock_guard lock(mu);
        auto it = by_qp.find(qp_num);
        if (it == by_qp.end()) continue;
        end_from_cm_thread(*it->second, ibv_event_type_str(type));
    }
}

void RdmaListener::Impl::on_connect_request(rdma_cm_id* raw, const rdma_conn_param& param) {
    const std::string peer = peer_of(raw);
    Device* d = device_of(raw->verbs);  // the devices are fixed at start
    auto refuse = [&](const std::string& why) {
        srv.log(LOG_WARNING, peer + ": refused rdma connection: " + why);
        rdma_reject(raw, nullptr, 0);
        rdma_destroy_id(raw);
    };
    if (!d) return refuse("it came through a device that was not there at start");
    {
        // Only this thread adds connections: the count can only fall
        // until the lock is taken again below.
        std::lock_guard lock(mu);
        if (d->nr_conns >= d->max_conns)
            return refuse("the device serves " + std::to_string(d->max_conns) +
                          " connections already");
    }

    // Set up without the lock (registering memory takes a while); nothing
    // arrives on the queue pair before it is accepted.
    auto c = std::make_unique<Conn>(srv, *d, raw, peer);
    ibv_qp_init_attr qa{};
    qa.send_cq = d->send_cq.get();
    qa.recv_cq = d->recv_cq.get();
    qa.srq = d->srq.get();
    qa.qp_type = IBV_QPT_RC;
    qa.cap.max_send_wr = d->send_depth;
    qa.cap.max_send_sge = 1;
    if (rdma_create_qp(raw, d->pd.get(), &qa)) {
        srv.log(LOG_ERR, peer + ": refused rdma connection: rdma_create_qp: " + errno_text(errno));
        rdma_reject(raw, nullptr, 0);
        return;  // c owns the id
    }
    c->qp = CmQp(raw);
    c->qp_num = raw->qp->qp_num;
    c->replies.resize(kOpsPerConn);
    c->reply_mr.reset(
        ibv_reg_mr(d->pd.get(), c->replies.data(), c->replies.size() * sizeof(qbd_rdma_reply), 0));
    if (!c->reply_mr) {
        srv.log(LOG_ERR,
                peer + ": refused rdma connection: registering replies: " + errno_text(errno));
        rdma_reject(raw, nullptr, 0);
        return;
    }
    c->op_data.resize(size_t{kOpsPerConn} * kOpDataBytes);
    // Local write: RDMA READs land in these buffers.
    c->op_data_mr.reset(
        ibv_reg_mr(d->pd.get(), c->op_data.data(), c->op_data.size(), IBV_ACCESS_LOCAL_WRITE));
    if (!c->op_data_mr) {
        srv.log(LOG_ERR,
                peer + ": refused rdma connection: registering data buffers: " + errno_text(errno));
        rdma_reject(raw, nullptr, 0);
        return;
    }
    // Only as many ops as the send queue can carry two work requests for.
    const unsigned nr_ops = std::min<unsigned>(kOpsPerConn, d->send_depth / 2);
    for (unsigned i = 0; i < nr_ops; i++) {
        c->ops[i].conn = c.get();
        c->ops[i].index = i;
        c->ops[i].own_data = c->op_data.data() + size_t{i} * kOpDataBytes;
        c->free_ops.push_back(&c->ops[nr_ops - 1 - i]);
    }

    // Accepted and entered under the lock: the completion thread must find
    // the connection for its first request.
    std::lock_guard lock(mu);
    rdma_conn_param accept{};
    // The server RDMA-READs write data from the client: it is the
    // initiator.  The request's values are already this side's (the
    // client's responder resources arrive as our initiator depth).
    accept.initiator_depth =
        static_cast<uint8_t>(std::min<int>(param.initiator_depth, d->attr.max_qp_init_rd_atom));
    accept.responder_resources =
        static_cast<uint8_t>(std::min<int>(param.responder_resources, d->attr.max_qp_rd_atom));
    accept.rnr_retry_count = 7;
    accept.retry_count = 7;
    if (rdma_accept(raw, &accept)) {
        srv.log(LOG_ERR, peer + ": rdma_accept failed: " + errno_text(errno));
        return;
    }
    d->nr_conns++;
    by_qp[c->qp_num] = c.get();
    conns[raw] = std::move(c);
}

void RdmaListener::Impl::cq_loop() {
    std::array<epoll_event, 8> ready;
    unsigned single_passes = 0;  // in a row, since the last batch
    for (;;) {
        // Now and then without an event too: an error completion on a
        // send queue nobody armed (the client vanished during a READ's
        // RDMA WRITE) is then still seen, and a failed arming retried.
        int n = epoll_wait(epoll.get(), ready.data(), ready.size(), kIdlePollMs);
        if (n < 0 && errno != EINTR) return;
        for (int i = 0; i < n; i++) {
            void* tag = ready[i].data.ptr;
            if (!tag) return;
            if (tag == &kick) {
                uint64_t count;
                if (read(kick.get(), &count, sizeof(count)) < 0 && errno != EAGAIN)
                    srv.log(LOG_ERR, "rdma: cannot read the completion thread's wakeup: " +
                                         errno_text(errno));
                continue;
            }
            take_cq_events(*static_cast<Device*>(tag));
        }
        unsigned received = 0;
        for (auto& d : devices) received += service(*d);
        // A queue-depth-1 client shows as passes of one request in a row;
        // the batches of a queuing client only now and then shrink to one,
        // and polling after those cost its writes.
        if (received > 1) {
            single_passes = 0;
        } else if (received == 1 && ++single_passes >= kSinglePassesToPoll &&
                   srv.config().busy_poll_us && !poll_for_next_request()) {
            single_passes = 0;
        }
    }
}

// Busy polling (qbd-server serve --busy-poll): after passes that served a
// single request each, most likely a queue-depth-1 client's, the thread polls
// the queues for the next one instead of sleeping (an epoll_wait, an event
// read, a re-arm and a context switch per request), yielding the CPU
// between empty polls.  Batches end the poll: they need the CPU, and next
// to them a wakeup costs little.  So does the stop.  False when a batch
// ended it.
bool RdmaListener::Impl::poll_for_next_request() {
    const auto poll = std::chrono::microseconds(srv.config().busy_poll_us);
    auto until = std::chrono::steady_clock::now() + poll;
    while (!stopping.load(std::memory_order_relaxed) && std::chrono::steady_clock::now() < until) {
        unsigned received = 0;
        for (auto& d : devices) received += service(*d);
        if (received > 1) return false;
        if (received)
            until = std::chrono::steady_clock::now() + poll;
        else
            sched_yield();
    }
    return true;
}

void RdmaListener::Impl::take_cq_events(Device& d) {
    // One event per wakeup: a second is rarely there, and the channel
    // stays readable for the next epoll_wait when it is, where reading
    // until EAGAIN costs a system call on every wakeup.
    ibv_cq* cq;
    void* ctx;
    if (ibv_get_cq_event(d.channel.get(), &cq, &ctx)) return;
    ibv_ack_cq_events(cq, 1);
    if (cq == d.send_cq.get()) {
        d.send_cq_armed = false;
    } else if (int err = ibv_req_notify_cq(cq, 0)) {
        // Re-armed before polling, so a receive arriving after the last
        // poll raises a new event.
        srv.log(LOG_ERR, "rdma: cannot arm the receive completion queue: " + errno_text(err));
    }
}

// Polls both queues of the device until neither has anything, arming the
// send queue first when something waits for a send's completion.  Returns
// how many requests (receives) it took.  The lock
// is taken per batch, so the rdma_cm thread gets in between even while
// requests keep arriving.
unsigned RdmaListener::Impl::service(Device& d) {
    std::array<ibv_wc, 32> wcs;
    unsigned received = 0;
    for (;;) {
        bool got_any = false;
        for (ibv_cq* cq : {d.send_cq.get(), d.recv_cq.get()}) {
            int got = ibv_poll_cq(cq, wcs.size(), wcs.data());
            if (got <= 0) continue;
            got_any = true;
            if (cq == d.recv_cq.get()) received += static_cast<unsigned>(got);
            std::lock_guard lock(mu);
            for (int k = 0; k < got; k++) on_completion(d, wcs[k]);
            flush_sends();
        }
        if (got_any) continue;
        std::lock_guard lock(mu);
        if (d.send_cq_armed || !waits_for_send(d)) return received;
        if (int err = ibv_req_notify_cq(d.send_cq.get(), 0)) {
            // The completion thread looks again within kIdlePollMs.
            srv.log(LOG_ERR, "rdma: cannot arm the send completion queue: " + errno_text(err));
            return received;
        }
        // A completion that came before the arming raised no event: poll
        // once more.
        d.send_cq_armed = true;
    }
}

// Whether anything on the device needs a send completion to go on: a
// request waiting for a pool buffer, an RDMA READ of write data, a reply
// that closes its connection, a connection waiting for an op, a closing
// connection's flush.
bool RdmaListener::Impl::waits_for_send(const Device& d) const {
    if (!d.waiting.empty()) return true;
    for (const auto& [id, c] : conns) {
        if (&c->dev != &d) continue;
        if (c->dead ? c->outstanding > 0 : !c->backlog.empty() || c->reading || c->closing_replies)
            return true;
    }
    return false;
}

// Drops a connection on the rdma_cm thread's word (under mu) and wakes the
// completion thread: the flush completions may come on a send queue nobody
// armed, and the completion thread arms it when it next looks.
void RdmaListener::Impl::end_from_cm_thread(Conn& c, const char* why) {
    drop(c, why);
    reap(c);        // frees c when nothing was in flight
    flush_sends();  // what the freed pool buffers started
    uint64_t one = 1;
    if (write(kick.get(), &one, sizeof(one)) < 0)
        srv.log(LOG_ERR, "rdma: cannot wake the completion thread: " + errno_text(errno));
}

void RdmaListener::Impl::on_completion(Device& d, const ibv_wc& wc) {
    if (wc.wr_id & kRecvTag) {
        const auto index = static_cast<unsigned>(wc.wr_id >> 1);
        auto it = by_qp.find(wc.qp_num);
        Conn* c = it == by_qp.end() ? nullptr : it->second;
        if (c && !c->dead) {
            if (wc.status != IBV_WC_SUCCESS)
                drop(*c, ibv_wc_status_str(wc.status));
            else if (wc.byte_len < sizeof(qbd_rdma_req))
                drop(*c, "message shorter than a request");
            else
                on_message(*c, d.recv_bufs[index].msg, d.recv_bufs[index].data,
                           wc.byte_len - sizeof(qbd_rdma_req));
        }
        // The message was copied out or served: the buffer takes the next.
        if (int err = post_recv(d, index))
            srv.log(LOG_ERR, "rdma: cannot repost a receive: " + errno_text(err));
        if (c) reap(*c);
        return;
    }
    if (wc.wr_id & kUnsignalledTag) {
        // A READ's data transfer failed; the reply behind it is flushed
        // and settles the op.  The connection is found by its queue pair,
        // not through the op: if the reply was never posted (flush_sends)
        // the connection may be gone already.
        auto it = by_qp.find(wc.qp_num);
        if (it != by_qp.end() && !it->second->dead) drop(*it->second, ibv_wc_status_str(wc.status));
        return;
    }
    Op& op = *reinterpret_cast<Op*>(wc.wr_id);
    Conn& c = *op.conn;
    c.outstanding--;
    op.wrs--;
    // While the READ is posted it is the op's only work request, so this
    // completion is its, whatever the status says.
    if (op.reading) {
        op.reading = false;
        c.reading--;
    }
    if (wc.status != IBV_WC_SUCCESS) {
        // Flushes after a disconnect are expected; anything else is news.
        if (!c.dead) drop(c, ibv_wc_status_str(wc.status));
    } else if (wc.opcode == IBV_WC_RDMA_READ && !c.dead) {
        write_data_arrived(op);
    }
    if (op.wrs == 0) {
        if (op.close_why && !c.dead) drop(c, op.close_why);
        release(op);
    }
    reap(c);
}

// inline_data (inline_len bytes) is only valid during the call: its
// receive buffer is reposted after it.
void RdmaListener::Impl::on_message(Conn& c, const qbd_rdma_req& msg, char* inline_data,
                                    uint32_t inline_len) {
    if (c.free_ops.empty()) {
        if (c.backlog.size() >= kMaxBacklog)
            return drop(c, "more requests than replies posted for");
        c.backlog.push_back({msg, std::vector<char>(inline_data, inline_data + inline_len)});
        return;
    }
    Op& op = *c.free_ops.back();
    c.free_ops.pop_back();
    op.msg = msg;
    serve(op, inline_data, inline_len);
}

// One request, judged as the TCP path judges it.  Inline write data is
// used before this returns.
void RdmaListener::Impl::serve(Op& op, char* inline_data, uint32_t inline_len) {
    Conn& c = *op.conn;
    const uint32_t data_flags = le32toh(op.msg.data_flags);
    if (inline_len && !(data_flags & QBD_RDMA_DATA_INLINE)) {
        drop(c, "message longer than a request with no inline data");
        return release(op);
    }
    const Verdict v = c.session.check(op.msg.hdr);
    op.req = decode(op.msg.hdr);
    const Request& r = op.req;
    if (v.action == Action::close) {
        drop(c, v.why);
        return release(op);
    }
    if (v.action == Action::reply) {
        // A stale epoch is routine (a shard moved): the client remaps.
        if (v.status != QBD_STATUS_STALE_EPOCH)
            c.session.log(LOG_WARNING, std::string("refused request: ") + v.why);
        return reply(op, v.status, nullptr, 0);
    }
    if (is_ctl(r.opcode)) {
        c.session.log(LOG_WARNING, "refused request: control calls are served over TCP only");
        return reply(op, -EOPNOTSUPP, nullptr, 0);
    }
    if (!is_io(r.opcode)) {
        if (r.length > QBD_RDMA_INLINE_MAX) {
            drop(c, "inline payload over the limit");
            return release(op);
        }
        SetupReply rep = c.session.handle_setup(r, reinterpret_cast<const char*>(op.msg.payload));
        op.close_why = rep.close_why;
        if (op.close_why) c.closing_replies++;
        if (rep.payload.size() > QBD_RDMA_INLINE_MAX) return reply(op, -EOVERFLOW, nullptr, 0);
        return reply(op, rep.status, rep.payload.data(), static_cast<uint32_t>(rep.payload.size()));
    }
    const bool data = r.opcode == QBD_OP_READ || r.opcode == QBD_OP_WRITE;
    if (data && le32toh(op.msg.data.length) != r.length) {
        c.session.log(LOG_WARNING, "refused request: data span length differs from the header's");
        return reply(op, -EINVAL, nullptr, 0);
    }
    if (data_flags & ~QBD_RDMA_DATA_INLINE) {
        c.session.log(LOG_WARNING, "refused request: unknown data flags");
        return reply(op, -EINVAL, nullptr, 0);
    }
    const bool inline_write = data_flags & QBD_RDMA_DATA_INLINE;
    if (inline_write && (!(c.session.features() & QBD_FEAT_RDMA_INLINE) ||
                         r.opcode != QBD_OP_WRITE || inline_len != r.length)) {
        c.session.log(LOG_WARNING,
                      "refused request: inline data not agreed, not a WRITE or not its length");
        return reply(op, -EINVAL, nullptr, 0);
    }
    if (int status = c.session.admit_io(r)) return reply(op, status, nullptr, 0);
    if (r.opcode == QBD_OP_HEARTBEAT) return reply(op, 0, nullptr, 0);
    if (inline_write) return reply(op, checked_write(c, r, inline_data), nullptr, 0);
    if (!data) return reply(op, disk_io(c, r, nullptr), nullptr, 0);
    if (r.length <= kOpDataBytes) {
        op.data = op.own_data;
        return start_data(op);
    }
    c.dev.waiting.push_back(&op);
    start_waiting(c.dev);
}

void RdmaListener::Impl::start_waiting(Device& d) {
    while (!d.free_data.empty() && !d.waiting.empty()) {
        Op& op = *d.waiting.front();
        d.waiting.pop_front();
        op.data = d.free_data.back();
        d.free_data.pop_back();
        start_data(op);
    }
}

// Disk IO of an admitted request, judged on the epoch the catalog has now.
// A connection whose client reconnected since is fenced (fence.h): its
// IO never reaches the disk and the connection ends; the error status
// goes nowhere, the queue pair being in its error state.
int RdmaListener::Impl::disk_io(Conn& c, const Request& r, char* buf) {
    FencePermit permit(c.session.incarnation());
    if (permit.refused()) {
        drop(c, "a newer connection of its client took over");
        return -ESHUTDOWN;
    }
    c.session.refresh_volume();
    if (!epoch_current(r.epoch, c.session.state())) return QBD_STATUS_STALE_EPOCH;
    VolumeIo& io = *c.session.volume_io();
    int res = run_io(io, Session::io_request(r, buf, 0));
    // Fenced by Ceph (another gateway took the volume over): nothing may
    // be answered, as for a fenced session.
    if (io.dead()) {
        drop(c, "another gateway took the volume over");
        return -ESHUTDOWN;
    }
    return Session::reply_status(res);
}

void RdmaListener::Impl::start_data(Op& op) {
    Conn& c = *op.conn;
    const Request& r = op.req;
    const uint32_t lkey = op.holds_pool_buffer() ? c.dev.pool_mr->lkey : c.op_data_mr->lkey;
    if (r.opcode == QBD_OP_READ) {
        if (int status = disk_io(c, r, op.data)) return reply(op, status, nullptr, 0);
    }
    op.send_sges[0] = ibv_sge{reinterpret_cast<uintptr_t>(op.data), r.length, lkey};
    ibv_send_wr& data = op.send_wrs[0];
    data = ibv_send_wr{};
    data.wr_id = reinterpret_cast<uintptr_t>(&op);
    data.sg_list = &op.send_sges[0];
    data.num_sge = 1;
    data.wr.rdma.remote_addr = le64toh(op.msg.data.addr);
    data.wr.rdma.rkey = le32toh(op.msg.data.rkey);
    if (r.opcode == QBD_OP_WRITE) {
        data.opcode = IBV_WR_RDMA_READ;
        data.send_flags = IBV_SEND_SIGNALED;
        queue_send(op, &data);
        op.reading = true;
        c.reading++;
        return;
    }
    // The reply follows the data on the same queue pair, so the client
    // sees the data in place when the reply arrives.
    data.opcode = IBV_WR_RDMA_WRITE;
    data.wr_id |= kUnsignalledTag;
    prepare_reply(op, 1, 0, r.length);
    c.session.set_read_crc(&c.replies[op.index].hdr, op.data, r.length);
    data.next = &op.send_wrs[1];
    queue_send(op, &data);
}

void RdmaListener::Impl::write_data_arrived(Op& op) {
    reply(op, checked_write(*op.conn, op.req, op.data), nullptr, 0);
}

// A WRITE whose data is in @buf goes to the disk only if it matches its
// crc32c, where checksums were agreed.
int RdmaListener::Impl::checked_write(Conn& c, const Request& r, char* buf) {
    if (int status = c.session.check_write_crc(r, buf)) return status;
    return disk_io(c, r, buf);
}

void RdmaListener::Impl::reply(Op& op, int status, const void* payload, uint32_t len) {
    prepare_reply(op, 0, status, len);
    if (len) memcpy(op.conn->replies[op.index].payload, payload, len);
    queue_send(op, &op.send_wrs[0]);
}

// Fills the op's reply slot and send_wrs[slot], a signalled SEND of it.
void RdmaListener::Impl::prepare_reply(Op& op, unsigned slot, int status, uint32_t length) {
    Conn& c = *op.conn;
    qbd_rdma_reply& rep = c.replies[op.index];
    rep = qbd_rdma_reply{};
    rep.hdr.magic = htole32(QBD_PROTO_MAGIC);
    rep.hdr.version = htole16(QBD_PROTO_VERSION);
    rep.hdr.opcode = htole16(op.req.opcode);
    rep.hdr.status = htole32(static_cast<uint32_t>(status));
    rep.hdr.length = htole32(length);
    rep.hdr.tag = htole64(op.req.tag);
    uint32_t len = sizeof(rep);
    // --fault rdma-long-hello-reply: a byte of the next reply slot too.
    if (op.req.opcode == QBD_OP_HELLO && c.session.server().faults().rdma_long_hello_reply &&
        op.index + 1 < c.replies.size())
        len++;
    op.send_sges[slot] = ibv_sge{reinterpret_cast<uintptr_t>(&rep), len, c.reply_mr->lkey};
    ibv_send_wr& wr = op.send_wrs[slot];
    wr = ibv_send_wr{};
    wr.wr_id = reinterpret_cast<uintptr_t>(&op);
    wr.sg_list = &op.send_sges[slot];
    wr.num_sge = 1;
    set_reply_opcode(op, &wr);
    wr.send_flags = IBV_SEND_SIGNALED;
}

// A reply to a READ or WRITE through a registered span invalidates the
// client's registration when it agreed to that: it then posts no
// invalidation of its own.
void RdmaListener::Impl::set_reply_opcode(const Op& op, ibv_send_wr* wr) {
    const bool registered = (op.req.opcode == QBD_OP_READ || op.req.opcode == QBD_OP_WRITE) &&
                            !(le32toh(op.msg.data_flags) & QBD_RDMA_DATA_INLINE);
    if (registered && (op.conn->session.features() & QBD_FEAT_RDMA_REMOTE_INV)) {
        wr->opcode = IBV_WR_SEND_WITH_INV;
        wr->invalidate_rkey = le32toh(op.msg.data.rkey);
        if (op.conn->session.server().faults().rdma_wrong_inv_rkey)
            wr->invalidate_rkey = wrong_inv_rkey(*op.conn, wr->invalidate_rkey);
    } else {
        wr->opcode = IBV_WR_SEND;
    }
}

// Queues the op's chain of work requests on its connection, counted as
// posted: flush_sends posts every connection's queue in one call, so the
// replies of a pass over the completion queue cost one system call (under
// a software device, one run of its protocol work) per connection.
void RdmaListener::Impl::queue_send(Op& op, ibv_send_wr* first) {
    Conn& c = *op.conn;
    if (!c.unposted) with_unposted.push_back(&c);
    *c.unposted_tail = first;
    ibv_send_wr* last = first;
    for (ibv_send_wr* w = first; w; w = w->next) {
        last = w;
        if (w->send_flags & IBV_SEND_SIGNALED) {
            op.wrs++;
            c.outstanding++;
        }
    }
    c.unposted_tail = &last->next;
}

// Posts what queue_send queued; the completion thread calls it before it
// lets go of the mutex, so no other thread sees a queue.
void RdmaListener::Impl::flush_sends() {
    while (!with_unposted.empty()) {
        Conn& c = *with_unposted.back();
        with_unposted.pop_back();
        ibv_send_wr* first = std::exchange(c.unposted, nullptr);
        c.unposted_tail = &c.unposted;
        ibv_send_wr* bad = nullptr;
        if (ibv_post_send(c.qp.get(), first, &bad) == 0) continue;
        // Those before the one that failed went out and will complete;
        // the rest never will.  An op left without work requests is freed
        // with its connection by reap.
        for (ibv_send_wr* w = bad; w; w = w->next) {
            if (!(w->send_flags & IBV_SEND_SIGNALED)) continue;
            Op& op = *reinterpret_cast<Op*>(w->wr_id);
            op.wrs--;
            c.outstanding--;
            if (w->opcode == IBV_WR_RDMA_READ && std::exchange(op.reading, false)) c.reading--;
        }
        drop(c, "ibv_post_send failed");
        reap(c);  // may queue sends of other connections: the loop takes them
    }
}

void RdmaListener::Impl::release(Op& op) {
    Conn& c = *op.conn;
    Device& d = c.dev;
    if (std::exchange(op.close_why, nullptr)) c.closing_replies--;
    c.free_ops.push_back(&op);
    char* data = std::exchange(op.data, nullptr);
    if (data && data != op.own_data) {
        d.free_data.push_back(data);
        start_waiting(d);
    }
    if (!c.dead && !c.backlog.empty()) {
        Pending p = std::move(c.backlog.front());
        c.backlog.pop_front();
        on_message(c, p.msg, p.inline_data.data(), static_cast<uint32_t>(p.inline_data.size()));
    }
}

// Stops serving the connection; it is freed by reap once its work
// requests have flushed.
void RdmaListener::Impl::drop(Conn& c, const char* why) {
    if (c.dead) return;
    c.dead = true;
    if (why) c.session.log(LOG_NOTICE, std::string("closing rdma connection: ") + why);
    // Into the error state: everything posted completes, flushed.
    rdma_disconnect(c.id.get());
    c.backlog.clear();
    auto& w = c.dev.waiting;
    for (auto it = w.begin(); it != w.end();) {
        if ((*it)->conn == &c) {
            Op& op = **it;
            it = w.erase(it);
            release(op);
        } else {
            ++it;
        }
    }
}

void RdmaListener::Impl::reap(Conn& c) {
    if (!c.dead || c.outstanding) return;
    // Ops between a disconnect and their reply hold no work request but
    // may hold a data buffer; return every one.
    for (Op& op : c.ops)
        if (op.holds_pool_buffer()) {
            c.dev.free_data.push_back(op.data);
            op.data = nullptr;
        }
    if (c.established) c.session.log("rdma connection closed");
    c.dev.nr_conns--;
    by_qp.erase(c.qp_num);
    Device& d = c.dev;
    conns.erase(c.id.get());
    start_waiting(d);
}

RdmaListener::RdmaListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RdmaListener::~RdmaListener() = default;

int RdmaListener::start(Server& srv, const std::vector<std::string>& addrs,
                        std::unique_ptr<RdmaListener>* out, std::string* error) {
    auto impl = std::make_unique<Impl>(srv);
    if (impl->stop.get() < 0 || impl->kick.get() < 0 || impl->epoll.get() < 0) {
        *error = "--rdma: " + errno_text(errno);
        return -errno;
    }
    // The completion thread learns of the stop through its epoll set.
    epoll_event stop_ev{};
    stop_ev.events = EPOLLIN;
    stop_ev.data.ptr = nullptr;
    epoll_event kick_ev{};
    kick_ev.events = EPOLLIN;
    kick_ev.data.ptr = &impl->kick;
    if (epoll_ctl(impl->epoll.get(), EPOLL_CTL_ADD, impl->stop.get(), &stop_ev) ||
        epoll_ctl(impl->epoll.get(), EPOLL_CTL_ADD, impl->kick.get(), &kick_ev)) {
        *error = "--rdma: epoll_ctl: " + errno_text(errno);
        return -errno;
    }
    impl->events.reset(rdma_create_event_channel());
    if (!impl->events) {
        int err = errno;
        *error = "--rdma: no RDMA device can reach " + (addrs.empty() ? "" : addrs[0]) + ": " +
                 errno_text(err);
        return -err;
    }
    if (int err = set_nonblocking(impl->events->fd)) {
        *error = "--rdma: rdma_cm event channel: " + errno_text(err);
        return err;
    }
    for (const std::string& addr : addrs) {
        if (int err = impl->listen(addr, error)) return err;
        srv.log(LOG_NOTICE, "listening with rdma on " + addr);
    }
    Impl* p = impl.get();
    impl->cm_thread = std::thread([p] { p->cm_loop(); });
    impl->cq_thread = std::thread([p] { p->cq_loop(); });
    out->reset(new RdmaListener(std::move(impl)));
    return 0;
}

}  // namespace qbd
