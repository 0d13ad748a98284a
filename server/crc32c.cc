#include "crc32c.h"

#include <isa-l/crc.h>

namespace qbd {

// ISA-L's crc32_iscsi takes and returns the raw register: the wire's value
// is that of a register seeded with ~0, inverted.
uint32_t crc32c(const void* data, size_t len) {
    uint32_t reg = 0xffffffffu;
    auto* p = static_cast<unsigned char*>(const_cast<void*>(data));
    // Its length is an int: payloads are at most QBD_MAX_IO_BYTES, but a
    // caller's buffer need not be.
    constexpr size_t kStep = 1u << 30;
    while (len) {
        size_t n = len < kStep ? len : kStep;
        reg = crc32_iscsi(p, static_cast<int>(n), reg);
        p += n;
        len -= n;
    }
    return ~reg;
}

}  // namespace qbd
