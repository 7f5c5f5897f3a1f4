// SHA-256 through OpenSSL's SHA256_* functions, not EVP. They run the same
// assembly (SHA extensions where the CPU has them), but EVP in OpenSSL 3
// fetches the digest from a provider: the first call loads the config and the
// provider tables, which keeps ~1.8 MiB more of libcrypto resident in every
// process, a quarter of an idle gsd. OpenSSL 3 marks these functions
// deprecated in favour of EVP; this file is the one place that uses them.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace gs {
namespace {

SHA256_CTX* ctx_of(unsigned char* storage) { return reinterpret_cast<SHA256_CTX*>(storage); }

}  // namespace

Sha256Digest sha256(std::string_view data) {
  // Not the one-shot SHA256(): in OpenSSL 3 that one goes through EVP.
  Sha256 h;
  h.update(data);
  return h.finish();
}

Sha256::Sha256() {
  static_assert(sizeof(SHA256_CTX) <= sizeof ctx_, "Sha256::ctx_ too small for SHA256_CTX");
  static_assert(alignof(SHA256_CTX) <= 8, "Sha256::ctx_ under-aligned for SHA256_CTX");
  SHA256_Init(ctx_of(ctx_));
}

Sha256::~Sha256() { OPENSSL_cleanse(ctx_, sizeof ctx_); }

void Sha256::update(const void* data, size_t size) { SHA256_Update(ctx_of(ctx_), data, size); }

Sha256Digest Sha256::finish() {
  Sha256Digest out{};
  SHA256_Final(out.data(), ctx_of(ctx_));
  SHA256_Init(ctx_of(ctx_));
  return out;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  for (int tries = 0; got < n; ++tries) {
    // getrandom may return less than asked for large requests or when a
    // signal lands; the bound only stops a kernel that keeps refusing.
    const ssize_t r = getrandom(out.data() + got, n - got, 0);
    if (r > 0) {
      got += static_cast<size_t>(r);
    } else if ((r < 0 && errno != EINTR) || tries > 1000) {
      std::fprintf(stderr, "fatal: getrandom failed: %s\n", std::strerror(errno));
      std::abort();
    }
  }
  return out;
}

uint64_t random_u64() {
  const std::string b = random_bytes(sizeof(uint64_t));
  uint64_t v = 0;
  std::memcpy(&v, b.data(), sizeof v);
  return v;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return make_error("bad_hex", "hex string of odd length");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_value(hex[i]);
    const int lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) return make_error("bad_hex", "not a hex digit in hex string");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace gs
