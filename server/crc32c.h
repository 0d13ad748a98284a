// The crc32c of payloads as the wire carries it (QBD_FEAT_CRC32C in
// qbd_proto.h: CRC-32C seeded with ~0 and inverted), computed by ISA-L,
// which uses the CPU's CRC32 instruction.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qbd {

uint32_t crc32c(const void* data, size_t len);

}  // namespace qbd
