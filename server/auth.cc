#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace qbd {

void auth_mac(const std::string& secret, const char* label, const uint8_t* nonce_a,
              const uint8_t* nonce_b, uint8_t mac[QBD_MAC_BYTES]) {
    uint8_t msg[64 + 2 * QBD_NONCE_BYTES];
    size_t n = strlen(label);
    memcpy(msg, label, n);
    memcpy(msg + n, nonce_a, QBD_NONCE_BYTES);
    memcpy(msg + n + QBD_NONCE_BYTES, nonce_b, QBD_NONCE_BYTES);
    unsigned int len = QBD_MAC_BYTES;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), msg, n + 2 * QBD_NONCE_BYTES,
         mac, &len);
}

void random_bytes(void* buf, size_t len) {
    if (RAND_bytes(static_cast<unsigned char*>(buf), static_cast<int>(len)) != 1)
        throw std::runtime_error("no random bytes");
}

bool equal_macs(const uint8_t* a, const uint8_t* b) {
    return CRYPTO_memcmp(a, b, QBD_MAC_BYTES) == 0;
}

}  // namespace qbd
