// The TLS transport: OpenSSL for the handshake, our own record layer
// (tls_records.h) for everything after it.
//
// Why not OpenSSL's records: they pass through its own buffers. A received
// record is read into OpenSSL's read buffer, decrypted there and copied out;
// a sent one is copied into its write buffer, encrypted there, and copied
// again into the bufferevent. In the bench's transfer (bench/run, TLS
// against plaintext) the leecher's event loop spent about a third of its
// TLS time in those copies (perf: memmove 10.6 % of the gsd's samples beside
// 20.8 % decrypting), and the seeders paid two more per byte. And
// bufferevent_openssl (libevent's) reads one record per readable event in
// two read() calls and writes one record per write().
//
// Reads: the socket is read in large reads (kInput), and each whole record
// is opened straight into the caller's buffer (a piece's landing buffer)
// when its content fits, else into a record-sized spare from which it is
// handed out. Writes: queued plaintext (frames, file ranges, which are read
// with pread) is gathered kChunk at a time and sealed, record after record,
// straight into space reserved in the bufferevent's output, which writes
// them in large writes and still gives us the upload rate limit group, the
// write timeout and connect(). OpenSSL's key log callback hands a link its
// application traffic secrets (nothing is logged); OpenSSL reads no byte
// past the handshake's last record (no read-ahead, tls.cc), and sends no
// session tickets, so the link's first record is ours to read.
//
// After the handshake, what comes in: application data; alerts
// (close_notify ends the stream, user_canceled is let pass, any other fails
// the link naming it); KeyUpdate, answered as RFC 8446 4.6.3 says;
// NewSessionTicket, ignored. Anything else fails the link. Links move to a
// new key of their own after kKeyUpdateRecords records.
//
// kTLS cannot engage here (it needs OpenSSL's socket BIOs on both sides);
// this kernel has no tls ULP anyway.
#include <event2/buffer.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "crypto.h"
#include "file_source.h"
#include "tls.h"
#include "tls_records.h"

namespace gs {
namespace {

using tls_record::kHeader;
using tls_record::kTag;

// What one record carries.
constexpr size_t kRecord = tls_record::kMaxPlain;
// Ciphertext sealed ahead of the socket: sealing stops once this much waits
// in the bufferevent and starts again when it has written down to kCipherLow.
// Large enough for few, large writes; small enough that a rate-limited link
// holds little (the rest waits as plaintext, which the owner sees).
constexpr size_t kCipherHigh = 256 * 1024;
constexpr size_t kCipherLow = 64 * 1024;
// Plaintext sealed per write_record: a few records, read (from a file) and
// sealed while they are still in the cache.
constexpr size_t kChunk = 16 * kRecord;
// Input read per read() at most: many records per system call. A peer
// cannot make us buffer more than this ahead of the frames being taken.
constexpr size_t kInput = 128 * 1024;
static_assert(kInput >= 2 * tls_record::kMaxRecord, "room for a whole record after a partial one");
// Records in a row that carry no application bytes (empty ones, alerts let
// pass, KeyUpdates, ignored tickets) before the link is failed, as OpenSSL
// bounds empty records: each costs the far end a few bytes and us a record
// opened (a KeyUpdate, a key derived), and read() goes on until it has data,
// so without a bound a far end could hold our loop in one link's read. A
// real peer sends a handful at most (a ticket or two, user_canceled before
// close_notify, a KeyUpdate every 2^24 records).
constexpr unsigned kMaxRecordsWithoutData = 32;

// After how many records with one key a link moves to the next (KeyUpdate):
// set_tls_key_update_records().
uint64_t key_update_records = uint64_t{1} << 24;

// Where plaintext is gathered to be sealed, one per thread (sealing is
// synchronous), so a link holds no such buffer of its own.
char* bounce() {
  thread_local std::unique_ptr<char[]> buffer;
  if (!buffer) buffer.reset(new char[kChunk]);
  return buffer.get();
}

int bio_write(BIO* bio, const char* data, size_t size, size_t* written);

// Input buffers of links that hold no partial record go back to a few
// spares of this thread's: an idle link holds none, and a busy one does not
// allocate one per readable event.
std::vector<std::unique_ptr<char[]>>& spare_inputs() {
  thread_local std::vector<std::unique_ptr<char[]>> spares;
  return spares;
}
std::unique_ptr<char[]> take_input_buffer() {
  auto& spares = spare_inputs();
  if (spares.empty()) return std::unique_ptr<char[]>(new char[kInput]);
  std::unique_ptr<char[]> b = std::move(spares.back());
  spares.pop_back();
  return b;
}
void give_back_input_buffer(std::unique_ptr<char[]> b) {
  auto& spares = spare_inputs();
  if (spares.size() < 4) spares.push_back(std::move(b));
}

std::string alert_text(unsigned char description) {
  switch (description) {
    case 10:
      return "unexpected_message";
    case 20:
      return "bad_record_mac";
    case 22:
      return "record_overflow";
    case 40:
      return "handshake_failure";
    case 42:
      return "bad_certificate";
    case 47:
      return "illegal_parameter";
    case 50:
      return "decode_error";
    case 51:
      return "decrypt_error";
    case 80:
      return "internal_error";
    default:
      return std::to_string(description);
  }
}
long bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }
int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// The records OpenSSL writes go to TlsTransport::take_cipher.
BIO_METHOD* output_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "gs bufferevent output");
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
    if (records_ && fd() >= 0 && !failure_) {
      const char close_notify[2] = {1, 0};  // warning, close_notify
      if (seal_records(tls_record::kAlert, close_notify, sizeof close_notify)) {
        evbuffer_write(bufferevent_get_output(bev_), fd());
      }
    }
    OPENSSL_cleanse(open_secret_.data(), open_secret_.size());
    OPENSSL_cleanse(seal_secret_.data(), seal_secret_.size());
    if (in_) give_back_input_buffer(std::move(in_));
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
    SSL_set_app_data(ssl_, this);  // for take_traffic_secret
    // File ranges stay unread (and unmapped) until sealed: see gather().
    evbuffer_set_flags(plain_, EVBUFFER_FLAG_DRAINS_TO_FD);
    evbuffer_add_cb(plain_, &TlsTransport::queued_cb, this);
    bufferevent_setwatermark(bev_, EV_WRITE, kCipherLow, 0);
    bufferevent_set_max_single_write(bev_, kCipherHigh);
    return true;
  }

  void start_handshake() { event_active(seal_ev_, EV_WRITE, 0); }

  // A line of OpenSSL's key log: the far end's application traffic secret
  // opens records, ours seals them.
  void take_secret(std::string_view label, std::string_view hex) {
    const bool server = SSL_is_server(ssl_) == 1;
    std::string* into =
        label == "CLIENT_TRAFFIC_SECRET_0"   ? (server ? &open_secret_ : &seal_secret_)
        : label == "SERVER_TRAFFIC_SECRET_0" ? (server ? &seal_secret_ : &open_secret_)
                                             : nullptr;
    if (!into) return;
    Result<std::string> secret = from_hex(hex);
    if (!secret) return;  // then the records cannot start, which says so
    *into = std::move(*secret);
  }

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
  bool handshaken() const { return records_ != nullptr; }
  std::string_view peer_key() const override { return peer_key_; }

  // Opens record after record into `into` until it is full or the socket
  // has nothing more for now; the socket is read kInput at a time.
  ssize_t read(char* into, size_t size) override {
    if (!records_ || size == 0) {
      errno = EAGAIN;
      return -1;
    }
    size_t got = 0;
    while (got < size && !eof_ && !failure_) {
      if (spare_at_ < spare_end_) {
        const size_t n = std::min(size - got, spare_end_ - spare_at_);
        std::memcpy(into + got, spare_.get() + spare_at_, n);
        spare_at_ += n;
        got += n;
        continue;
      }
      if (!open_record(into, size, got) && !fill()) break;
    }
    if (got > 0) {
      // Records (or the end) already read from the socket but not given out
      // would wait for a readable event that the socket never sends again.
      if (watching_ && (eof_ || failure_ || has_pending())) event_active(kick_, EV_READ, 0);
      give_back_idle_buffers();
      return static_cast<ssize_t>(got);
    }
    give_back_idle_buffers();
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
    if (!arm_read_event(on || !handshaken(), timeout_seconds)) return false;
    if (on && handshaken() && (eof_ || failure_ || has_pending())) event_active(kick_, EV_READ, 0);
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
                          handshaken() ? "read timeout" : "no TLS handshake within the timeout"});
    } else if (!handshaken()) {
      handshake();
    } else if (watching_) {
      events().on_readable();
    }
  }

  // The bufferevent wrote down to kCipherLow: seal more, and tell the owner
  // once what is left is at its threshold (not for handshake records: the
  // owner has not heard of the link yet).
  void on_written() override {
    if (!handshaken()) return;
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
    if (t->handshaken()) {
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
    if (info->n_added > 0 && t->handshaken()) event_active(t->seal_ev_, EV_WRITE, 0);
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
                                                    ", not the pinned key " +
                                                    key_text(expect_key_)});
      return;
    }
    if (!start_records()) return;
    if (!watching_) arm_read_event(false, 0);
    seal();  // frames queued during the handshake
    events().on_connected();
  }

  // Seals queued plaintext into records until kCipherHigh waits for the
  // socket, kChunk at a time through this thread's bounce buffer. Only whole
  // records are sealed while more is queued, so small frames share records
  // and a piece's tail shares one with what follows it.
  void seal() {
    if (!handshaken() || failure_) return;
    evbuffer* cipher = bufferevent_get_output(bev_);
    char* const chunk = bounce();
    while (evbuffer_get_length(plain_) > 0 && evbuffer_get_length(cipher) < kCipherHigh) {
      const size_t queued = evbuffer_get_length(plain_);
      const size_t room =
          (kCipherHigh - evbuffer_get_length(cipher) + kRecord - 1) / kRecord * kRecord;
      size_t n = std::min({queued, kChunk, room});
      if (n < queued && n > kRecord) n = n / kRecord * kRecord;
      if (!gather(chunk, n) || !write_record(chunk, n)) {
        event_active(kick_, EV_READ, 0);  // reports failure_
        return;
      }
      evbuffer_drain(plain_, n);
      taken_ += n;
      while (!files_.empty() && files_.front().at + files_.front().length <= taken_)
        files_.pop_front();
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
          const std::string why =
              r == 0 ? "it is shorter than when it was queued" : std::strerror(errno);
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

  // The records from here on are ours, with the traffic secrets OpenSSL's
  // key log gave us. False: the link failed (the owner has been told).
  bool start_records() {
    // Cannot happen without read-ahead (tls.cc); if it did, the link's
    // first records would be stuck inside OpenSSL.
    if (SSL_has_pending(ssl_)) {
      events().on_failed(
          {CloseKind::tls_failed, "TLS: OpenSSL read past the end of the handshake"});
      return false;
    }
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
    auto records = TlsRecords::create(cipher ? SSL_CIPHER_get_protocol_id(cipher) : 0, open_secret_,
                                      seal_secret_);
    OPENSSL_cleanse(open_secret_.data(), open_secret_.size());
    OPENSSL_cleanse(seal_secret_.data(), seal_secret_.size());
    open_secret_.clear();
    seal_secret_.clear();
    if (!records) {
      events().on_failed({CloseKind::tls_failed, "TLS: " + records.error().message});
      return false;
    }
    records_ = std::move(*records);
    return true;
  }

  // Seals `size` bytes of queued plaintext into records, moving to a new key
  // when the current one has sealed key_update_records (or the far end asked).
  bool write_record(const char* data, size_t size) {
    size_t done = 0;
    while (done < size) {
      if ((key_update_owed_ || records_->sealed_with_key() >= key_update_records) &&
          !send_key_update()) {
        return false;
      }
      const uint64_t left_with_key = key_update_records - records_->sealed_with_key();
      const uint64_t records =
          std::min<uint64_t>((size - done + kRecord - 1) / kRecord, left_with_key);
      const size_t n = std::min<size_t>(size - done, static_cast<size_t>(records) * kRecord);
      if (!seal_records(tls_record::kApplicationData, data + done, n)) return false;
      done += n;
    }
    sealed_.push_back({cipher_added_, size});
    in_flight_ += size;
    return true;
  }

  // Seals `size` bytes of content `type` into records of up to kRecord,
  // straight into space reserved in the bufferevent's output, with one key.
  bool seal_records(uint8_t type, const char* data, size_t size) {
    evbuffer* cipher = bufferevent_get_output(bev_);
    const size_t records = std::max<size_t>(1, (size + kRecord - 1) / kRecord);
    const size_t total = size + records * tls_record::sealed_size(0);
    evbuffer_iovec space;
    if (evbuffer_reserve_space(cipher, static_cast<ev_ssize_t>(total), &space, 1) != 1 ||
        space.iov_len < total) {
      failure_ = CloseReason{CloseKind::local, "out of memory for TLS records"};
      return false;
    }
    char* out = static_cast<char*>(space.iov_base);
    for (size_t at = 0, r = 0; r < records; ++r, at += kRecord) {
      const size_t n = std::min(kRecord, size - at);
      if (!records_->seal(type, data + at, n, out)) {
        failure_ =
            CloseReason{CloseKind::local, "cannot seal a TLS record: " + openssl_error_text()};
        return false;
      }
      out += tls_record::sealed_size(n);
    }
    space.iov_len = total;
    if (evbuffer_commit_space(cipher, &space, 1) != 0) {
      failure_ = CloseReason{CloseKind::local, "cannot queue TLS records"};
      return false;
    }
    cipher_added_ += total;
    return true;
  }

  // KeyUpdate (update_not_requested), then our next key (RFC 8446 4.6.3).
  bool send_key_update() {
    key_update_owed_ = false;
    const char key_update[5] = {24, 0, 0, 1, 0};
    if (!seal_records(tls_record::kHandshake, key_update, sizeof key_update)) return false;
    if (!records_->next_seal_key()) {
      failure_ = CloseReason{CloseKind::local, "cannot move to the next TLS key"};
      return false;
    }
    return true;
  }

  // Opens the record at the front of the input, if it is whole: into
  // `into` + `got` when its content fits there (and counts it in `got`),
  // else into the spare, from which read() hands it out. False: no whole
  // record buffered.
  bool open_record(char* into, size_t size, size_t& got) {
    const size_t avail = in_end_ - in_start_;
    if (avail < kHeader) return false;
    const char* record = in_.get() + in_start_;
    Result<size_t> record_size = TlsRecords::record_size(record);
    if (!record_size) {
      failure_ = CloseReason{CloseKind::tls_failed, "TLS: " + record_size.error().message};
      return true;
    }
    if (avail < *record_size) return false;
    const size_t body = *record_size - kHeader - kTag;
    char* out = into + got;
    if (body > size - got) {
      if (!spare_) spare_.reset(new char[tls_record::kMaxBody]);
      out = spare_.get();
    }
    Result<TlsRecords::Opened> opened = records_->open(record, *record_size, out);
    in_start_ += *record_size;
    if (!opened) {
      failure_ = CloseReason{CloseKind::tls_failed, "TLS: " + opened.error().message};
      return true;
    }
    const bool data = opened->type == tls_record::kApplicationData && opened->size > 0;
    records_without_data_ = data ? 0 : records_without_data_ + 1;
    if (records_without_data_ > kMaxRecordsWithoutData) {
      failure_ = CloseReason{CloseKind::tls_failed, "TLS: more than " + std::to_string(kMaxRecordsWithoutData) +
                                                        " records in a row carried no data"};
    } else if (opened->type != tls_record::kApplicationData) {
      take_control(opened->type, out, opened->size);
    } else if (out == into + got) {
      got += opened->size;
    } else {
      spare_at_ = 0;
      spare_end_ = opened->size;
    }
    return true;
  }

  // A record that is not application data: an alert or handshake messages.
  void take_control(uint8_t type, const char* data, size_t size) {
    const auto* d = reinterpret_cast<const unsigned char*>(data);
    if (type == tls_record::kAlert) {
      if (size != 2) {
        failure_ = CloseReason{CloseKind::tls_failed, "TLS: a malformed alert"};
      } else if (d[1] == 0) {
        eof_ = true;            // close_notify
      } else if (d[1] != 90) {  // user_canceled: a close_notify follows
        failure_ =
            CloseReason{CloseKind::tls_failed, "TLS: the far end sent alert " + alert_text(d[1])};
      }
      return;
    }
    if (type != tls_record::kHandshake) {
      failure_ = CloseReason{CloseKind::tls_failed,
                             "TLS: a record of unknown content type " + std::to_string(type)};
      return;
    }
    for (size_t at = 0; at < size && !failure_;) {
      const size_t length =
          size - at < 4 ? 0 : (size_t{d[at + 1]} << 16) | (size_t{d[at + 2]} << 8) | d[at + 3];
      if (size - at < 4 || length > size - at - 4) {
        failure_ = CloseReason{CloseKind::tls_failed,
                               "TLS: a handshake message split across records after the handshake"};
        return;
      }
      const unsigned char kind = d[at];
      if (kind == 24) {  // KeyUpdate
        if (length != 1 || d[at + 4] > 1) {
          failure_ = CloseReason{CloseKind::tls_failed, "TLS: a malformed KeyUpdate"};
        } else if (!records_->next_open_key()) {
          failure_ = CloseReason{CloseKind::local, "cannot move to the far end's next TLS key"};
        } else if (d[at + 4] == 1) {
          // update_requested: ours goes before our next data (write_record),
          // one for however many requests came meanwhile (RFC 8446 4.6.3),
          // so a far end that asks and never reads cannot grow our output.
          key_update_owed_ = true;
        }
      } else if (kind != 4) {  // NewSessionTicket: no resumption here, let pass
        failure_ =
            CloseReason{CloseKind::tls_failed, "TLS: an unexpected handshake message (type " +
                                                   std::to_string(kind) + ") after the handshake"};
      }
      at += 4 + length;
    }
  }

  // Reads what the socket has, up to the input buffer's room. False when
  // nothing came: for now (EAGAIN), at the end (eof_) or on failure_.
  bool fill() {
    if (!in_) in_ = take_input_buffer();
    const size_t avail = in_end_ - in_start_;
    if (avail == 0) {
      in_start_ = in_end_ = 0;
    } else if (kInput - in_end_ < tls_record::kMaxRecord) {
      // A partial record (shorter than kMaxRecord: a whole one would have
      // been opened) moves to the front, to be completed.
      std::memmove(in_.get(), in_.get() + in_start_, avail);
      in_start_ = 0;
      in_end_ = avail;
    }
    for (;;) {
      const ssize_t n = recv(fd(), in_.get() + in_end_, kInput - in_end_, 0);
      if (n > 0) {
        in_end_ += static_cast<size_t>(n);
        return true;
      }
      if (n == 0) {
        // Without close_notify (a far end that crashed or was killed) the
        // stream has ended too: what came before it was whole, and each
        // frame is checked on its own. Inside a record, it has not.
        if (in_end_ > in_start_) {
          failure_ =
              CloseReason{CloseKind::peer_closed, "connection closed by peer inside a TLS record"};
        } else {
          eof_ = true;
        }
        return false;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        failure_ = CloseReason{CloseKind::io_error, std::string("connection error: ") +
                                                        evutil_socket_error_to_string(errno)};
      }
      return false;
    }
  }

  // Input that no socket event will announce: content in the spare, a
  // whole record (or a header we refuse) in the input buffer.
  bool has_pending() const {
    if (spare_at_ < spare_end_) return true;
    const size_t avail = in_end_ - in_start_;
    if (avail < kHeader) return false;
    Result<size_t> record_size = TlsRecords::record_size(in_.get() + in_start_);
    return !record_size || avail >= *record_size;
  }

  void give_back_idle_buffers() {
    if (in_ && in_start_ == in_end_) {
      give_back_input_buffer(std::move(in_));
      in_start_ = in_end_ = 0;
    }
    if (spare_ && spare_at_ == spare_end_) spare_.reset();
  }

  CloseReason ssl_failure(int err) const {
    if (err == SSL_ERROR_ZERO_RETURN) return {CloseKind::peer_closed, "connection closed by peer"};
    if (err == SSL_ERROR_SYSCALL && errno != 0) {
      return {CloseKind::io_error,
              std::string("connection error: ") + evutil_socket_error_to_string(errno)};
    }
    if (err == SSL_ERROR_SYSCALL) return {CloseKind::peer_closed, "connection closed by peer"};
    return {CloseKind::tls_failed, "TLS: " + openssl_error_text()};
  }

  SSL* ssl_;
  std::string expect_key_;
  // From OpenSSL's key log during the handshake; wiped once records_ has them.
  std::string open_secret_;
  std::string seal_secret_;
  std::unique_ptr<TlsRecords> records_;  // once the handshake is done: handshaken()
  bool key_update_owed_ = false;         // the far end asked for one
  unsigned records_without_data_ = 0;    // in a row: kMaxRecordsWithoutData
  // Input read from the socket, not opened yet: [in_start_, in_end_).
  std::unique_ptr<char[]> in_;
  size_t in_start_ = 0;
  size_t in_end_ = 0;
  // A record's content that did not fit the caller's buffer: [spare_at_, spare_end_).
  std::unique_ptr<char[]> spare_;
  size_t spare_at_ = 0;
  size_t spare_end_ = 0;
  std::string peer_key_;
  // Frames queued, not sealed yet. File ranges are in it as libevent's
  // sendfile chains, which keep their file open but cannot be read through
  // the evbuffer: files_ says where they are.
  evbuffer* plain_ = nullptr;
  std::deque<QueuedFile> files_;
  uint64_t taken_ = 0;  // bytes sealed (and drained from plain_), ever
  event* seal_ev_ = nullptr;
  event* kick_ = nullptr;  // input inside OpenSSL that no socket event will announce
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

void take_traffic_secret(const SSL* ssl, const char* line) {
  auto* t = static_cast<TlsTransport*>(SSL_get_app_data(ssl));
  const std::string_view text(line);
  const size_t label_end = text.find(' ');
  const size_t random_end =
      label_end == std::string_view::npos ? label_end : text.find(' ', label_end + 1);
  if (!t || random_end == std::string_view::npos) return;
  t->take_secret(text.substr(0, label_end), text.substr(random_end + 1));
}

void set_tls_key_update_records(uint64_t records) {
  key_update_records = records > 0 ? records : 1;
}

std::unique_ptr<Transport> tls_transport(event_base* base, evutil_socket_t fd,
                                         const TlsContext& tls, bool connecting,
                                         std::string expect_key) {
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
