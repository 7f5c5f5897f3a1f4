// Access tickets over arbitrary bytes, checked against a fixed cluster key
// (the seed corpus holds tickets it signed, so mutations reach every field
// before the signature check): reading never crashes, and a ticket that
// reads back is exactly what the key would issue for its fields (Ed25519
// is deterministic), so nothing unsigned can slip through.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "identity.h"
#include "ticket.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<gs::Identity> cluster = gs::Identity::from_seed(std::string(32, '\x07'));
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto t = gs::read_ticket(in, cluster->public_key());
  if (!t.ok()) return 0;
  if (gs::issue_ticket(*t, *cluster) != in) std::abort();
  (void)gs::check_ticket(*t, t->file_id, t->holder_key, t->expires - 1);
  return 0;
}
