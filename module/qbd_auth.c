// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: HMAC-SHA256 proofs of the host's key for the HELLO exchange.
 *
 * The transform is allocated and keyed once, when the volume is mapped:
 * a handshake runs when a connection is re-established, possibly while
 * writeback waits on this very device, and must not allocate then.  The
 * hash state lives on the stack, so concurrent handshakes share it.
 */
#include <crypto/hash.h>
#include <linux/err.h>
#include <linux/string.h>

#include "qbd.h"

struct crypto_shash *qbd_auth_alloc(const u8 *key, u32 key_len)
{
	struct crypto_shash *tfm;
	int ret;

	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm))
		return tfm;
	ret = crypto_shash_setkey(tfm, key, key_len);
	if (ret) {
		crypto_free_shash(tfm);
		return ERR_PTR(ret);
	}
	return tfm;
}

void qbd_auth_free(struct crypto_shash *tfm)
{
	if (!IS_ERR_OR_NULL(tfm))
		crypto_free_shash(tfm);
}

/* mac = HMAC-SHA256(key, label | nonce_a | nonce_b) */
int qbd_auth_mac(struct crypto_shash *tfm, const char *label,
		 const u8 *nonce_a, const u8 *nonce_b, u8 *mac)
{
	SHASH_DESC_ON_STACK(desc, tfm);
	int ret;

	desc->tfm = tfm;
	ret = crypto_shash_init(desc) ?:
	      crypto_shash_update(desc, label, strlen(label)) ?:
	      crypto_shash_update(desc, nonce_a, QBD_NONCE_BYTES) ?:
	      crypto_shash_update(desc, nonce_b, QBD_NONCE_BYTES) ?:
	      crypto_shash_final(desc, mac);
	shash_desc_zero(desc);
	return ret;
}
