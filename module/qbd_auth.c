// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: HMAC-SHA256 proofs of the shared secret for the HELLO exchange.
 */
#include <crypto/hash.h>
#include <linux/err.h>
#include <linux/string.h>

#include "qbd.h"

/* mac = HMAC-SHA256(secret, label | nonce_a | nonce_b) */
int qbd_auth_mac(const u8 *secret, u32 secret_len, const char *label,
		 const u8 *nonce_a, const u8 *nonce_b, u8 *mac)
{
	struct crypto_shash *tfm;
	int ret;

	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);

	ret = crypto_shash_setkey(tfm, secret, secret_len);
	if (!ret) {
		SHASH_DESC_ON_STACK(desc, tfm);

		desc->tfm = tfm;
		ret = crypto_shash_init(desc) ?:
		      crypto_shash_update(desc, label, strlen(label)) ?:
		      crypto_shash_update(desc, nonce_a, QBD_NONCE_BYTES) ?:
		      crypto_shash_update(desc, nonce_b, QBD_NONCE_BYTES) ?:
		      crypto_shash_final(desc, mac);
		shash_desc_zero(desc);
	}
	crypto_free_shash(tfm);
	return ret;
}
