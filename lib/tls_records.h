// TLS 1.3 record protection (RFC 8446 5.2-5.3, 7.1-7.2) for a link's
// traffic after its handshake. OpenSSL does the handshake and hands over the
// two application traffic secrets (its key log callback, tls_transport.cc);
// from then on records are sealed straight into the socket's output buffer
// and opened straight into the caller's buffer (a piece's landing buffer),
// without OpenSSL's record buffers and the copies into and out of them.
// tls_transport.cc says what that saves.
//
// Pure: bytes in, bytes out, no I/O, no clock. One object per link, used by
// one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "result.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_md_st EVP_MD;

namespace gs {

namespace tls_record {
constexpr size_t kHeader = 5;
constexpr size_t kTag = 16;
// What one record carries at most (2^14), and the longest body a peer may
// send (RFC 8446 5.2: 2^14 + 256, content type and padding included).
constexpr size_t kMaxPlain = 16384;
constexpr size_t kMaxBody = kMaxPlain + 256;
constexpr size_t kMaxRecord = kHeader + kMaxBody;
// Content types (RFC 8446 5.1).
constexpr uint8_t kAlert = 21;
constexpr uint8_t kHandshake = 22;
constexpr uint8_t kApplicationData = 23;
// The size of the record that seals `size` bytes (no padding).
constexpr size_t sealed_size(size_t size) { return kHeader + size + 1 + kTag; }
}  // namespace tls_record

class TlsRecords {
 public:
  // `suite`: the negotiated TLS 1.3 cipher suite's id (0x1301
  // AES-128-GCM-SHA256, 0x1302 AES-256-GCM-SHA384, 0x1303
  // CHACHA20-POLY1305-SHA256). The secrets: this side's application traffic
  // secrets, the far end's (to open) and its own (to seal), raw.
  static Result<std::unique_ptr<TlsRecords>> create(uint16_t suite, std::string_view open_secret,
                                                    std::string_view seal_secret);
  ~TlsRecords();
  TlsRecords(const TlsRecords&) = delete;
  TlsRecords& operator=(const TlsRecords&) = delete;

  // Seals `size` bytes (at most kMaxPlain) of content `type` from `plain`
  // into `out`, which takes tls_record::sealed_size(size) bytes. `plain` may
  // be out + kHeader (sealed in place) or not overlap `out` at all. False
  // when `size` is over kMaxPlain, or OpenSSL fails (out of memory).
  bool seal(uint8_t type, const char* plain, size_t size, char* out);

  // The whole size of the record whose header starts `header` (kHeader
  // bytes), or an error for a header no TLS 1.3 peer sends after its
  // handshake (another outer type, a body too short or too long).
  static Result<size_t> record_size(const char* header);

  struct Opened {
    uint8_t type;  // the inner content type
    size_t size;   // the content: out[0, size)
  };
  // Opens the whole record `record` (record_size() bytes) into `out`, which
  // takes size - kHeader - kTag bytes (content, type and padding) and may
  // be record + kHeader. On an error (a record that fails its integrity
  // check, has no content type or too much content) `out` holds garbage and
  // the link must end.
  Result<Opened> open(const char* record, size_t size, char* out);

  // KeyUpdate (RFC 8446 4.6.3, 7.2): the next traffic secret and its keys,
  // the sequence number back to 0. False only when OpenSSL fails.
  bool next_open_key();
  bool next_seal_key();

  // Records sealed with the current key (the sequence number).
  uint64_t sealed_with_key() const { return seal_.sequence; }

 private:
  struct Direction {
    EVP_CIPHER_CTX* ctx = nullptr;
    std::string secret;
    unsigned char iv[12] = {};
    uint64_t sequence = 0;
  };
  TlsRecords() = default;
  bool set_keys(Direction& d, bool sealing);
  bool next_key(Direction& d, bool sealing);
  void nonce(const Direction& d, unsigned char* out) const;

  const EVP_MD* hash_ = nullptr;
  size_t key_size_ = 0;
  int cipher_nid_ = 0;
  Direction open_;
  Direction seal_;
};

}  // namespace gs
