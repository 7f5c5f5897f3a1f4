#include "tls.h"

#include <ctime>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "crypto.h"

namespace gs {
namespace {

// Input waiting in the bufferevent: at most this much is read ahead of the
// frames being taken, so a peer cannot make us buffer more.
constexpr size_t kReadAhead = 256 * 1024;

// Any certificate is accepted here: what matters is the key in it, which
// the handshake proves the far end holds and the owner of the link pins.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

X509* self_signed(EVP_PKEY* key) {
  X509* cert = X509_new();
  if (!cert) return nullptr;
  X509_NAME* name = X509_get_subject_name(cert);
  const bool ok =
      X509_set_version(cert, 2) == 1 &&
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), random_u64() >> 1) == 1 &&
      X509_gmtime_adj(X509_getm_notBefore(cert), -24 * 3600) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert), 100L * 365 * 24 * 3600) != nullptr &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("gs"), -1, -1,
                                 0) == 1 &&
      X509_set_issuer_name(cert, name) == 1 && X509_set_pubkey(cert, key) == 1 &&
      X509_sign(cert, key, nullptr) > 0;  // Ed25519 hashes by itself: no digest
  if (!ok) {
    X509_free(cert);
    return nullptr;
  }
  return cert;
}

class TlsTransport final : public Transport {
 public:
  TlsTransport(bufferevent* bev, std::string expect_key) : Transport(bev), expect_key_(std::move(expect_key)) {
    // A far end that closes the TCP connection without TLS's close_notify
    // has still closed it: that is the end of the stream, not an error.
    bufferevent_openssl_set_allow_dirty_shutdown(bev_, 1);
    bufferevent_setwatermark(bev_, EV_READ, 0, kReadAhead);
  }
  ~TlsTransport() override {
    if (kick_) event_free(kick_);
    // Tells the far end this is the end of the stream (close_notify), best
    // effort: the socket is non-blocking and closes right after.
    if (!peer_key_.empty()) SSL_shutdown(bufferevent_openssl_get_ssl(bev_));
  }

  bool init() {
    kick_ = event_new(bufferevent_get_base(bev_), -1, 0, &TlsTransport::kicked, this);
    return kick_ != nullptr;
  }

  bool secure() const override { return true; }
  std::string_view peer_key() const override { return peer_key_; }

  ssize_t read(char* into, size_t size) override {
    evbuffer* in = bufferevent_get_input(bev_);
    const int n = evbuffer_remove(in, into, size);
    if (n <= 0) {
      if (eof_) return 0;
      errno = EAGAIN;
      return -1;
    }
    // The owner may stop before taking everything (it reads a bounded amount
    // per wake-up); the bufferevent will not say again for bytes it already
    // has, so we do.
    if (watching_ && evbuffer_get_length(in) > 0) event_active(kick_, EV_READ, 0);
    return n;
  }

  bool watch_reads(bool on, int timeout_seconds) override {
    watching_ = on;
    if (!on) {
      read_timeout_ = 0;
      apply_timeouts();
      return bufferevent_disable(bev_, EV_READ) == 0;
    }
    if (read_timeout_ != timeout_seconds) {
      read_timeout_ = timeout_seconds;
      apply_timeouts();
    }
    if (bufferevent_enable(bev_, EV_READ) != 0) return false;
    if (evbuffer_get_length(bufferevent_get_input(bev_)) > 0) event_active(kick_, EV_READ, 0);
    return true;
  }

 protected:
  void on_event(short what) override {
    if (what & BEV_EVENT_CONNECTED) {
      SSL* ssl = bufferevent_openssl_get_ssl(bev_);
      X509* cert = SSL_get0_peer_certificate(ssl);
      peer_key_ = cert ? ed25519_public_key(X509_get0_pubkey(cert)) : std::string();
      if (peer_key_.empty()) {
        events().on_failed({CloseKind::tls_failed, "the far end presented no Ed25519 key"});
        return;
      }
      if (!expect_key_.empty() && peer_key_ != expect_key_) {
        events().on_failed({CloseKind::wrong_key, "the far end presented key " + key_text(peer_key_) +
                                                      ", not the pinned key " + key_text(expect_key_)});
        return;
      }
      Transport::on_event(what);
      return;
    }
    if ((what & BEV_EVENT_TIMEOUT) && peer_key_.empty()) {
      // libevent reports a handshake that stalls as whichever side it waited on.
      events().on_failed({CloseKind::read_timeout, "no TLS handshake within the timeout"});
      return;
    }
    if ((what & BEV_EVENT_ERROR) && !(what & BEV_EVENT_EOF)) {
      const unsigned long err = bufferevent_get_openssl_error(bev_);
      if (err != 0) {
        char text[256];
        ERR_error_string_n(err, text, sizeof text);
        while (bufferevent_get_openssl_error(bev_) != 0) {
        }
        events().on_failed({CloseKind::tls_failed, std::string("TLS: ") + text});
        return;
      }
    }
    if (what & BEV_EVENT_EOF) {
      // Frames may still be in the input: the owner reads them, then sees 0.
      eof_ = true;
      if (evbuffer_get_length(bufferevent_get_input(bev_)) > 0 && watching_) {
        events().on_readable();
        return;
      }
    }
    Transport::on_event(what);
  }

 private:
  void on_input() override {
    if (watching_) events().on_readable();
  }
  static void kicked(evutil_socket_t, short, void* self) { static_cast<TlsTransport*>(self)->on_input(); }

  std::string expect_key_;
  std::string peer_key_;
  event* kick_ = nullptr;
  bool watching_ = false;
  bool eof_ = false;
};

}  // namespace

std::string openssl_error_text() {
  const unsigned long err = ERR_get_error();
  ERR_clear_error();
  if (err == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(err, text, sizeof text);
  return text;
}

Result<std::unique_ptr<TlsContext>> TlsContext::create(const Identity& identity) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (!ctx) return make_error("tls", "cannot make a TLS context: " + openssl_error_text());
  std::unique_ptr<TlsContext> tls(new TlsContext(ctx, identity));
  X509* cert = self_signed(identity.key());
  const bool ok = cert && SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 &&
                  SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, identity.key()) == 1 &&
                  SSL_CTX_check_private_key(ctx) == 1;
  X509_free(cert);
  if (!ok) return make_error("tls", "cannot set up TLS with our key: " + openssl_error_text());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, &accept_any_certificate);
  // Links are long-lived and every handshake is a full one: no resumption
  // tickets to keep or to leak.
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  // A far end that closes the connection without close_notify (it crashed,
  // or was killed) has ended the stream; frames before it were whole, and
  // each is checked on its own. Not an error to report as one.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  // An idle link (most of a daemon's links, most of the time) gives its
  // record buffers back (about 34 KiB each).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
#ifdef SSL_OP_ENABLE_KTLS
  // Where the kernel offers kTLS, records are encrypted there.
  SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
#endif
  return tls;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::unique_ptr<Transport> tls_transport(event_base* base, evutil_socket_t fd, const TlsContext& tls,
                                         bool connecting, std::string expect_key) {
  SSL* ssl = SSL_new(tls.get());
  if (!ssl) {
    if (fd >= 0) evutil_closesocket(fd);
    return nullptr;
  }
  bufferevent* bev = bufferevent_openssl_socket_new(
      base, fd, ssl, connecting ? BUFFEREVENT_SSL_CONNECTING : BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    SSL_free(ssl);
    if (fd >= 0) evutil_closesocket(fd);
    return nullptr;
  }
  auto t = std::make_unique<TlsTransport>(bev, std::move(expect_key));
  if (!t->init()) return nullptr;
  return t;
}

}  // namespace gs
