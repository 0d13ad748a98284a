#include "qbd_client.h"

#include <endian.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "../auth.h"
#include "../crc32c.h"

namespace qbd::client {

void put_fixed(char* dst, size_t size, const std::string& s) {
    memset(dst, 0, size);
    memcpy(dst, s.data(), std::min(s.size(), size - 1));
}

std::string get_fixed(const char* s, size_t size) { return std::string(s, strnlen(s, size)); }

namespace {

bool io_all(int fd, void* buf, size_t len, bool out) {
    auto* p = static_cast<char*>(buf);
    while (len) {
        ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = ECONNRESET;
            return false;
        }
        p += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

// A connected blocking socket whose every wait is bounded by timeout_ms.
int dial(const std::string& host, uint16_t port, int timeout_ms, int* out) {
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res)) return -EHOSTUNREACH;
    int err = -EHOSTUNREACH;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
            err = -errno;
            close(fd);
            continue;
        }
        pollfd p{fd, POLLOUT, 0};
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        int n = poll(&p, 1, timeout_ms);
        if (n <= 0)
            soerr = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl))
            soerr = errno;
        if (soerr) {
            err = -soerr;
            close(fd);
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        freeaddrinfo(res);
        *out = fd;
        return 0;
    }
    freeaddrinfo(res);
    return err;
}

}  // namespace

int split_host_port(const std::string& addr, std::string* host, uint16_t* port) {
    std::string h = addr, p;
    if (!addr.empty() && addr[0] == '[') {
        auto close = addr.find(']');
        if (close == std::string::npos) return -EINVAL;
        h = addr.substr(1, close - 1);
        if (close + 1 < addr.size()) {
            if (addr[close + 1] != ':') return -EINVAL;
            p = addr.substr(close + 2);
        }
    } else if (auto colon = addr.rfind(':');
               colon != std::string::npos && addr.find(':') == colon) {
        h = addr.substr(0, colon);
        p = addr.substr(colon + 1);
    }
    if (h.empty()) return -EINVAL;
    unsigned long v = QBD_DEFAULT_PORT;
    if (!p.empty()) {
        char* end = nullptr;
        errno = 0;
        v = strtoul(p.c_str(), &end, 10);
        if (errno || *end || v == 0 || v > 65535) return -EINVAL;
    }
    *host = h;
    *port = static_cast<uint16_t>(v);
    return 0;
}

std::vector<std::string> parse_addr_list(const std::string& list) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : list + ",") {
        if (c == ',' || c == ' ' || c == '\t') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    return out;
}

int Client::connect(const std::string& addr, const HostKey& me, int timeout_ms,
                    std::unique_ptr<Client>* out, std::string* error) {
    std::string host;
    uint16_t port;
    if (split_host_port(addr, &host, &port)) {
        *error = "bad server address '" + addr + "'";
        return -EINVAL;
    }
    int fd = -1;
    if (int err = dial(host, port, timeout_ms, &fd)) {
        *error = "cannot connect to " + addr + ": " + strerror(-err);
        return err;
    }
    std::unique_ptr<Client> c(new Client(fd));
    if (int err = c->handshake(me)) {
        *error = addr + ": " + c->error();
        return err;
    }
    *out = std::move(c);
    return 0;
}

Client::~Client() {
    if (fd_ >= 0) close(fd_);
}

int Client::fail(int err, const std::string& what) {
    error_ = what + ": " + strerror(-err);
    return err;
}

int Client::send_req(uint16_t opcode, uint32_t flags, uint32_t len, uint64_t tag, uint64_t offset,
                     const void* payload, uint32_t payload_len, uint32_t crc) {
    qbd_req_hdr h{};
    h.magic = htole32(QBD_PROTO_MAGIC);
    h.version = htole16(QBD_PROTO_VERSION);
    h.opcode = htole16(opcode);
    h.flags = htole32(flags);
    h.length = htole32(len);
    h.tag = htole64(tag);
    h.volume_id = htole64(volume_id_);
    h.epoch = htole64(epoch_);
    h.offset = htole64(offset);
    h.crc32c = htole32(crc);
    iovec iov[2] = {{&h, sizeof(h)}, {const_cast<void*>(payload), payload_len}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = payload_len ? 2 : 1;
    size_t total = sizeof(h) + payload_len;
    ssize_t n = sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) return fail(-errno, "send");
    if (static_cast<size_t>(n) < total) {
        // Finish a short send byte-wise.
        std::vector<char> rest(total);
        memcpy(rest.data(), &h, sizeof(h));
        if (payload_len) memcpy(rest.data() + sizeof(h), payload, payload_len);
        if (!io_all(fd_, rest.data() + n, total - static_cast<size_t>(n), true))
            return fail(-errno, "send");
    }
    return 0;
}

int Client::recv_reply(qbd_reply_hdr* r) {
    if (!io_all(fd_, r, sizeof(*r), false)) return fail(-errno, "receive");
    if (le32toh(r->magic) != QBD_PROTO_MAGIC || le16toh(r->version) != QBD_PROTO_VERSION)
        return fail(-EPROTO, "reply");
    if (le32toh(r->length) > QBD_MAX_IO_BYTES) return fail(-EPROTO, "reply length");
    return 0;
}

int Client::call(uint16_t opcode, uint32_t flags, const void* payload, uint32_t len,
                 std::vector<char>* reply) {
    if (int err = send_req(opcode, flags, len, 0, 0, payload, len)) return err;
    qbd_reply_hdr r;
    if (int err = recv_reply(&r)) return err;
    uint32_t rlen = le32toh(r.length);
    std::vector<char> buf(rlen);
    if (rlen && !io_all(fd_, buf.data(), rlen, false)) return fail(-errno, "receive");
    int status = static_cast<int32_t>(le32toh(r.status));
    if (status) {
        // Control errors carry the server's explanation.
        error_ = buf.empty() ? std::string("server: ") + strerror(-status)
                             : std::string(buf.begin(), buf.end());
        return status;
    }
    if (reply) *reply = std::move(buf);
    return 0;
}

int Client::handshake(const HostKey& me) {
    qbd_hello hello{};
    hello.features =
        htole64(QBD_FEAT_FUA | QBD_FEAT_DISCARD | QBD_FEAT_WRITE_ZEROES | QBD_FEAT_CRC32C);
    random_bytes(&hello.client_id, sizeof(hello.client_id));
    random_bytes(hello.nonce, sizeof(hello.nonce));
    put_fixed(hello.host_id, sizeof(hello.host_id), me.host_id);
    const std::string& key = me.key;
    std::vector<char> buf;
    if (int err = call(QBD_OP_HELLO, 0, &hello, sizeof(hello), &buf)) {
        if (err == -EACCES)
            return fail(err, me.host_id.empty()
                                 ? "server requires a host id and key (host_id, key_file)"
                                 : "server has no key for host " + me.host_id +
                                       " (qbd-server add-host " + me.host_id + ")");
        return err;
    }
    if (buf.size() != sizeof(qbd_hello_reply)) return fail(-EPROTO, "hello reply");
    qbd_hello_reply hr;
    memcpy(&hr, buf.data(), sizeof(hr));
    features_ = le64toh(hr.features);
    uint32_t auth = le32toh(hr.auth);
    if (auth == QBD_AUTH_NONE) {
        if (!key.empty()) return fail(-EACCES, "server has no keys and cannot prove it knows ours");
        return 0;
    }
    if (auth != QBD_AUTH_HMAC_SHA256) return fail(-EPROTO, "unknown authentication");
    if (key.empty()) return fail(-EACCES, "server requires a host key (key_file)");
    uint8_t expect[QBD_MAC_BYTES];
    auth_mac(key, QBD_AUTH_SERVER_LABEL, hello.nonce, hr.nonce, expect);
    if (!equal_macs(expect, hr.server_mac))
        return fail(-EACCES, "server failed to prove it knows the key of host " + me.host_id);
    qbd_auth a{};
    auth_mac(key, QBD_AUTH_CLIENT_LABEL, hr.nonce, hello.nonce, a.client_mac);
    return call(QBD_OP_AUTH, 0, &a, sizeof(a), nullptr);
}

int Client::create(const std::string& pool, const std::string& volume, uint64_t size,
                   uint64_t shard_size) {
    qbd_ctl_create c{};
    put_fixed(c.name.pool, QBD_NAME_MAX, pool);
    put_fixed(c.name.volume, QBD_NAME_MAX, volume);
    c.size = htole64(size);
    c.shard_size = htole64(shard_size);
    return call(QBD_OP_CTL_CREATE, 0, &c, sizeof(c), nullptr);
}

static qbd_ctl_name ctl_name(const std::string& pool, const std::string& volume) {
    qbd_ctl_name n{};
    put_fixed(n.pool, QBD_NAME_MAX, pool);
    put_fixed(n.volume, QBD_NAME_MAX, volume);
    return n;
}

int Client::remove(const std::string& pool, const std::string& volume) {
    const qbd_ctl_name n = ctl_name(pool, volume);
    return call(QBD_OP_CTL_DELETE, 0, &n, sizeof(n), nullptr);
}

int Client::resize(const std::string& pool, const std::string& volume, uint64_t new_size) {
    qbd_ctl_resize r{};
    r.name = ctl_name(pool, volume);
    r.new_size = htole64(new_size);
    return call(QBD_OP_CTL_RESIZE, 0, &r, sizeof(r), nullptr);
}

static Volume volume_of(const qbd_ctl_volume& v) {
    Volume out;
    out.pool = get_fixed(v.name.pool, QBD_NAME_MAX);
    out.volume = get_fixed(v.name.volume, QBD_NAME_MAX);
    out.id = le64toh(v.volume_id);
    out.size = le64toh(v.size);
    out.shard_size = le64toh(v.shard_size);
    out.epoch = le64toh(v.epoch);
    return out;
}

int decode_info(const std::vector<char>& buf, Volume* out) {
    if (buf.size() != sizeof(qbd_ctl_info_reply)) return -EPROTO;
    qbd_ctl_info_reply r;
    memcpy(&r, buf.data(), sizeof(r));
    Volume vol = volume_of(r.volume);
    std::string path = get_fixed(r.path.addr, QBD_ADDR_MAX);
    if (path.empty()) return -EPROTO;
    vol.paths.push_back(std::move(path));
    *out = std::move(vol);
    return 0;
}

// A reply of a __le32 count and that many @Wire entries, each converted by @convert.
template <class Wire, class Out, class Convert>
static int decode_array(const std::vector<char>& buf, std::vector<Out>* out, Convert convert) {
    if (buf.size() < 4) return -EPROTO;
    uint32_t count;
    memcpy(&count, buf.data(), 4);
    count = le32toh(count);
    if (buf.size() != 4 + size_t{count} * sizeof(Wire)) return -EPROTO;
    out->clear();
    for (uint32_t i = 0; i < count; i++) {
        Wire w;
        memcpy(&w, buf.data() + 4 + i * sizeof(w), sizeof(w));
        out->push_back(convert(w));
    }
    return 0;
}

int decode_list(const std::vector<char>& buf, std::vector<Volume>* out) {
    return decode_array<qbd_ctl_volume>(buf, out, volume_of);
}

int Client::info(const std::string& pool, const std::string& volume, Volume* out) {
    const qbd_ctl_name n = ctl_name(pool, volume);
    std::vector<char> buf;
    if (int err = call(QBD_OP_CTL_INFO, 0, &n, sizeof(n), &buf)) return err;
    if (int err = decode_info(buf, out)) return fail(err, "info reply");
    return 0;
}

int Client::list(const std::string& pool, std::vector<Volume>* out) {
    const qbd_ctl_name n = ctl_name(pool, "");
    std::vector<char> buf;
    if (int err = call(QBD_OP_CTL_LIST, 0, &n, sizeof(n), &buf)) return err;
    if (int err = decode_list(buf, out)) return fail(err, "list reply");
    return 0;
}

int decode_holders(const std::vector<char>& buf, std::vector<Holder>* out) {
    return decode_array<qbd_ctl_holder>(buf, out, [](const qbd_ctl_holder& h) {
        const uint32_t flags = le32toh(h.flags);
        return Holder{get_fixed(h.host_id, QBD_HOST_ID_MAX), (flags & QBD_HOLDER_SHARED) != 0,
                      le32toh(h.connections), (flags & QBD_HOLDER_ELSEWHERE) != 0};
    });
}

int Client::holders(const std::string& pool, const std::string& volume, std::vector<Holder>* out) {
    const qbd_ctl_name n = ctl_name(pool, volume);
    std::vector<char> buf;
    if (int err = call(QBD_OP_CTL_HOLDERS, 0, &n, sizeof(n), &buf)) return err;
    if (int err = decode_holders(buf, out)) return fail(err, "holders reply");
    return 0;
}

int Client::release(const std::string& pool, const std::string& volume) {
    const qbd_ctl_name n = ctl_name(pool, volume);
    return call(QBD_OP_CTL_RELEASE, 0, &n, sizeof(n), nullptr);
}

int Client::open(uint64_t volume_id, uint64_t epoch, qbd_open_reply* out, uint32_t flags,
                 SessionSlot slot) {
    qbd_open o{};
    o.volume_id = htole64(volume_id);
    o.epoch = htole64(epoch);
    o.client_id = htole64(slot.client_id);
    o.incarnation = htole64(slot.incarnation);
    std::vector<char> buf;
    if (int err = call(QBD_OP_OPEN, flags, &o, sizeof(o), &buf)) return err;
    if (buf.size() != sizeof(qbd_open_reply)) return fail(-EPROTO, "open reply");
    qbd_open_reply r;
    memcpy(&r, buf.data(), sizeof(r));
    volume_id_ = volume_id;
    epoch_ = le64toh(r.epoch);
    if (out) *out = r;
    return 0;
}

int Client::submit(uint16_t opcode, uint64_t offset, void* buf, uint32_t len, uint32_t flags,
                   uint64_t tag) {
    const bool write = opcode == QBD_OP_WRITE;
    uint32_t crc = 0;
    if (write && crc32c()) {
        flags |= QBD_REQ_CRC;
        crc = qbd::crc32c(buf, len);
    }
    if (int err =
            send_req(opcode, flags, len, tag, offset, write ? buf : nullptr, write ? len : 0, crc))
        return err;
    pending_.push_back({tag, buf, len, opcode});
    return 0;
}

int Client::write_claiming_crc(uint64_t offset, const void* buf, uint32_t len, uint32_t crc) {
    const uint64_t tag = 0xbadc;
    if (int err = send_req(QBD_OP_WRITE, QBD_REQ_CRC, len, tag, offset, buf, len, crc)) return err;
    pending_.push_back({tag, const_cast<void*>(buf), len, QBD_OP_WRITE});
    uint64_t t;
    int status;
    if (int err = reap(&t, &status)) return err;
    return status;
}

int Client::reap(uint64_t* tag, int* status) {
    qbd_reply_hdr r;
    if (int err = recv_reply(&r)) return err;
    uint64_t t = le64toh(r.tag);
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [t](const Pending& p) { return p.tag == t; });
    if (it == pending_.end()) return fail(-EPROTO, "reply for no request");
    uint32_t len = le32toh(r.length);
    if (len) {
        if (it->opcode != QBD_OP_READ || len != it->len) return fail(-EPROTO, "reply length");
        if (!io_all(fd_, it->buf, len, false)) return fail(-errno, "receive");
    }
    *tag = t;
    *status = static_cast<int32_t>(le32toh(r.status));
    // Where checksums were agreed, read data must come with its own.
    if (len && crc32c() &&
        (!(le32toh(r.flags) & QBD_REQ_CRC) || qbd::crc32c(it->buf, len) != le32toh(r.crc32c)))
        *status = -EBADMSG;
    pending_.erase(it);
    return 0;
}

namespace {
int sync_io(Client& c, uint16_t op, uint64_t off, void* buf, uint32_t len, uint32_t flags) {
    if (int err = c.submit(op, off, buf, len, flags, 0x5eed)) return err;
    uint64_t tag;
    int status;
    if (int err = c.reap(&tag, &status)) return err;
    return status;
}
}  // namespace

int Client::read(uint64_t offset, void* buf, uint32_t len) {
    return sync_io(*this, QBD_OP_READ, offset, buf, len, 0);
}
int Client::write(uint64_t offset, const void* buf, uint32_t len, bool fua) {
    return sync_io(*this, QBD_OP_WRITE, offset, const_cast<void*>(buf), len, fua ? QBD_REQ_FUA : 0);
}
int Client::flush() { return sync_io(*this, QBD_OP_FLUSH, 0, nullptr, 0, 0); }
int Client::discard(uint64_t offset, uint32_t len) {
    return sync_io(*this, QBD_OP_DISCARD, offset, nullptr, len, 0);
}
int Client::write_zeroes(uint64_t offset, uint32_t len) {
    return sync_io(*this, QBD_OP_WRITE_ZEROES, offset, nullptr, len, 0);
}
int Client::heartbeat() { return sync_io(*this, QBD_OP_HEARTBEAT, 0, nullptr, 0, 0); }

}  // namespace qbd::client
