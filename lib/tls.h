// TLS 1.3 for every link, with keys pinned instead of certificates checked
// against an authority: each side presents its Identity in a self-signed
// certificate, the handshake proves it holds the private key, and the owner
// of the link decides whether that key is the one it wanted (a pinned
// tracker key, the daemon named in a ticket).
#pragma once

#include <memory>
#include <string>

#include "identity.h"
#include "result.h"
#include "transport.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace gs {

class TlsContext {
 public:
  // TLS 1.3 only, our certificate made from `identity` (which must outlive
  // the context), and every peer asked for its own.
  static Result<std::unique_ptr<TlsContext>> create(const Identity& identity);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  const Identity& identity() const { return identity_; }

 private:
  TlsContext(SSL_CTX* ctx, const Identity& identity) : ctx_(ctx), identity_(identity) {}
  SSL_CTX* ctx_;
  const Identity& identity_;
};

// A TLS link over `fd` (-1: connect later through Transport::connect).
// `connecting`: we are the client. `expect_key` (raw, or empty for any): the
// key the far end must prove it holds, checked before on_connected; another
// fails the link with wrong_key and a text that names both keys.
std::unique_ptr<Transport> tls_transport(event_base* base, evutil_socket_t fd,
                                         const TlsContext& tls, bool connecting,
                                         std::string expect_key);

// OpenSSL's key log callback of every TlsContext: hands the link of `ssl`
// its application traffic secrets, with which it protects its records
// itself once the handshake is done (tls_transport.cc). Nothing is logged.
void take_traffic_secret(const SSL* ssl, const char* line);

// After how many records sealed with one key a link moves to the next
// (KeyUpdate). The default, 2^24 records (256 GiB), keeps AES-GCM well
// inside RFC 8446 5.5's limit of 2^24.5; tests set a small one.
void set_tls_key_update_records(uint64_t records);

// The first error on OpenSSL's queue for this thread as text (and clears it).
std::string openssl_error_text();

}  // namespace gs
