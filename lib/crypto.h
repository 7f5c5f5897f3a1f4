// Hashing (OpenSSL), randomness (the kernel) and encodings, behind plain types.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "result.h"

namespace gs {

using Sha256Digest = std::array<unsigned char, 32>;

Sha256Digest sha256(std::string_view data);

// Incremental SHA-256 for data that arrives in parts (pieces, streams).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  Sha256Digest finish();  // resets for reuse

 private:
  // OpenSSL's SHA256_CTX, kept opaque so that this header needs no OpenSSL
  // header (crypto.cc checks the size).
  alignas(8) unsigned char ctx_[112];
};

// Cryptographically secure random bytes from the kernel (getrandom). Aborts
// if that fails: continuing with predictable tokens would be worse.
std::string random_bytes(size_t n);
// Eight of those as a number: a seed for a generator that need not be secure.
uint64_t random_u64();

std::string to_hex(std::string_view bytes);
inline std::string to_hex(const Sha256Digest& d) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}
Result<std::string> from_hex(std::string_view hex);

// Constant-time equality for secrets of equal length (different lengths: false).
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace gs
