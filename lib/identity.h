// A process's own key pair (Ed25519): who a daemon or a tracker is on the
// wire. Made on first start and kept in the state directory (0600); TLS
// presents it in a self-signed certificate, and the far end pins the public
// key itself, so no certificate authority is involved.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace gs {

// A public key as people read and write it (trackers files, logs, errors):
// 64 hex digits of the raw 32-byte Ed25519 key.
std::string key_text(std::string_view raw_public_key);
// The raw 32-byte public key of an Ed25519 key (a certificate's, ours);
// empty for any other kind of key.
std::string ed25519_public_key(EVP_PKEY* key);
// The raw key of a key_text; an error that says what is wrong otherwise.
Result<std::string> parse_key_text(std::string_view text);

class Identity {
 public:
  // Loads the PEM private key at `path`, or makes one there (mode 0600,
  // written to a temporary file and renamed) when the file does not exist.
  // Refuses a file that others may read, or that holds another kind of key.
  static Result<std::unique_ptr<Identity>> load_or_create(const std::string& path);
  // A key that lives in memory only (tests, tools).
  static std::unique_ptr<Identity> ephemeral();
  // The key whose 32-byte private seed is `seed` (a key kept elsewhere, e.g.
  // the cluster's signing key in the trackers' state); null if it is not one.
  static std::unique_ptr<Identity> from_seed(std::string_view seed);
  ~Identity();
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;

  EVP_PKEY* key() const { return key_; }
  const std::string& public_key() const { return public_key_; }  // raw, 32 bytes
  std::string text() const { return key_text(public_key_); }
  // The private seed (32 bytes): a secret, for whoever must keep the key.
  std::string seed() const;
  // Ed25519 signature of `data` (64 bytes).
  std::string sign(std::string_view data) const;

 private:
  explicit Identity(EVP_PKEY* key);
  EVP_PKEY* key_;
  std::string public_key_;
};

// True when `signature` is `raw_public_key`'s Ed25519 signature of `data`.
bool verify_signature(std::string_view raw_public_key, std::string_view data, std::string_view signature);

}  // namespace gs
