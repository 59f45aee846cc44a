#ifndef FERRY_COPENSSL_SHIM_H
#define FERRY_COPENSSL_SHIM_H

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/crypto.h>

/* Swift cannot call OpenSSL's function-like macros; these wrap the ones Ferry uses. */

static inline int ferry_EVP_MD_CTX_size(const EVP_MD_CTX *ctx) {
    return EVP_MD_CTX_get_size(ctx);
}

static inline int ferry_EVP_MAX_MD_SIZE(void) {
    return EVP_MAX_MD_SIZE;
}

/* OPENSSL_free is a macro over CRYPTO_free carrying file and line. */
static inline void ferry_OPENSSL_free(void *ptr) {
    OPENSSL_free(ptr);
}

#endif
