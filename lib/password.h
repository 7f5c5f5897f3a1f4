// Password hashing: scrypt (OpenSSL) with a random 16-byte salt. The stored
// form names its parameters, so the cost can be raised later without breaking
// existing accounts:  scrypt$<log2 N>$<r>$<p>$<salt hex>$<hash hex>
#pragma once

#include <string>
#include <string_view>

#include "result.h"

namespace gs {

struct KdfParams {
  int log2_n = 15;  // N = 32768: 32 MiB and ~0.1 s per hash on this class of machine
  int r = 8;
  int p = 1;
};

Result<std::string> hash_password(std::string_view password, const KdfParams& params = {});

// False for a wrong password and for a malformed stored hash alike; the
// comparison of the derived key is constant-time.
bool verify_password(std::string_view password, std::string_view stored);

}  // namespace gs
