#include "tls_records.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <cstring>

namespace gs {
namespace {

using namespace tls_record;

// HKDF-Expand-Label(secret, label, "", length) (RFC 8446 7.1). Every length
// asked for here is at most the hash's, so HKDF-Expand is its first block:
// HMAC(secret, HkdfLabel || 0x01).
bool expand_label(const EVP_MD* hash, const std::string& secret, std::string_view label,
                  size_t length, unsigned char* out) {
  std::string info;
  info.push_back(static_cast<char>(length >> 8));
  info.push_back(static_cast<char>(length & 0xff));
  info.push_back(static_cast<char>(6 + label.size()));
  info.append("tls13 ");
  info.append(label);
  info.push_back(0);  // no context
  info.push_back(1);  // HKDF-Expand's first block
  unsigned char block[EVP_MAX_MD_SIZE];
  unsigned int block_size = 0;
  if (length > static_cast<size_t>(EVP_MD_get_size(hash)) ||
      !HMAC(hash, secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(info.data()), info.size(), block, &block_size)) {
    return false;
  }
  std::memcpy(out, block, length);
  OPENSSL_cleanse(block, sizeof block);
  return true;
}

const EVP_CIPHER* cipher_of(int nid) {
  switch (nid) {
    case NID_aes_128_gcm:
      return EVP_aes_128_gcm();
    case NID_aes_256_gcm:
      return EVP_aes_256_gcm();
    default:
      return EVP_chacha20_poly1305();
  }
}

Error record_error(std::string message) { return make_error("tls_record", std::move(message)); }

}  // namespace

Result<std::unique_ptr<TlsRecords>> TlsRecords::create(uint16_t suite, std::string_view open_secret,
                                                       std::string_view seal_secret) {
  std::unique_ptr<TlsRecords> r(new TlsRecords());
  switch (suite) {
    case 0x1301:
      r->hash_ = EVP_sha256();
      r->cipher_nid_ = NID_aes_128_gcm;
      r->key_size_ = 16;
      break;
    case 0x1302:
      r->hash_ = EVP_sha384();
      r->cipher_nid_ = NID_aes_256_gcm;
      r->key_size_ = 32;
      break;
    case 0x1303:
      r->hash_ = EVP_sha256();
      r->cipher_nid_ = NID_chacha20_poly1305;
      r->key_size_ = 32;
      break;
    default:
      char id[8];
      std::snprintf(id, sizeof id, "0x%04x", suite);
      return record_error(std::string("TLS cipher suite ") + id +
                          " is not one of TLS 1.3's AEAD suites");
  }
  const size_t hash_size = static_cast<size_t>(EVP_MD_get_size(r->hash_));
  if (open_secret.size() != hash_size || seal_secret.size() != hash_size) {
    return record_error("a TLS traffic secret of the wrong size");
  }
  r->open_.secret = open_secret;
  r->seal_.secret = seal_secret;
  r->open_.ctx = EVP_CIPHER_CTX_new();
  r->seal_.ctx = EVP_CIPHER_CTX_new();
  if (!r->open_.ctx || !r->seal_.ctx || !r->set_keys(r->open_, false) ||
      !r->set_keys(r->seal_, true)) {
    return record_error("cannot set up TLS record keys (out of memory)");
  }
  return r;
}

TlsRecords::~TlsRecords() {
  for (Direction* d : {&open_, &seal_}) {
    EVP_CIPHER_CTX_free(d->ctx);  // cleanses its key schedule
    OPENSSL_cleanse(d->secret.data(), d->secret.size());
    OPENSSL_cleanse(d->iv, sizeof d->iv);
  }
}

bool TlsRecords::set_keys(Direction& d, bool sealing) {
  unsigned char key[32];
  const bool ok =
      expand_label(hash_, d.secret, "key", key_size_, key) &&
      expand_label(hash_, d.secret, "iv", sizeof d.iv, d.iv) &&
      EVP_CipherInit_ex(d.ctx, cipher_of(cipher_nid_), nullptr, key, nullptr, sealing ? 1 : 0) == 1;
  OPENSSL_cleanse(key, sizeof key);
  d.sequence = 0;
  return ok;
}

bool TlsRecords::next_key(Direction& d, bool sealing) {
  unsigned char next[EVP_MAX_MD_SIZE];
  const size_t size = d.secret.size();
  if (!expand_label(hash_, d.secret, "traffic upd", size, next)) return false;
  std::memcpy(d.secret.data(), next, size);
  OPENSSL_cleanse(next, sizeof next);
  return set_keys(d, sealing);
}

bool TlsRecords::next_open_key() { return next_key(open_, false); }
bool TlsRecords::next_seal_key() { return next_key(seal_, true); }

// The per-record nonce: the IV with the sequence number (big-endian, padded
// on the left) XORed into it.
void TlsRecords::nonce(const Direction& d, unsigned char* out) const {
  std::memcpy(out, d.iv, sizeof d.iv);
  for (int i = 0; i < 8; ++i) out[11 - i] ^= static_cast<unsigned char>(d.sequence >> (8 * i));
}

bool TlsRecords::seal(uint8_t type, const char* plain, size_t size, char* out) {
  if (size > kMaxPlain) return false;
  const size_t body = size + 1 + kTag;
  auto* o = reinterpret_cast<unsigned char*>(out);
  o[0] = kApplicationData;  // every protected record's outer type
  o[1] = 0x03;
  o[2] = 0x03;
  o[3] = static_cast<unsigned char>(body >> 8);
  o[4] = static_cast<unsigned char>(body & 0xff);
  unsigned char iv[12];
  nonce(seal_, iv);
  int n = 0;
  const unsigned char inner = type;
  if (EVP_CipherInit_ex(seal_.ctx, nullptr, nullptr, nullptr, iv, 1) != 1 ||
      EVP_CipherUpdate(seal_.ctx, nullptr, &n, o, kHeader) != 1 ||
      EVP_CipherUpdate(seal_.ctx, o + kHeader, &n, reinterpret_cast<const unsigned char*>(plain),
                       static_cast<int>(size)) != 1 ||
      EVP_CipherUpdate(seal_.ctx, o + kHeader + size, &n, &inner, 1) != 1 ||
      EVP_CipherFinal_ex(seal_.ctx, o + kHeader + size + 1, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(seal_.ctx, EVP_CTRL_AEAD_GET_TAG, kTag, o + kHeader + size + 1) != 1) {
    return false;
  }
  ++seal_.sequence;
  return true;
}

Result<size_t> TlsRecords::record_size(const char* header) {
  const auto* h = reinterpret_cast<const unsigned char*>(header);
  if (h[0] != kApplicationData) {
    return record_error("a TLS record of type " + std::to_string(h[0]) +
                        " after the handshake (only protected records, type 23, may come)");
  }
  const size_t body = (size_t{h[3]} << 8) | h[4];
  if (body < 1 + kTag)
    return record_error("a TLS record too short to be protected (" + std::to_string(body) +
                        " bytes)");
  if (body > kMaxBody) {
    return record_error("a TLS record of " + std::to_string(body) + " bytes, over the limit of " +
                        std::to_string(kMaxBody) + " (record_overflow)");
  }
  return kHeader + body;
}

Result<TlsRecords::Opened> TlsRecords::open(const char* record, size_t size, char* out) {
  if (size < kHeader + 1 + kTag) return record_error("a TLS record too short to be protected");
  const auto* r = reinterpret_cast<const unsigned char*>(record);
  auto* o = reinterpret_cast<unsigned char*>(out);
  const size_t sealed = size - kHeader - kTag;
  unsigned char iv[12];
  nonce(open_, iv);
  int n = 0;
  if (EVP_CipherInit_ex(open_.ctx, nullptr, nullptr, nullptr, iv, 0) != 1 ||
      EVP_CipherUpdate(open_.ctx, nullptr, &n, r, kHeader) != 1 ||
      EVP_CipherUpdate(open_.ctx, o, &n, r + kHeader, static_cast<int>(sealed)) != 1 ||
      EVP_CIPHER_CTX_ctrl(open_.ctx, EVP_CTRL_AEAD_SET_TAG, kTag,
                          const_cast<unsigned char*>(r + kHeader + sealed)) != 1) {
    return record_error("cannot open a TLS record (OpenSSL failed)");
  }
  if (EVP_CipherFinal_ex(open_.ctx, o + sealed, &n) != 1) {
    return record_error("a TLS record failed its integrity check (bad_record_mac)");
  }
  ++open_.sequence;
  size_t end = sealed;
  while (end > 0 && o[end - 1] == 0) --end;  // padding
  if (end == 0) return record_error("a TLS record with no content type (unexpected_message)");
  const size_t content = end - 1;
  if (content > kMaxPlain)
    return record_error("a TLS record with more than 2^14 bytes of content (record_overflow)");
  return Opened{o[content], content};
}

}  // namespace gs
