#include "request.h"

#include <endian.h>

#include <cerrno>
#include <cstring>

namespace qbd {

Request decode(const qbd_req_hdr& h) {
    return Request{le16toh(h.opcode),    le32toh(h.flags), le32toh(h.length), le64toh(h.tag),
                   le64toh(h.volume_id), le64toh(h.epoch), le64toh(h.offset), le32toh(h.crc32c)};
}

bool is_io(uint16_t op) { return op >= QBD_OP_READ && op <= QBD_OP_HEARTBEAT; }

// 37 and 38, the retired CTL_ADOPT and CTL_MOVE, still count: an old
// tool's payload is read and answered -EOPNOTSUPP instead of being taken
// for the next header.
bool is_ctl(uint16_t op) { return op >= QBD_OP_CTL_CREATE && op <= QBD_OP_CTL_RELEASE; }

bool valid_name(const char* s, size_t max) {
    size_t n = strnlen(s, max);
    if (n == 0 || n == max) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/' || s[i] <= ' ' || s[i] > '~') return false;
    return true;
}

static Verdict close_because(const char* why) { return Verdict{Action::close, 0, 0, why}; }

static Verdict answer(int status, uint32_t payload_in, const char* why) {
    return Verdict{Action::reply, status, payload_in, why};
}

Verdict check_request(const qbd_req_hdr& h, const ConnState& c) {
    if (le32toh(h.magic) != QBD_PROTO_MAGIC) return close_because("bad magic");
    if (le16toh(h.version) != QBD_PROTO_VERSION) return close_because("unsupported version");
    const Request r = decode(h);
    const bool carries = r.opcode == QBD_OP_WRITE || r.opcode == QBD_OP_HELLO ||
                         r.opcode == QBD_OP_AUTH || r.opcode == QBD_OP_OPEN || is_ctl(r.opcode);
    // DISCARD and WRITE_ZEROES carry a range, not bytes: only data and
    // control payloads are bounded here.
    const bool data = r.opcode == QBD_OP_READ || r.opcode == QBD_OP_WRITE;
    if (data && r.length > QBD_MAX_IO_BYTES) return close_because("IO length over the limit");
    if (carries && !data && r.length > QBD_MAX_CTL_BYTES)
        return close_because("payload over the limit");
    const uint32_t in = carries ? r.length : 0;
    if (r.flags & ~QBD_REQ_FLAGS_KNOWN) return answer(-EINVAL, in, "unknown flags");

    if (!c.hello_done) {
        if (r.opcode != QBD_OP_HELLO) return close_because("request before HELLO");
        if (r.length != sizeof(qbd_hello)) return close_because("short HELLO");
        return Verdict{Action::serve, 0, in, ""};
    }
    if (r.opcode == QBD_OP_HELLO) return close_because("second HELLO");
    if (c.auth_required && !c.authenticated) {
        if (r.opcode != QBD_OP_AUTH) return close_because("request before authentication");
        if (r.length != sizeof(qbd_auth)) return close_because("short AUTH");
        return Verdict{Action::serve, 0, in, ""};
    }
    if (r.opcode == QBD_OP_AUTH) return answer(-EINVAL, in, "AUTH not asked for");
    if (r.opcode == QBD_OP_OPEN) {
        if (r.length != sizeof(qbd_open)) return answer(-EINVAL, in, "OPEN of wrong size");
        if (c.opened) return answer(-EALREADY, in, "second OPEN");
        return Verdict{Action::serve, 0, in, ""};
    }
    if (is_ctl(r.opcode)) return Verdict{Action::serve, 0, in, ""};
    if (!is_io(r.opcode)) return answer(-EOPNOTSUPP, 0, "unknown opcode");
    if (r.opcode == QBD_OP_HEARTBEAT) return Verdict{Action::serve, 0, 0, ""};
    if (!c.opened) return answer(-ENOTCONN, in, "IO before OPEN");
    if (r.volume_id != c.volume_id) return answer(-EINVAL, in, "IO for another volume");
    if (!epoch_current(r.epoch, c)) return answer(QBD_STATUS_STALE_EPOCH, in, "stale epoch");
    if (r.opcode == QBD_OP_FLUSH) return Verdict{Action::serve, 0, 0, ""};
    if (c.read_only && r.opcode != QBD_OP_READ)
        return answer(-EROFS, in, "write on a read-only connection");
    if (r.length == 0 || r.length % QBD_SECTOR_SIZE || r.offset % QBD_SECTOR_SIZE)
        return answer(-EINVAL, in, "unaligned IO");
    if (r.offset > c.size || r.length > c.size - r.offset)
        return answer(-ERANGE, in, "IO past the end of the volume");
    return Verdict{Action::serve, 0, in, ""};
}

}  // namespace qbd
