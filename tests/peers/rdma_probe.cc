// qbd-rdma-probe: a userspace client of qbd-server's RDMA transport, for
// the guest tests.  Connects with rdma_cm, does HELLO (no secret) and OPEN
// of the given volume, WRITEs a pattern of several sizes at several offsets
// through a registered buffer and small ones inline (QBD_FEAT_RDMA_INLINE),
// READs it back and compares, and checks that the server refuses what it
// must.  Exits 0 only when everything matched; says what failed otherwise.
//
//   qbd-rdma-probe [--oversize|--short|--trailing] HOST:PORT VOLUME_ID EPOCH
//
// --oversize sends a READ longer than QBD_MAX_IO_BYTES, --short a message
// shorter than struct qbd_rdma_req, --trailing a READ followed by bytes
// not flagged as inline data, after OPEN: the server must drop the
// connection (exit 0 when it did).
#include <endian.h>
#include <netdb.h>
#include <poll.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "qbd_proto.h"
#include "rdma_handles.h"

namespace {

using namespace qbd;

constexpr uint32_t kDataBytes = 1U << 20;  // the largest IO probed
// Requests in flight at once in the burst: more than the server's data
// buffers (16) and than its ops per connection (32), so requests wait for
// a buffer and queue behind the connection's busy ops.
constexpr unsigned kBurst = 40;
constexpr int kTimeoutMs = 20000;

int failures = 0;

void failed(const std::string& what) {
    fprintf(stderr, "rdma-probe: FAIL: %s\n", what.c_str());
    failures++;
}

uint64_t now_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

// The byte at volume offset @pos in the pattern.
uint8_t pattern(uint64_t pos) { return static_cast<uint8_t>((pos * 2654435761ULL) >> 13); }

class Probe {
  public:
    int connect(const std::string& addr);
    // Sends one request, waits for its reply; false when none came.
    bool call(qbd_rdma_req& req, qbd_rdma_reply* rep);
    // Sends a request from send slot @slot (below kBurst) without waiting;
    // @extra bytes of the data buffer at @extra_off follow it in the SEND.
    bool submit(qbd_rdma_req& req, unsigned slot, uint32_t send_bytes = sizeof(qbd_rdma_req),
                uint32_t extra = 0, size_t extra_off = 0);
    // Whether the server disconnects within @ms milliseconds.
    bool disconnected_within(int ms);
    // Waits for @n replies and for every send to complete.
    bool collect(unsigned n, std::vector<qbd_rdma_reply>* replies);
    // An IO request; its data span is @len bytes of the buffer at @data_off.
    qbd_rdma_req io_request(uint16_t opcode, uint64_t offset, uint32_t length, uint32_t flags = 0,
                            uint32_t span_length = 0, size_t data_off = 0);
    // A WRITE whose data is sent inline, taken from the data buffer at
    // @data_off by submit(req, slot, sizeof(req), @length, @data_off).
    qbd_rdma_req inline_write(uint64_t offset, uint32_t length);
    // One IO through the start of the data buffer; returns the status.
    int io(uint16_t opcode, uint64_t offset, uint32_t length, uint32_t flags = 0,
           uint32_t span_length = 0);
    // One request with @extra inline bytes from the start of the data
    // buffer; returns the status, or -EPIPE when there was no reply.
    int call_inline(qbd_rdma_req& req, uint32_t extra);
    char* data() { return data_.data(); }
    uint64_t volume_id = 0, epoch = 0;

  private:
    bool wait_cm(rdma_cm_event_type want);
    bool post_recv(unsigned index);

    EventChannelPtr events_;
    CmIdPtr id_;
    PdPtr pd_;
    CqPtr cq_;
    std::vector<qbd_rdma_req> reqs_ = std::vector<qbd_rdma_req>(kBurst);
    std::vector<qbd_rdma_reply> reps_ = std::vector<qbd_rdma_reply>(kBurst);
    std::vector<char> data_ = std::vector<char>(size_t{kBurst} * kDataBytes);
    MrPtr req_mr_, rep_mr_, data_mr_;
    CmQp qp_;
    uint64_t tag_ = 0;
    unsigned sends_pending_ = 0;
};

bool Probe::wait_cm(rdma_cm_event_type want) {
    rdma_cm_event* ev;
    if (rdma_get_cm_event(events_.get(), &ev)) {
        failed(std::string("rdma_get_cm_event: ") + strerror(errno));
        return false;
    }
    rdma_cm_event_type got = ev->event;
    int status = ev->status;
    rdma_ack_cm_event(ev);
    if (got != want) {
        failed(std::string("waiting for ") + rdma_event_str(want) + ", got " + rdma_event_str(got) +
               " (status " + std::to_string(status) + ")");
        return false;
    }
    return true;
}

bool Probe::post_recv(unsigned index) {
    ibv_sge sge{reinterpret_cast<uintptr_t>(&reps_[index]), sizeof(qbd_rdma_reply), rep_mr_->lkey};
    ibv_recv_wr wr{}, *bad;
    wr.wr_id = index;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    return ibv_post_recv(qp_.get(), &wr, &bad) == 0;
}

int Probe::connect(const std::string& addr) {
    auto colon = addr.rfind(':');
    if (colon == std::string::npos) {
        failed("address '" + addr + "' is not HOST:PORT");
        return -EINVAL;
    }
    addrinfo hints{}, *res;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(addr.substr(0, colon).c_str(), addr.substr(colon + 1).c_str(), &hints, &res)) {
        failed("cannot resolve " + addr);
        return -EINVAL;
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> ai(res, freeaddrinfo);
    events_.reset(rdma_create_event_channel());
    rdma_cm_id* raw;
    if (!events_ || rdma_create_id(events_.get(), &raw, nullptr, RDMA_PS_TCP)) {
        failed(std::string("rdma_cm: ") + strerror(errno));
        return -errno;
    }
    id_.reset(raw);
    if (rdma_resolve_addr(raw, nullptr, ai->ai_addr, 5000) ||
        !wait_cm(RDMA_CM_EVENT_ADDR_RESOLVED) || rdma_resolve_route(raw, 5000) ||
        !wait_cm(RDMA_CM_EVENT_ROUTE_RESOLVED)) {
        failed("cannot resolve a route to " + addr);
        return -EHOSTUNREACH;
    }
    ibv_device_attr attr;
    if (ibv_query_device(raw->verbs, &attr)) return -EIO;
    pd_.reset(ibv_alloc_pd(raw->verbs));
    if (pd_) cq_.reset(ibv_create_cq(raw->verbs, 2 * kBurst, nullptr, nullptr, 0));
    if (!cq_) {
        failed(std::string("cannot allocate a PD and a CQ: ") + strerror(errno));
        return -ENOMEM;
    }
    ibv_qp_init_attr qa{};
    qa.send_cq = qa.recv_cq = cq_.get();
    qa.qp_type = IBV_QPT_RC;
    qa.cap.max_send_wr = qa.cap.max_recv_wr = kBurst;
    qa.cap.max_send_sge = 2;  // a request and its inline data
    qa.cap.max_recv_sge = 1;
    if (rdma_create_qp(raw, pd_.get(), &qa)) {
        failed(std::string("rdma_create_qp: ") + strerror(errno));
        return -errno;
    }
    qp_ = CmQp(raw);
    req_mr_.reset(ibv_reg_mr(pd_.get(), reqs_.data(), reqs_.size() * sizeof(qbd_rdma_req), 0));
    rep_mr_.reset(ibv_reg_mr(pd_.get(), reps_.data(), reps_.size() * sizeof(qbd_rdma_reply),
                             IBV_ACCESS_LOCAL_WRITE));
    data_mr_.reset(
        ibv_reg_mr(pd_.get(), data_.data(), data_.size(),
                   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE));
    if (!req_mr_ || !rep_mr_ || !data_mr_) {
        failed(std::string("cannot register buffers: ") + strerror(errno));
        return -ENOMEM;
    }
    // The credit rule: a receive posted for every request in flight.
    for (unsigned i = 0; i < kBurst; i++)
        if (!post_recv(i)) {
            failed("cannot post receives");
            return -ENOMEM;
        }
    rdma_conn_param param{};
    // The server RDMA-READs write data from this side.
    param.responder_resources = static_cast<uint8_t>(std::min(16, attr.max_qp_rd_atom));
    param.initiator_depth = 0;
    param.retry_count = 7;
    param.rnr_retry_count = 7;
    if (rdma_connect(raw, &param) || !wait_cm(RDMA_CM_EVENT_ESTABLISHED)) {
        failed("cannot connect to " + addr);
        return -ECONNREFUSED;
    }
    return 0;
}

bool Probe::disconnected_within(int ms) {
    const uint64_t deadline = now_ms() + static_cast<uint64_t>(ms);
    for (;;) {
        const auto left = static_cast<int64_t>(deadline) - static_cast<int64_t>(now_ms());
        pollfd pfd{events_->fd, POLLIN, 0};
        if (left <= 0 || poll(&pfd, 1, static_cast<int>(left)) <= 0) return false;
        rdma_cm_event* ev;
        if (rdma_get_cm_event(events_.get(), &ev)) return false;
        const bool gone = ev->event == RDMA_CM_EVENT_DISCONNECTED;
        rdma_ack_cm_event(ev);
        if (gone) return true;
    }
}

bool Probe::submit(qbd_rdma_req& req, unsigned slot, uint32_t send_bytes, uint32_t extra,
                   size_t extra_off) {
    req.hdr.magic = htole32(QBD_PROTO_MAGIC);
    req.hdr.version = htole16(QBD_PROTO_VERSION);
    req.hdr.tag = htole64(++tag_);
    reqs_[slot] = req;
    ibv_sge sge[2] = {
        {reinterpret_cast<uintptr_t>(&reqs_[slot]), send_bytes, req_mr_->lkey},
        {reinterpret_cast<uintptr_t>(data_.data() + extra_off), extra, data_mr_->lkey}};
    ibv_send_wr wr{}, *bad;
    wr.sg_list = sge;
    wr.num_sge = extra ? 2 : 1;
    wr.opcode = IBV_WR_SEND;
    wr.send_flags = IBV_SEND_SIGNALED;
    if (ibv_post_send(qp_.get(), &wr, &bad)) {
        failed("ibv_post_send failed");
        return false;
    }
    sends_pending_++;
    return true;
}

bool Probe::collect(unsigned n, std::vector<qbd_rdma_reply>* replies) {
    replies->clear();
    const uint64_t deadline = now_ms() + kTimeoutMs;
    while (sends_pending_ || replies->size() < n) {
        ibv_wc wc;
        int got = ibv_poll_cq(cq_.get(), 1, &wc);
        if (got < 0 || (got == 0 && now_ms() > deadline)) {
            failed("no reply within " + std::to_string(kTimeoutMs) + " ms");
            return false;
        }
        if (got == 0) continue;
        if (wc.status != IBV_WC_SUCCESS) {
            failed(std::string("completion failed: ") + ibv_wc_status_str(wc.status));
            return false;
        }
        if (wc.opcode == IBV_WC_SEND) sends_pending_--;
        if (wc.opcode != IBV_WC_RECV) continue;
        const auto index = static_cast<unsigned>(wc.wr_id);
        if (wc.byte_len != sizeof(qbd_rdma_reply)) {
            failed("reply of " + std::to_string(wc.byte_len) + " bytes");
            return false;
        }
        if (le32toh(reps_[index].hdr.magic) != QBD_PROTO_MAGIC) {
            failed("reply with a bad magic");
            return false;
        }
        replies->push_back(reps_[index]);
        if (!post_recv(index)) return false;
    }
    return true;
}

bool Probe::call(qbd_rdma_req& req, qbd_rdma_reply* rep) {
    std::vector<qbd_rdma_reply> got;
    if (!submit(req, 0) || !collect(1, &got)) return false;
    if (le64toh(got[0].hdr.tag) != tag_) {
        failed("reply with another request's tag");
        return false;
    }
    *rep = got[0];
    return true;
}

qbd_rdma_req Probe::io_request(uint16_t opcode, uint64_t offset, uint32_t length, uint32_t flags,
                               uint32_t span_length, size_t data_off) {
    qbd_rdma_req req{};
    req.hdr.opcode = htole16(opcode);
    req.hdr.flags = htole32(flags);
    req.hdr.length = htole32(length);
    req.hdr.volume_id = htole64(volume_id);
    req.hdr.epoch = htole64(epoch);
    req.hdr.offset = htole64(offset);
    if (opcode == QBD_OP_READ || opcode == QBD_OP_WRITE) {
        req.data.addr = htole64(reinterpret_cast<uintptr_t>(data_.data() + data_off));
        req.data.rkey = htole32(data_mr_->rkey);
        req.data.length = htole32(span_length ? span_length : length);
    }
    return req;
}

qbd_rdma_req Probe::inline_write(uint64_t offset, uint32_t length) {
    qbd_rdma_req req = io_request(QBD_OP_WRITE, offset, length);
    req.data.addr = 0;
    req.data.rkey = 0;
    req.data_flags = htole32(QBD_RDMA_DATA_INLINE);
    return req;
}

int Probe::call_inline(qbd_rdma_req& req, uint32_t extra) {
    std::vector<qbd_rdma_reply> got;
    if (!submit(req, 0, sizeof(req), extra, 0) || !collect(1, &got)) return -EPIPE;
    return static_cast<int>(le32toh(got[0].hdr.status));
}

// Returns the reply's status, or -EPIPE when there was no reply.
int Probe::io(uint16_t opcode, uint64_t offset, uint32_t length, uint32_t flags,
              uint32_t span_length) {
    qbd_rdma_req req = io_request(opcode, offset, length, flags, span_length);
    qbd_rdma_reply rep;
    if (!call(req, &rep)) return -EPIPE;
    auto status = static_cast<int>(le32toh(rep.hdr.status));
    if (status == 0 && opcode == QBD_OP_READ && le32toh(rep.hdr.length) != length)
        failed("READ reply says " + std::to_string(le32toh(rep.hdr.length)) + " bytes");
    return status;
}

int setup(Probe& p) {
    qbd_rdma_req req{};
    qbd_rdma_reply rep;
    qbd_hello hello{};
    hello.features = htole64(QBD_FEAT_FUA | QBD_FEAT_RDMA_INLINE);
    req.hdr.opcode = htole16(QBD_OP_HELLO);
    req.hdr.length = htole32(sizeof(hello));
    memcpy(req.payload, &hello, sizeof(hello));
    if (!p.call(req, &rep)) return -EPIPE;
    qbd_hello_reply hr;
    memcpy(&hr, rep.payload, sizeof(hr));
    if (rep.hdr.status || le32toh(rep.hdr.length) != sizeof(hr) ||
        le32toh(hr.max_io_bytes) < kDataBytes || le32toh(hr.auth) != QBD_AUTH_NONE ||
        le64toh(hr.features) != (QBD_FEAT_FUA | QBD_FEAT_RDMA_INLINE)) {
        failed("HELLO: status " + std::to_string(static_cast<int>(le32toh(rep.hdr.status))) +
               ", auth " + std::to_string(le32toh(hr.auth)));
        return -EPROTO;
    }
    req = qbd_rdma_req{};
    qbd_open o{};
    o.volume_id = htole64(p.volume_id);
    o.epoch = htole64(p.epoch);
    req.hdr.opcode = htole16(QBD_OP_OPEN);
    req.hdr.length = htole32(sizeof(o));
    memcpy(req.payload, &o, sizeof(o));
    if (!p.call(req, &rep)) return -EPIPE;
    if (rep.hdr.status || le32toh(rep.hdr.length) != sizeof(qbd_open_reply)) {
        failed("OPEN: status " + std::to_string(static_cast<int>(le32toh(rep.hdr.status))));
        return -EPROTO;
    }
    return 0;
}

constexpr uint64_t kBurstOffset = 16ULL << 20;

// kBurst 1 MiB WRITEs in flight at once, then as many READs, compared.
void burst(Probe& p) {
    std::vector<qbd_rdma_reply> replies;
    for (int pass = 0; pass < 2; pass++) {
        const uint16_t op = pass == 0 ? QBD_OP_WRITE : QBD_OP_READ;
        const char* name = pass == 0 ? "burst WRITE" : "burst READ";
        for (unsigned i = 0; i < kBurst; i++) {
            const uint64_t off = kBurstOffset + uint64_t{i} * kDataBytes;
            char* buf = p.data() + size_t{i} * kDataBytes;
            for (uint32_t k = 0; k < kDataBytes; k++)
                buf[k] = pass == 0 ? static_cast<char>(pattern(off + k + 7)) : 0;
            qbd_rdma_req req = p.io_request(op, off, kDataBytes, 0, 0, size_t{i} * kDataBytes);
            if (!p.submit(req, i)) return;
        }
        if (!p.collect(kBurst, &replies)) return;
        for (const qbd_rdma_reply& r : replies)
            if (r.hdr.status)
                failed(std::string(name) + ": status " +
                       std::to_string(static_cast<int>(le32toh(r.hdr.status))));
    }
    for (unsigned i = 0; i < kBurst; i++) {
        const uint64_t off = kBurstOffset + uint64_t{i} * kDataBytes;
        const char* buf = p.data() + size_t{i} * kDataBytes;
        for (uint32_t k = 0; k < kDataBytes; k++)
            if (static_cast<uint8_t>(buf[k]) != pattern(off + k + 7)) {
                failed("burst READ at " + std::to_string(off) + ": byte " + std::to_string(k) +
                       " differs from what was written");
                break;
            }
    }
}

constexpr uint64_t kInlineOffset = 56ULL << 20;

// Inline write @i of the burst: 512 bytes or a full 4 KiB, in its own
// 4 KiB of the volume.
uint32_t inline_len(unsigned i) { return i % 2 ? QBD_RDMA_INLINE_DATA_MAX : 512; }
uint64_t inline_off(unsigned i) { return kInlineOffset + uint64_t{i} * QBD_RDMA_INLINE_DATA_MAX; }

// Small WRITEs with their data inline: kBurst of them in flight at once
// (more than the server's ops, so some wait in its backlog with their
// data), then read back through registered spans and compared.
void inline_burst(Probe& p) {
    std::vector<qbd_rdma_reply> replies;
    for (unsigned i = 0; i < kBurst; i++) {
        const uint32_t len = inline_len(i);
        const uint64_t off = inline_off(i);
        char* buf = p.data() + size_t{i} * kDataBytes;
        for (uint32_t k = 0; k < len; k++) buf[k] = static_cast<char>(pattern(off + k + 3));
        qbd_rdma_req req = p.inline_write(off, len);
        if (!p.submit(req, i, sizeof(req), len, size_t{i} * kDataBytes)) return;
    }
    if (!p.collect(kBurst, &replies)) return;
    for (const qbd_rdma_reply& r : replies)
        if (r.hdr.status)
            failed("inline WRITE: status " +
                   std::to_string(static_cast<int>(le32toh(r.hdr.status))));
    for (unsigned i = 0; i < kBurst; i++) {
        const uint32_t len = inline_len(i);
        const uint64_t off = inline_off(i);
        memset(p.data(), 0xa5, len);
        if (int st = p.io(QBD_OP_READ, off, len)) {
            failed("READ after inline WRITE: status " + std::to_string(st));
            continue;
        }
        for (uint32_t k = 0; k < len; k++)
            if (static_cast<uint8_t>(p.data()[k]) != pattern(off + k + 3)) {
                failed("inline WRITE of " + std::to_string(len) + " at " + std::to_string(off) +
                       ": byte " + std::to_string(k) + " reads back differently");
                break;
            }
    }
}

struct Extent {
    uint64_t offset;
    uint32_t length;
};

}  // namespace

int main(int argc, char** argv) {
    std::string hostile;
    if (argc == 5) {
        hostile = argv[1];
        argv++;
        argc--;
    }
    if (argc != 4 || (hostile != "" && hostile != "--oversize" && hostile != "--short" &&
                      hostile != "--trailing")) {
        fprintf(stderr,
                "usage: qbd-rdma-probe [--oversize|--short|--trailing] HOST:PORT VOLUME_ID "
                "EPOCH\n");
        return 2;
    }
    Probe p;
    p.volume_id = strtoull(argv[2], nullptr, 10);
    p.epoch = strtoull(argv[3], nullptr, 10);
    if (p.connect(argv[1]) || setup(p)) return 1;
    if (!hostile.empty()) {
        const uint32_t len = hostile == "--oversize" ? QBD_MAX_IO_BYTES + 4096 : 4096;
        qbd_rdma_req req = p.io_request(QBD_OP_READ, 0, len);
        const uint32_t trailing = hostile == "--trailing" ? 512 : 0;
        if (!p.submit(req, 0, hostile == "--short" ? sizeof(qbd_req_hdr) : sizeof(req), trailing))
            return 1;
        if (!p.disconnected_within(kTimeoutMs)) {
            failed(hostile + ": the server did not drop the connection");
            return 1;
        }
        printf("rdma-probe: %s: the server dropped the connection\n", hostile.c_str());
        return 0;
    }

    // Sizes from 4 KiB to 1 MiB at offsets that do not overlap, some not
    // aligned to the size.
    const Extent extents[] = {{0, 4096},
                              {12288, 8192},
                              {1 << 20, 65536},
                              {(3 << 20) + 512, 131072},
                              {(5 << 20) + 4096, 524288},
                              {9 << 20, 1 << 20},
                              {(12 << 20) + 1536, 1 << 20}};
    for (const Extent& e : extents) {
        for (uint32_t i = 0; i < e.length; i++)
            p.data()[i] = static_cast<char>(pattern(e.offset + i));
        const bool fua = e.length == 8192;
        if (int st = p.io(QBD_OP_WRITE, e.offset, e.length, fua ? QBD_REQ_FUA : 0))
            failed("WRITE of " + std::to_string(e.length) + " at " + std::to_string(e.offset) +
                   ": status " + std::to_string(st));
    }
    if (int st = p.io(QBD_OP_FLUSH, 0, 0)) failed("FLUSH: status " + std::to_string(st));
    for (const Extent& e : extents) {
        memset(p.data(), 0xa5, e.length);
        if (int st = p.io(QBD_OP_READ, e.offset, e.length)) {
            failed("READ of " + std::to_string(e.length) + " at " + std::to_string(e.offset) +
                   ": status " + std::to_string(st));
            continue;
        }
        for (uint32_t i = 0; i < e.length; i++)
            if (static_cast<uint8_t>(p.data()[i]) != pattern(e.offset + i)) {
                failed("READ of " + std::to_string(e.length) + " at " + std::to_string(e.offset) +
                       ": byte " + std::to_string(i) + " differs from what was written");
                break;
            }
    }
    // Never written: zeros, from past the end of the sparse file.
    memset(p.data(), 0xa5, 65536);
    if (int st = p.io(QBD_OP_READ, 60 << 20, 65536)) {
        failed("READ of unwritten space: status " + std::to_string(st));
    } else {
        for (uint32_t i = 0; i < 65536; i++)
            if (p.data()[i]) {
                failed("READ of unwritten space is not zeros");
                break;
            }
    }
    // What the server must refuse, with the connection still serving.
    if (int st = p.io(QBD_OP_READ, 0, 4096, 0, 8192); st != -EINVAL)
        failed("READ whose span differs from its length: status " + std::to_string(st) +
               ", want -EINVAL");
    if (int st = p.io(QBD_OP_WRITE, 100, 4096); st != -EINVAL)
        failed("unaligned WRITE: status " + std::to_string(st) + ", want -EINVAL");
    if (int st = p.io(QBD_OP_READ, ~0ULL << 20, 4096); st != -ERANGE)
        failed("READ past the end: status " + std::to_string(st) + ", want -ERANGE");
    qbd_rdma_req bad = p.inline_write(0, 4096);
    if (int st = p.call_inline(bad, 2048); st != -EINVAL)
        failed("inline WRITE with less data than its length: status " + std::to_string(st) +
               ", want -EINVAL");
    bad = p.inline_write(0, 4096);
    bad.hdr.opcode = htole16(QBD_OP_READ);
    if (int st = p.call_inline(bad, 4096); st != -EINVAL)
        failed("READ flagged inline: status " + std::to_string(st) + ", want -EINVAL");
    if (int st = p.io(QBD_OP_READ, 0, 4096))
        failed("READ after refusals: status " + std::to_string(st));
    burst(p);
    inline_burst(p);
    // Requests left in flight when the client goes away: the server must
    // flush and free the connection, and keep serving others.
    for (unsigned i = 0; i < kBurst; i++) {
        qbd_rdma_req req = p.io_request(QBD_OP_READ, kBurstOffset + uint64_t{i} * kDataBytes,
                                        kDataBytes, 0, 0, size_t{i} * kDataBytes);
        if (!p.submit(req, i)) break;
    }
    if (failures) {
        fprintf(stderr, "rdma-probe: %d checks failed\n", failures);
        return 1;
    }
    printf(
        "rdma-probe: %zu extents of 4 KiB to 1 MiB, a burst of %u MiB and %u inline writes in "
        "flight written and read back, refusals right\n",
        sizeof(extents) / sizeof(extents[0]), kBurst, kBurst);
    return 0;
}
