#include "identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto.h"
#include "trackers_file.h"

namespace gs {
namespace {

constexpr size_t kKeySize = 32;
constexpr size_t kSignatureSize = 64;
constexpr size_t kMaxKeyFile = 16 * 1024;

Status write_new_key(const std::string& path, EVP_PKEY* key) {
  BIO* mem = BIO_new(BIO_s_mem());
  const bool ok = mem && PEM_write_bio_PrivateKey(mem, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  char* data = nullptr;
  const long size = ok ? BIO_get_mem_data(mem, &data) : 0;
  Status written = size > 0 ? write_private_file(path, std::string_view(data, static_cast<size_t>(size)))
                            : make_error("io_error", "cannot encode a new key for " + path);
  BIO_free(mem);
  if (!written) return make_error("io_error", "the key file: " + written.error().message);
  return Ok{};
}

}  // namespace

std::string ed25519_public_key(EVP_PKEY* key) {
  if (!key || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) return {};
  std::string raw(kKeySize, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 ||
      len != kKeySize) {
    return {};
  }
  return raw;
}

std::string key_text(std::string_view raw_public_key) { return to_hex(raw_public_key); }

Result<std::string> parse_key_text(std::string_view text) {
  if (text.size() != 2 * kKeySize) {
    return make_error("bad_key", "a key is 64 hex digits (the daemon or tracker prints its own with --print-key); got " +
                                     std::to_string(text.size()) + " characters");
  }
  auto raw = from_hex(text);
  if (!raw) return make_error("bad_key", "a key is 64 hex digits; this one has other characters");
  return raw;
}

Identity::Identity(EVP_PKEY* key) : key_(key), public_key_(ed25519_public_key(key)) {}
Identity::~Identity() { EVP_PKEY_free(key_); }

std::unique_ptr<Identity> Identity::ephemeral() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key) std::abort();  // out of memory, or an OpenSSL without Ed25519
  return std::unique_ptr<Identity>(new Identity(key));
}

std::unique_ptr<Identity> Identity::from_seed(std::string_view seed) {
  if (seed.size() != kKeySize) return nullptr;
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  if (!key) return nullptr;
  return std::unique_ptr<Identity>(new Identity(key));
}

std::string Identity::seed() const {
  std::string raw(kKeySize, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_private_key(key_, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 || len != kKeySize) {
    std::abort();  // an Ed25519 key always has one
  }
  return raw;
}

Result<std::unique_ptr<Identity>> Identity::load_or_create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno != ENOENT) return make_error("io_error", "cannot open the key file " + path + ": " + std::strerror(errno));
    auto made = ephemeral();
    if (auto st = write_new_key(path, made->key()); !st) return st.error();
    return made;
  }
  struct stat st {};
  std::string pem;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      static_cast<size_t>(st.st_size) <= kMaxKeyFile) {
    pem.resize(static_cast<size_t>(st.st_size));
    if (::read(fd, pem.data(), pem.size()) != static_cast<ssize_t>(pem.size())) pem.clear();
  }
  ::close(fd);
  if (pem.empty()) return make_error("bad_key", "the key file " + path + " is not a readable file of at most 16 KiB");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return make_error("bad_key", "the key file " + path + " may be read by others (mode " + mode +
                                     "); run: chmod 600 " + path);
  }
  BIO* mem = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = mem ? PEM_read_bio_PrivateKey(mem, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(mem);
  if (!key) return make_error("bad_key", "the key file " + path + " holds no PEM private key");
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return make_error("bad_key", "the key file " + path + " holds a key that is not Ed25519");
  }
  return std::unique_ptr<Identity>(new Identity(key));
}

std::string Identity::sign(std::string_view data) const {
  std::string sig(kSignatureSize, '\0');
  size_t len = sig.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_) == 1 &&
                  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                                 reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != kSignatureSize) std::abort();  // cannot fail with a valid key but out of memory
  return sig;
}

bool verify_signature(std::string_view raw_public_key, std::string_view data, std::string_view signature) {
  if (raw_public_key.size() != kKeySize || signature.size() != kSignatureSize) return false;
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(raw_public_key.data()),
                                              raw_public_key.size());
  if (!key) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                   reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace gs
