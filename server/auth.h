// HMAC-SHA256 proofs of the shared secret, as include/qbd_proto.h defines.
#pragma once

#include <cstdint>
#include <string>

#include "qbd_proto.h"

namespace qbd {

// mac = HMAC-SHA256(secret, label | nonce_a | nonce_b)
void auth_mac(const std::string& secret, const char* label, const uint8_t* nonce_a,
              const uint8_t* nonce_b, uint8_t mac[QBD_MAC_BYTES]);
void random_bytes(void* buf, size_t len);
bool equal_macs(const uint8_t* a, const uint8_t* b);

}  // namespace qbd
