#include "session.h"

#include <endian.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "auth.h"
#include "server.h"

namespace qbd {

namespace {

// Whether reads of @fd can be tried without blocking (FMODE_NOWAIT), which
// is what lets io_uring complete them inline instead of in a worker.
bool supports_nowait(int fd) {
    char probe[QBD_SECTOR_SIZE];
    iovec iov{probe, sizeof(probe)};
    return preadv2(fd, &iov, 1, 0, RWF_NOWAIT) >= 0 || errno != EOPNOTSUPP;
}

template <typename T>
std::vector<char> bytes_of(const T& v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    return std::vector<char>(p, p + sizeof(v));
}

}  // namespace

Session::~Session() {
    if (vol_fd_ >= 0) close(vol_fd_);
}

void Session::log(const std::string& what) const { srv_.log(peer_ + ": " + what); }

void Session::refresh_volume() {
    uint64_t gen = srv_.catalog().generation();
    if (!st_.opened || gen == generation_) return;
    generation_ = gen;
    if (auto v = srv_.catalog().find(st_.volume_id)) {
        st_.epoch = v->epoch;
        st_.size = v->size;
    } else {
        st_.size = 0;  // deleted: every IO is now out of range
    }
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
            qbd_hello_reply hr{};
            features_ = want & (QBD_FEAT_FUA | QBD_FEAT_DISCARD | QBD_FEAT_WRITE_ZEROES |
                                transport_features_);
            hr.features = htole64(features_);
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
            out.payload = bytes_of(hr);
            return out;
        }
        case QBD_OP_AUTH: {
            qbd_auth a;
            memcpy(&a, payload, sizeof(a));
            uint8_t expect[QBD_MAC_BYTES];
            auth_mac(srv_.config().secret, QBD_AUTH_CLIENT_LABEL, nonce_, client_nonce_, expect);
            if (!equal_macs(expect, a.client_mac)) {
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
            generation_ = srv_.catalog().generation();
            auto v = srv_.catalog().find(le64toh(o.volume_id));
            if (!v) {
                out.status = -ENOENT;
                return out;
            }
            if (le64toh(o.epoch) != v->epoch) {
                out.status = QBD_STATUS_STALE_EPOCH;
                return out;
            }
            // Fenced before the volume is opened: an OPEN refused here
            // leaves nothing behind.
            if (int err = srv_.fences().open(le64toh(o.client_id), le64toh(o.incarnation),
                                             &incarnation_)) {
                log(err == -ESTALE ? "refused OPEN: a newer incarnation is open"
                                   : "refused OPEN: the older incarnation's IO has not drained");
                out.status = err;
                return out;
            }
            const bool read_only = r.flags & QBD_REQ_READ_ONLY;
            vol_fd_ =
                ::open(srv_.data_path(*v).c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
            if (vol_fd_ < 0) {
                incarnation_.reset();
                out.status = -EIO;
                return out;
            }
            inline_io_ = !supports_nowait(vol_fd_);
            st_.opened = true;
            st_.volume_id = v->id;
            st_.epoch = v->epoch;
            st_.size = v->size;
            st_.read_only = read_only;
            qbd_open_reply orep{};
            orep.size = htole64(v->size);
            orep.shard_size = htole64(v->shard_size);
            orep.epoch = htole64(v->epoch);
            log("opened " + v->pool + "/" + v->name + (read_only ? " read-only" : ""));
            out.payload = bytes_of(orep);
            return out;
        }
        default: {
            CtlResult res = srv_.control(r.opcode, payload, r.length);
            if (res.status)
                log("control " + std::to_string(r.opcode) +
                    " failed: " + std::string(res.payload.begin(), res.payload.end()));
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
    if (r.opcode != QBD_OP_FLUSH && (r.offset > st_.size || r.length > st_.size - r.offset))
        return -ERANGE;
    return 0;
}

int Session::disk_io(const Request& r, char* buf) const {
    auto off = static_cast<off_t>(r.offset);
    ssize_t n = 0;
    switch (r.opcode) {
        case QBD_OP_READ: n = pread(vol_fd_, buf, r.length, off); break;
        case QBD_OP_WRITE: {
            iovec iov{buf, r.length};
            const bool fua = (r.flags & QBD_REQ_FUA) && !srv_.faults().skip_fua;
            n = pwritev2(vol_fd_, &iov, 1, off, fua ? RWF_DSYNC : 0);
            break;
        }
        case QBD_OP_FLUSH: n = srv_.faults().skip_flush ? 0 : fdatasync(vol_fd_); break;
        case QBD_OP_DISCARD:
            n = fallocate(vol_fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, r.length);
            break;
        case QBD_OP_WRITE_ZEROES:
            n = fallocate(vol_fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, r.length);
            break;
    }
    return n < 0 ? -errno : static_cast<int>(n);
}

int Session::finish_io(const Request& r, int res, char* buf) const {
    if (res == -EOPNOTSUPP && r.opcode == QBD_OP_WRITE_ZEROES) {
        res = fallocate(vol_fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        static_cast<off_t>(r.offset), r.length)
                  ? -errno
                  : 0;
    }
    if (res < 0) return res;
    if (r.opcode == QBD_OP_READ && static_cast<uint32_t>(res) < r.length) {
        // Past the end of the sparse file: zeros.
        memset(buf + res, 0, r.length - res);
    } else if (r.opcode == QBD_OP_WRITE && static_cast<uint32_t>(res) != r.length) {
        return -EIO;
    }
    return 0;
}

}  // namespace qbd
