#ifndef FERRY_COPENSSL_SHIM_H
#define FERRY_COPENSSL_SHIM_H

/* MD5_CTX and its functions, deprecated in OpenSSL 3 but kept: the one MD5 whose state can be saved and
   carried on later (ResumableMD5), which EVP does not offer. Only the wrappers below use them. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/md5.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>

/* Swift cannot call OpenSSL's function-like macros or variadic functions; these wrap the ones Ferry uses. */

static inline int ferry_MD5_Init(MD5_CTX *c) { return MD5_Init(c); }
static inline int ferry_MD5_Update(MD5_CTX *c, const void *data, size_t len) { return MD5_Update(c, data, len); }
static inline int ferry_MD5_Final(unsigned char *md, MD5_CTX *c) { return MD5_Final(md, c); }

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

/* TLS 1.3 only: both bounds of the context's protocol range. */
static inline int ferry_SSL_CTX_require_tls13(SSL_CTX *ctx) {
    return SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1
        && SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1;
}

/* SSL_OP_* are built by a function-like macro: an end of stream without close_notify reads as an end
   of stream, no session tickets are sent, and the kernel's TLS (kTLS) is used where it exists. */
static inline void ferry_SSL_CTX_set_ferry_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET | SSL_OP_ENABLE_KTLS);
}

static inline long ferry_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

/* Read ahead into a large buffer: whole runs of records per read(2), not a header and a body each. */
static inline void ferry_SSL_CTX_read_ahead(SSL_CTX *ctx, size_t buffer) {
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, buffer);
}

static inline long ferry_SSL_CTX_disable_session_cache(SSL_CTX *ctx) {
    return SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

static inline int ferry_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/* 1 when the kernel does TLS encryption for this connection's writes (kTLS), so SSL_sendfile works. */
static inline int ferry_SSL_ktls_send(SSL *ssl) {
    return BIO_get_ktls_send(SSL_get_wbio(ssl));
}

/* A fresh EC key on P-256 (EVP_PKEY_Q_keygen is variadic). */
static inline EVP_PKEY *ferry_generate_p256_key(void) {
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* The bytes held by a memory BIO. */
static inline long ferry_BIO_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

#endif
