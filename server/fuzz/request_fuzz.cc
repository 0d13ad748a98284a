// libFuzzer target: request headers in every connection state.  The
// validator must never crash, and must never let through a request the
// data path could not serve safely (asserted below).
#include <endian.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < sizeof(qbd_req_hdr) + 1) return 0;
    qbd_req_hdr h;
    memcpy(&h, data, sizeof(h));
    uint8_t bits = data[sizeof(h)];
    qbd::ConnState c;
    c.hello_done = bits & 1;
    c.auth_required = bits & 2;
    c.authenticated = bits & 4;
    c.opened = bits & 8;
    c.volume_id = le64toh(h.volume_id) ^ ((bits & 16) ? 1 : 0);
    c.epoch = le64toh(h.epoch) ^ ((bits & 32) ? 1 : 0);
    c.size = (bits & 64) ? ~0ULL : 1ULL << 30;
    qbd::Verdict v = qbd::check_request(h, c);
    qbd::Request r = qbd::decode(h);
    if (v.action == qbd::Action::serve && c.opened &&
        (r.opcode == QBD_OP_READ || r.opcode == QBD_OP_WRITE)) {
        // Served data IO is aligned, bounded and inside the volume.
        if (r.length == 0 || r.length > QBD_MAX_IO_BYTES || r.length % 512 || r.offset % 512 ||
            r.offset > c.size || r.length > c.size - r.offset)
            abort();
    }
    if (v.payload_in > QBD_MAX_IO_BYTES && v.payload_in > QBD_MAX_CTL_BYTES) abort();
    // Names in control payloads.
    if (size >= sizeof(h) + 1 + QBD_NAME_MAX) {
        char name[QBD_NAME_MAX];
        memcpy(name, data + sizeof(h) + 1, sizeof(name));
        if (qbd::valid_name(name, sizeof(name)) && strnlen(name, sizeof(name)) == sizeof(name))
            abort();
    }
    return 0;
}
