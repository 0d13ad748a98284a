#include "session.h"

#include <endian.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "auth.h"
#include "crc32c.h"
#include "server.h"

namespace qbd {

namespace {

template <typename T>
std::vector<char> bytes_of(const T& v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    return std::vector<char>(p, p + sizeof(v));
}

std::string describe(const std::vector<WriterClaims::Holder>& holders) {
    std::string out = "held read-write by";
    for (const auto& h : holders)
        out += " host " + (h.host.empty() ? std::string("(unnamed)") : h.host) +
               (h.shared ? " (shared)" : "") +
               (h.elsewhere     ? " through " + h.server
                : h.connections ? ""
                                : " (in its grace period)");
    return out;
}

}  // namespace

Session::~Session() = default;

void Session::log(int priority, const std::string& what) const {
    srv_.log(priority, peer_ + ": " + what);
}

void Session::refresh_volume() {
    if (io_) st_.size = io_->size();
}

SetupReply Session::handle_setup(const Request& r, const char* payload) {
    SetupReply out;
    switch (r.opcode) {
        case QBD_OP_HELLO: {
            qbd_hello hello;
            memcpy(&hello, payload, sizeof(hello));
            uint64_t want = le64toh(hello.features);
            if (want & ~QBD_FEATURES_KNOWN) {
                out.status = -EPROTO;
                out.close_why = "HELLO asks for unknown features";
                return out;
            }
            memcpy(client_nonce_, hello.nonce, sizeof(client_nonce_));
            host_id_.assign(hello.host_id, strnlen(hello.host_id, sizeof(hello.host_id)));
            if (!srv_.config().keys_file.empty()) {
                std::string why;
                if (srv_.host_key(host_id_, &key_, &why)) {
                    log(LOG_WARNING, "refused HELLO: " + why);
                    out.status = -EACCES;
                    out.close_why = "unknown host";
                    return out;
                }
            }
            qbd_hello_reply hr{};
            features_ = want & (QBD_FEAT_FUA | QBD_FEAT_DISCARD | QBD_FEAT_WRITE_ZEROES |
                                transport_features_);
            hr.features = htole64(features_);
            hr.max_io_bytes = htole32(QBD_MAX_IO_BYTES);
            random_bytes(nonce_, sizeof(nonce_));
            memcpy(hr.nonce, nonce_, sizeof(nonce_));
            if (!key_.empty()) {
                hr.auth = htole32(QBD_AUTH_HMAC_SHA256);
                auth_mac(key_, QBD_AUTH_SERVER_LABEL, client_nonce_, nonce_, hr.server_mac);
                st_.auth_required = true;
            }
            st_.hello_done = true;
            out.payload = bytes_of(hr);
            return out;
        }
        case QBD_OP_AUTH: {
            qbd_auth a;
            memcpy(&a, payload, sizeof(a));
            uint8_t expect[QBD_MAC_BYTES];
            auth_mac(key_, QBD_AUTH_CLIENT_LABEL, nonce_, client_nonce_, expect);
            if (!equal_macs(expect, a.client_mac)) {
                log(LOG_WARNING, "refused AUTH: host " + host_id_ + " did not prove its key");
                out.status = -EACCES;
                out.close_why = "authentication failed";
                return out;
            }
            st_.authenticated = true;
            return out;
        }
        case QBD_OP_OPEN: {
            qbd_open o;
            memcpy(&o, payload, sizeof(o));
            const bool read_only = r.flags & QBD_REQ_READ_ONLY;
            std::unique_ptr<VolumeIo> io;
            VolumeInfo v;
            std::string why;
            if (int err = srv_.backend().open(le64toh(o.volume_id), read_only, &io, &v, &why)) {
                log(LOG_NOTICE, "refused OPEN: " + why);
                out.status = err;
                return out;
            }
            if (le64toh(o.epoch) != v.epoch) {
                out.status = QBD_STATUS_STALE_EPOCH;
                return out;
            }
            // Fenced before the volume is opened: an OPEN refused here
            // leaves nothing behind.
            if (int err = srv_.fences().open(le64toh(o.client_id), le64toh(o.incarnation),
                                             &incarnation_)) {
                log(LOG_NOTICE, err == -ESTALE
                                    ? "refused OPEN: a newer incarnation is open"
                                    : "refused OPEN: the older incarnation's IO has not drained");
                out.status = err;
                return out;
            }
            if (!read_only) {
                std::vector<WriterClaims::Holder> holders;
                int err = srv_.claims().claim(v.id, host_id_, r.flags & QBD_REQ_SHARED,
                                              r.flags & QBD_REQ_TAKE_OVER, incarnation_, &claim_,
                                              &holders);
                if (err == -EBUSY)
                    log(LOG_NOTICE, "refused OPEN of " + v.pool + "/" + v.name + " for host " +
                                        host_id_ + ": " + describe(holders));
                else if (err)
                    log(LOG_WARNING, "refused OPEN of " + v.pool + "/" + v.name +
                                         ": the IO of the hosts taken over has not drained");
                else if (r.flags & QBD_REQ_TAKE_OVER)
                    log(LOG_NOTICE,
                        "host " + host_id_ + " took " + v.pool + "/" + v.name + " over");
                if (err) {
                    incarnation_.reset();
                    out.status = err;
                    return out;
                }
            }
            io_ = std::move(io);
            st_.opened = true;
            st_.volume_id = v.id;
            st_.epoch = v.epoch;
            st_.size = v.size;
            st_.read_only = read_only;
            qbd_open_reply orep{};
            orep.size = htole64(v.size);
            orep.shard_size = htole64(v.shard_size);
            orep.epoch = htole64(v.epoch);
            log("opened " + v.pool + "/" + v.name +
                (read_only                  ? " read-only"
                 : r.flags & QBD_REQ_SHARED ? " shared"
                                            : "") +
                (host_id_.empty() ? "" : " for host " + host_id_));
            out.payload = bytes_of(orep);
            return out;
        }
        default: {
            CtlResult res = srv_.control(r.opcode, payload, r.length, host_id_);
            if (res.status)
                log(LOG_NOTICE, "control " + std::to_string(r.opcode) + " failed: " +
                                    std::string(res.payload.begin(), res.payload.end()));
            out.status = res.status;
            out.payload = std::move(res.payload);
            return out;
        }
    }
}

Verdict Session::check(const qbd_req_hdr& h) {
    refresh_volume();
    return check_request(h, st_);
}

int Session::admit_io(const Request& r) {
    if (r.opcode == QBD_OP_HEARTBEAT) return 0;
    if (!epoch_current(r.epoch, st_)) return QBD_STATUS_STALE_EPOCH;
    if (r.opcode == QBD_OP_WRITE && srv_.take_stale_once()) {
        log(LOG_NOTICE, "answering a request stale (--fault stale-once)");
        return QBD_STATUS_STALE_EPOCH;
    }
    if (r.opcode != QBD_OP_FLUSH && (r.offset > st_.size || r.length > st_.size - r.offset))
        return -ERANGE;
    return 0;
}

IoRequest Session::io_request(const Request& r, char* buf, uint64_t cookie) {
    IoRequest q;
    switch (r.opcode) {
        case QBD_OP_READ: q.kind = IoKind::read; break;
        case QBD_OP_WRITE: q.kind = IoKind::write; break;
        case QBD_OP_FLUSH: q.kind = IoKind::flush; break;
        case QBD_OP_DISCARD: q.kind = IoKind::discard; break;
        case QBD_OP_WRITE_ZEROES: q.kind = IoKind::write_zeroes; break;
    }
    q.fua = r.opcode == QBD_OP_WRITE && (r.flags & QBD_REQ_FUA);
    q.length = r.opcode == QBD_OP_FLUSH ? 0 : r.length;
    q.offset = r.offset;
    q.buf = buf;
    q.cookie = cookie;
    return q;
}

int Session::check_write_crc(const Request& r, const char* data) {
    if (!(features_ & QBD_FEAT_CRC32C)) return 0;
    if (!(r.flags & QBD_REQ_CRC)) {
        log("refused request: WRITE without its crc32c");
        return -EINVAL;
    }
    if (crc32c(data, r.length) == r.crc32c && !crc_fault(crc_writes_++)) return 0;
    // One line for the first, then every thousandth: a peer that sends
    // nothing else must not flood the log.
    if (crc_errors_++ % 1000 == 0)
        log("refused WRITE at " + std::to_string(r.offset) +
            ": its payload does not match its crc32c (" + std::to_string(crc_errors_) +
            " on this connection)");
    return QBD_STATUS_BAD_CRC;
}

void Session::set_read_crc(qbd_reply_hdr* h, const char* data, uint32_t len) {
    if (!(features_ & QBD_FEAT_CRC32C)) return;
    const uint32_t crc = crc32c(data, len);
    h->flags = htole32(QBD_REQ_CRC);
    h->crc32c = htole32(crc_fault(crc_reads_++) ? ~crc : crc);
}

// Whether --fault flaky-crc or bad-crc spoils the @n-th checksummed
// payload of its direction on this connection.
bool Session::crc_fault(uint64_t n) const {
    const FaultConfig& f = srv_.faults();
    return f.bad_crc || (f.flaky_crc && n % 2 == 1);
}

}  // namespace qbd
