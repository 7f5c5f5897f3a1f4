// Access tickets: what a seeder asks for before it sends anything of a file.
// The tracker cluster signs one (Ed25519, its replicated key) when a member
// asks for a file's peers; it names the member, the group, the file, the key
// of the daemon that asked (the one its TLS link proved) and an expiry a few
// minutes on. A seeder checks all of that against the link it arrived on,
// so a ticket is worth nothing to anyone but the daemon it names, and to
// nobody once it has expired or the member has left (no new ticket).
//
// Wire form (all of it signed but the signature):
//   "gst1" | u8 user length | user | u8 group length | group |
//   file_id[32] | holder key[32] | u64 BE expiry (Unix seconds) | signature[64]
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto.h"
#include "result.h"

namespace gs {

class Identity;

struct Ticket {
  std::string user;
  std::string group;
  Sha256Digest file_id{};
  std::string holder_key;  // raw Ed25519 key of the daemon it was issued to
  int64_t expires = 0;     // Unix seconds
  friend bool operator==(const Ticket&, const Ticket&) = default;
};

inline constexpr size_t kMaxTicketBytes = 4 + 1 + 64 + 1 + 64 + 32 + 32 + 8 + 64;

// Signs `t` with `signer` (the cluster's key). Requires valid names (see
// names.h) and a 32-byte holder key.
std::string issue_ticket(const Ticket& t, const Identity& signer);

// The ticket in `bytes`, if the cluster key `signer_key` (raw) signed it.
// Errors: "bad_ticket" (malformed: says what), "bad_signature".
Result<Ticket> read_ticket(std::string_view bytes, std::string_view signer_key);

// What a seeder checks besides the signature: the ticket is for this file,
// for the daemon at the far end of this link, and not expired at `now`.
// Errors: "wrong_file", "wrong_holder", "expired" (each says what).
Status check_ticket(const Ticket& t, const Sha256Digest& file_id, std::string_view link_key, int64_t now);

}  // namespace gs
