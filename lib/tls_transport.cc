// The TLS transport: OpenSSL on the socket for reading, records sealed by us
// into a socket bufferevent for writing.
//
// Why not libevent's bufferevent_openssl: it reads one 16 KiB record per
// readable event (two read() calls each: header, then body), puts it in an
// evbuffer that we then copy out of, and writes one record per write(). On
// this 2-core VM, where a system call is dear, that made TLS links carry
// about a fifth of what plain ones did (bench/link_speed.cc, one link) and the
// bench/run transfer 0.79 of its plaintext rate.
//
// Here, reads: OpenSSL reads ahead from the socket (kReadBuffer at a time,
// many records per read()), and read() decrypts record after record straight
// into the caller's buffer (a piece's landing buffer) until it is full or the
// socket is drained. Writes: queued plaintext (frames, file ranges mapped by
// libevent) is sealed into records up to kCipherHigh ahead of the socket,
// through a BIO that appends them to the bufferevent's output, which writes
// them in large writes and still gives us the upload rate limit group, the
// write timeout and connect(). The BIO never refuses, so SSL_write never
// wants to write again later, and TLS 1.3 never makes a write wait for a
// read (post-handshake messages are handled inside SSL_read).
//
// The cost: one copy of each record into the bufferevent (OpenSSL seals into
// its own buffer first). kTLS send offload cannot engage with a BIO of ours;
// receive offload can, where OpenSSL and the kernel offer it (not here: this
// kernel has no tls ULP).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>

#include <event2/buffer.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "file_source.h"
#include "tls.h"

namespace gs {
namespace {

// TLS's largest record payload: what one record carries.
constexpr size_t kRecord = 16384;
// Ciphertext sealed ahead of the socket: sealing stops once this much waits
// in the bufferevent and starts again when it has written down to kCipherLow.
// Large enough for few, large writes; small enough that a rate-limited link
// holds little (the rest waits as plaintext, which the owner sees).
constexpr size_t kCipherHigh = 256 * 1024;
constexpr size_t kCipherLow = 64 * 1024;
// Plaintext sealed per SSL_write: a few records, read (from a file) and
// sealed while they are still in the cache.
constexpr size_t kChunk = 16 * kRecord;

// Where plaintext is gathered to be sealed, one per thread (sealing is
// synchronous), so a link holds no such buffer of its own.
char* bounce() {
  thread_local std::unique_ptr<char[]> buffer;
  if (!buffer) buffer.reset(new char[kChunk]);
  return buffer.get();
}

int bio_write(BIO* bio, const char* data, size_t size, size_t* written);
long bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }
int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// The records OpenSSL writes go to TlsTransport::take_cipher.
BIO_METHOD* output_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "gs bufferevent output");
    if (m && (BIO_meth_set_write_ex(m, &bio_write) != 1 || BIO_meth_set_ctrl(m, &bio_ctrl) != 1 ||
              BIO_meth_set_create(m, &bio_create) != 1)) {
      BIO_meth_free(m);
      m = nullptr;
    }
    return m;
  }();
  return method;
}

class TlsTransport final : public Transport {
 public:
  TlsTransport(bufferevent* bev, SSL* ssl, std::string expect_key)
      : Transport(bev), ssl_(ssl), expect_key_(std::move(expect_key)) {}

  ~TlsTransport() override {
    // Tells the far end this is the end of the stream (close_notify), best
    // effort: the socket is non-blocking and closes right after.
    if (!peer_key_.empty() && fd() >= 0) {
      ERR_clear_error();
      SSL_shutdown(ssl_);
      evbuffer_write(bufferevent_get_output(bev_), fd());
    }
    ERR_clear_error();
    if (seal_ev_) event_free(seal_ev_);
    if (kick_) event_free(kick_);
    SSL_free(ssl_);  // and its BIOs
    if (plain_) evbuffer_free(plain_);
  }

  bool init() {
    event_base* base = bufferevent_get_base(bev_);
    plain_ = evbuffer_new();
    seal_ev_ = event_new(base, -1, 0, &TlsTransport::seal_cb, this);
    kick_ = event_new(base, -1, 0, &TlsTransport::kick_cb, this);
    BIO* out = output_method() ? BIO_new(output_method()) : nullptr;
    if (!plain_ || !seal_ev_ || !kick_ || !out) {
      BIO_free(out);
      return false;
    }
    BIO_set_data(out, this);
    SSL_set0_wbio(ssl_, out);
    // File ranges stay unread (and unmapped) until sealed: see gather().
    evbuffer_set_flags(plain_, EVBUFFER_FLAG_DRAINS_TO_FD);
    evbuffer_add_cb(plain_, &TlsTransport::queued_cb, this);
    bufferevent_setwatermark(bev_, EV_WRITE, kCipherLow, 0);
    bufferevent_set_max_single_write(bev_, kCipherHigh);
    return true;
  }

  void start_handshake() { event_active(seal_ev_, EV_WRITE, 0); }

  bool take_cipher(const char* data, size_t size) {
    if (evbuffer_add(bufferevent_get_output(bev_), data, size) != 0) return false;
    cipher_added_ += size;
    return true;
  }

  evbuffer* output() const override { return plain_; }

  bool add_file(const FileSource& file, uint64_t offset, uint64_t length) override {
    const uint64_t at = taken_ + evbuffer_get_length(plain_);
    if (!Transport::add_file(file, offset, length)) return false;
    files_.push_back({at, file.fd(), offset, length});
    return true;
  }

  // Plaintext not sealed yet, and that of records the socket has not taken
  // whole (so 0 exactly when the far end has been handed everything).
  size_t pending_output() const override {
    const uint64_t written = cipher_added_ - evbuffer_get_length(bufferevent_get_output(bev_));
    while (!sealed_.empty() && sealed_.front().cipher_end <= written) {
      in_flight_ -= sealed_.front().plain;
      sealed_.pop_front();
    }
    return evbuffer_get_length(plain_) + in_flight_;
  }

  void set_drain_threshold(size_t bytes) override { drain_at_ = bytes; }

  bool secure() const override { return true; }
  std::string_view peer_key() const override { return peer_key_; }

  // Decrypts record after record into `into` until it is full or the socket
  // has nothing more for now; OpenSSL's own reads are large (read-ahead).
  ssize_t read(char* into, size_t size) override {
    if (!handshaken_ || size == 0) {
      errno = EAGAIN;
      return -1;
    }
    size_t got = 0;
    while (got < size && !eof_ && !failure_) {
      size_t n = 0;
      ERR_clear_error();
      const int r = SSL_read_ex(ssl_, into + got, size - got, &n);
      if (r == 1) {
        got += n;
        continue;
      }
      const int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;  // drained for now
      if (err == SSL_ERROR_ZERO_RETURN) {
        eof_ = true;
      } else {
        failure_ = ssl_failure(err);
      }
    }
    if (got > 0) {
      // Records (or the end) already read from the socket but not given out
      // would wait for a readable event that the socket never sends again.
      if (watching_ && (eof_ || failure_ || SSL_has_pending(ssl_))) event_active(kick_, EV_READ, 0);
      return static_cast<ssize_t>(got);
    }
    if (eof_ || failure_) {
      // The end is told once per watch_reads(true): the socket may stay
      // readable (the far end's FIN, bytes after its close_notify), and an
      // owner that does not close at once must not be woken on every turn.
      arm_read_event(false, 0);
    }
    if (eof_) return 0;
    errno = failure_ ? EPROTO : EAGAIN;
    return -1;
  }

  CloseReason read_failure(int err) const override {
    if (failure_) return *failure_;
    return Transport::read_failure(err);
  }

  bool watch_reads(bool on, int timeout_seconds) override {
    watching_ = on;
    // The handshake reads whether or not the owner does.
    if (!arm_read_event(on || !handshaken_, timeout_seconds)) return false;
    if (on && handshaken_ && (eof_ || failure_ || SSL_has_pending(ssl_))) event_active(kick_, EV_READ, 0);
    return true;
  }

 protected:
  void on_event(short what) override {
    if (what & BEV_EVENT_CONNECTED) {
      // TCP is up; the owner hears of it once the handshake is done.
      int one = 1;
      setsockopt(fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      handshake();
      return;
    }
    Transport::on_event(what);
  }

  void on_socket(short what) override {
    if (what & EV_TIMEOUT) {
      events().on_failed({CloseKind::read_timeout,
                          handshaken_ ? "read timeout" : "no TLS handshake within the timeout"});
    } else if (!handshaken_) {
      handshake();
    } else if (watching_) {
      events().on_readable();
    }
  }

  // The bufferevent wrote down to kCipherLow: seal more, and tell the owner
  // once what is left is at its threshold (not for handshake records: the
  // owner has not heard of the link yet).
  void on_written() override {
    if (!handshaken_) return;
    seal();
    if (pending_output() <= drain_at_) events().on_drained();
  }

 private:
  struct QueuedFile {
    uint64_t at;  // its place in the stream of queued bytes (taken_ counts from 0)
    int fd;
    uint64_t offset;
    uint64_t length;
  };
  struct Sealed {
    uint64_t cipher_end;  // cipher_added_ once its records were written
    size_t plain;
  };

  // Also starts the handshake of a client made on a socket that is already
  // connected (no BEV_EVENT_CONNECTED will come): see tls_transport().
  static void seal_cb(evutil_socket_t, short, void* self) {
    auto* t = static_cast<TlsTransport*>(self);
    if (t->handshaken_) {
      t->seal();
    } else {
      t->handshake();
    }
  }
  // Input waiting inside OpenSSL, or a failure found while not reading.
  static void kick_cb(evutil_socket_t, short, void* self) {
    auto* t = static_cast<TlsTransport*>(self);
    if (t->watching_) {
      t->events().on_readable();  // read() reports a failure
    } else if (t->failure_) {
      t->events().on_failed(*t->failure_);
    }
  }
  // Frames queued: sealed on the next loop turn, so that the parts of a
  // frame (and frames queued together) share records.
  static void queued_cb(evbuffer*, const evbuffer_cb_info* info, void* self) {
    auto* t = static_cast<TlsTransport*>(self);
    if (info->n_added > 0 && t->handshaken_) event_active(t->seal_ev_, EV_WRITE, 0);
  }

  // Moves the handshake on; once done, checks the far end's key and tells
  // the owner.
  void handshake() {
    if (!SSL_get_rbio(ssl_)) {
      BIO* in = BIO_new_socket(fd(), BIO_NOCLOSE);
      if (!in) {
        events().on_failed({CloseKind::tls_failed, "TLS: out of memory"});
        return;
      }
      SSL_set0_rbio(ssl_, in);
    }
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r != 1) {
      const int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
      events().on_failed(ssl_failure(err));
      return;
    }
    X509* cert = SSL_get0_peer_certificate(ssl_);
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
    handshaken_ = true;
    if (!watching_) arm_read_event(false, 0);
    seal();  // frames queued during the handshake
    if (watching_ && SSL_has_pending(ssl_)) event_active(kick_, EV_READ, 0);
    events().on_connected();
  }

  // Seals queued plaintext into records until kCipherHigh waits for the
  // socket, kChunk at a time through this thread's bounce buffer. Only whole
  // records are sealed while more is queued, so small frames share records
  // and a piece's tail shares one with what follows it.
  void seal() {
    if (!handshaken_ || failure_) return;
    evbuffer* cipher = bufferevent_get_output(bev_);
    char* const chunk = bounce();
    while (evbuffer_get_length(plain_) > 0 && evbuffer_get_length(cipher) < kCipherHigh) {
      const size_t queued = evbuffer_get_length(plain_);
      const size_t room = (kCipherHigh - evbuffer_get_length(cipher) + kRecord - 1) / kRecord * kRecord;
      size_t n = std::min({queued, kChunk, room});
      if (n < queued && n > kRecord) n = n / kRecord * kRecord;
      if (!gather(chunk, n) || !write_record(chunk, n)) {
        event_active(kick_, EV_READ, 0);  // reports failure_
        return;
      }
      evbuffer_drain(plain_, n);
      taken_ += n;
      while (!files_.empty() && files_.front().at + files_.front().length <= taken_) files_.pop_front();
    }
  }

  // Copies the first `size` queued bytes to `into`: bytes from the queue,
  // file ranges with pread (a mapping would cost a page fault per 64 KiB,
  // which on this VM made the copy three times as slow as pread's).
  bool gather(char* into, size_t size) {
    uint64_t at = taken_;
    size_t got = 0;
    for (const QueuedFile& f : files_) {
      if (got == size) break;
      if (f.at > at) {  // bytes before this file range
        const size_t n = static_cast<size_t>(std::min<uint64_t>(f.at - at, size - got));
        if (!copy_bytes(at, into + got, n)) return false;
        got += n;
        at += n;
      }
      while (got < size && at < f.at + f.length) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(f.at + f.length - at, size - got));
        const ssize_t r = pread(f.fd, into + got, n, static_cast<off_t>(f.offset + (at - f.at)));
        if (r <= 0) {
          const std::string why = r == 0 ? "it is shorter than when it was queued" : std::strerror(errno);
          failure_ = CloseReason{CloseKind::io_error, "cannot read the file being sent: " + why};
          return false;
        }
        got += static_cast<size_t>(r);
        at += static_cast<uint64_t>(r);
      }
    }
    return got == size || copy_bytes(at, into + got, size - got);
  }

  // Queued bytes (not a file range) at stream position `at`.
  bool copy_bytes(uint64_t at, char* into, size_t size) {
    evbuffer_ptr pos;
    if (evbuffer_ptr_set(plain_, &pos, static_cast<size_t>(at - taken_), EVBUFFER_PTR_SET) != 0 ||
        evbuffer_copyout_from(plain_, &pos, into, size) != static_cast<ev_ssize_t>(size)) {
      failure_ = CloseReason{CloseKind::local, "cannot read our own output queue"};
      return false;
    }
    return true;
  }

  bool write_record(const void* data, size_t size) {
    size_t written = 0;
    ERR_clear_error();
    if (SSL_write_ex(ssl_, data, size, &written) != 1 || written != size) {
      // Only a failure of ours (out of memory) or a broken session gets here.
      failure_ = ssl_failure(SSL_get_error(ssl_, 0));
      return false;
    }
    sealed_.push_back({cipher_added_, size});
    in_flight_ += size;
    return true;
  }

  CloseReason ssl_failure(int err) const {
    if (err == SSL_ERROR_ZERO_RETURN) return {CloseKind::peer_closed, "connection closed by peer"};
    if (err == SSL_ERROR_SYSCALL && errno != 0) {
      return {CloseKind::io_error, std::string("connection error: ") + evutil_socket_error_to_string(errno)};
    }
    if (err == SSL_ERROR_SYSCALL) return {CloseKind::peer_closed, "connection closed by peer"};
    return {CloseKind::tls_failed, "TLS: " + openssl_error_text()};
  }

  SSL* ssl_;
  std::string expect_key_;
  std::string peer_key_;
  // Frames queued, not sealed yet. File ranges are in it as libevent's
  // sendfile chains, which keep their file open but cannot be read through
  // the evbuffer: files_ says where they are.
  evbuffer* plain_ = nullptr;
  std::deque<QueuedFile> files_;
  uint64_t taken_ = 0;  // bytes sealed (and drained from plain_), ever
  event* seal_ev_ = nullptr;
  event* kick_ = nullptr;  // input inside OpenSSL that no socket event will announce
  bool handshaken_ = false;
  bool watching_ = false;
  bool eof_ = false;
  std::optional<CloseReason> failure_;
  size_t drain_at_ = 0;
  uint64_t cipher_added_ = 0;  // bytes of records handed to the bufferevent, ever
  mutable std::deque<Sealed> sealed_;
  mutable size_t in_flight_ = 0;  // plaintext of sealed_
};

int bio_write(BIO* bio, const char* data, size_t size, size_t* written) {
  auto* t = static_cast<TlsTransport*>(BIO_get_data(bio));
  if (!t || !t->take_cipher(data, size)) return 0;
  *written = size;
  return 1;
}

}  // namespace

std::unique_ptr<Transport> tls_transport(event_base* base, evutil_socket_t fd, const TlsContext& tls,
                                         bool connecting, std::string expect_key) {
  SSL* ssl = SSL_new(tls.get());
  if (!ssl) {
    if (fd >= 0) evutil_closesocket(fd);
    return nullptr;
  }
  if (connecting) {
    SSL_set_connect_state(ssl);
  } else {
    SSL_set_accept_state(ssl);
  }
  bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    SSL_free(ssl);
    if (fd >= 0) evutil_closesocket(fd);
    return nullptr;
  }
  auto t = std::make_unique<TlsTransport>(bev, ssl, std::move(expect_key));
  if (!t->init()) return nullptr;
  // A client on a socket connected already (a socketpair, a test) sends its
  // ClientHello on the first loop turn; one that connects later sends it on
  // BEV_EVENT_CONNECTED.
  if (connecting && fd >= 0) t->start_handshake();
  return t;
}

}  // namespace gs
