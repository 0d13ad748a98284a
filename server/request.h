// What a request header asks for, judged without touching a socket or a
// disk, so the fuzzer and the unit tests can drive it.
#pragma once

#include <cstdint>
#include <string>

#include "qbd_proto.h"

namespace qbd {

// Where a connection stands.
struct ConnState {
    bool hello_done = false;
    bool auth_required = false;
    bool authenticated = false;
    bool opened = false;
    uint64_t volume_id = 0;
    uint64_t epoch = 0;
    uint64_t size = 0;
    bool read_only = false;  // opened with QBD_REQ_READ_ONLY
};

// Whether IO carrying this epoch may touch the volume now.
inline bool epoch_current(uint64_t epoch, const ConnState& c) { return epoch == c.epoch; }

enum class Action {
    serve,  // read payload_in bytes, then carry it out
    reply,  // read payload_in bytes, then answer status
    close,  // framing cannot be trusted: log and drop the connection
};

struct Verdict {
    Action action = Action::close;
    int status = 0;           // for Action::reply
    uint32_t payload_in = 0;  // bytes following the header
    const char* why = "";     // for the log line
};

Verdict check_request(const qbd_req_hdr& h, const ConnState& c);

// Decoded header fields, host byte order.
struct Request {
    uint16_t opcode;
    uint32_t flags;
    uint32_t length;
    uint64_t tag;
    uint64_t volume_id;
    uint64_t epoch;
    uint64_t offset;
    uint32_t crc32c;
};
Request decode(const qbd_req_hdr& h);

bool is_io(uint16_t opcode);
bool is_ctl(uint16_t opcode);

// Control payloads: names must be NUL-terminated, non-empty, no '/'.
bool valid_name(const char* s, size_t max);

}  // namespace qbd
