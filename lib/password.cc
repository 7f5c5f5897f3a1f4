#include "password.h"

#include <charconv>
#include <vector>

#include <openssl/evp.h>

#include "crypto.h"

namespace gs {
namespace {

constexpr size_t kSaltSize = 16;
constexpr size_t kKeySize = 32;

bool derive(std::string_view password, std::string_view salt, const KdfParams& k, std::string& out) {
  out.assign(kKeySize, '\0');
  const uint64_t n = uint64_t{1} << k.log2_n;
  // Memory bound: 128 * r * N plus headroom; OpenSSL refuses above maxmem.
  const uint64_t maxmem = 128ull * static_cast<uint64_t>(k.r) * n * 2 + (1u << 20);
  return EVP_PBE_scrypt(password.data(), password.size(),
                        reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n,
                        static_cast<uint64_t>(k.r), static_cast<uint64_t>(k.p), maxmem,
                        reinterpret_cast<unsigned char*>(out.data()), out.size()) == 1;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

bool parse_int(std::string_view s, int lo, int hi, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= lo && out <= hi;
}

}  // namespace

Result<std::string> hash_password(std::string_view password, const KdfParams& params) {
  const std::string salt = random_bytes(kSaltSize);
  std::string key;
  if (!derive(password, salt, params, key)) {
    return make_error("kdf_failed", "scrypt failed (parameters out of range?)");
  }
  return "scrypt$" + std::to_string(params.log2_n) + "$" + std::to_string(params.r) + "$" +
         std::to_string(params.p) + "$" + to_hex(salt) + "$" + to_hex(key);
}

bool verify_password(std::string_view password, std::string_view stored) {
  const auto parts = split(stored, '$');
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  KdfParams k;
  // Bounds keep a tampered row from asking for gigabytes or hours.
  if (!parse_int(parts[1], 1, 20, k.log2_n) || !parse_int(parts[2], 1, 32, k.r) ||
      !parse_int(parts[3], 1, 16, k.p)) {
    return false;
  }
  auto salt = from_hex(parts[4]);
  auto expected = from_hex(parts[5]);
  if (!salt || !expected || expected->size() != kKeySize) return false;
  std::string key;
  if (!derive(password, *salt, k, key)) return false;
  return equal_constant_time(key, *expected);
}

}  // namespace gs
