#include "ticket.h"

#include <cstring>

#include "identity.h"
#include "names.h"

namespace gs {
namespace {

constexpr std::string_view kMagic = "gst1";
constexpr size_t kKey = 32;
constexpr size_t kSignature = 64;

void put_name(std::string& out, const std::string& name) {
  out.push_back(static_cast<char>(name.size()));
  out += name;
}

void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// Reads from the front of `in`, failing once anything is short.
struct Reader {
  std::string_view in;
  bool ok = true;
  std::string_view take(size_t n) {
    if (!ok || in.size() < n) {
      ok = false;
      return {};
    }
    std::string_view got = in.substr(0, n);
    in.remove_prefix(n);
    return got;
  }
  std::string name() {
    const std::string_view len = take(1);
    return ok ? std::string(take(static_cast<unsigned char>(len[0]))) : std::string();
  }
  uint64_t u64() {
    const std::string_view b = take(8);
    uint64_t v = 0;
    for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
    return v;
  }
};

}  // namespace

std::string issue_ticket(const Ticket& t, const Identity& signer) {
  std::string out(kMagic);
  put_name(out, t.user);
  put_name(out, t.group);
  out.append(reinterpret_cast<const char*>(t.file_id.data()), t.file_id.size());
  out += t.holder_key;
  put_u64(out, static_cast<uint64_t>(t.expires));
  out += signer.sign(out);
  return out;
}

Result<Ticket> read_ticket(std::string_view bytes, std::string_view signer_key) {
  const auto bad = [](const std::string& what) { return make_error("bad_ticket", "malformed ticket: " + what); };
  if (bytes.size() > kMaxTicketBytes) return bad("longer than any ticket");
  if (bytes.size() < kMagic.size() + kSignature || bytes.substr(0, kMagic.size()) != kMagic) {
    return bad("not a gs ticket");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - kSignature);
  Reader r{body.substr(kMagic.size())};
  Ticket t;
  t.user = r.name();
  t.group = r.name();
  const std::string_view file = r.take(t.file_id.size());
  if (r.ok) std::memcpy(t.file_id.data(), file.data(), t.file_id.size());
  t.holder_key = std::string(r.take(kKey));
  const uint64_t expires = r.u64();
  if (!r.ok) return bad("truncated");
  if (!r.in.empty()) return bad("extra bytes");
  if (!valid_name(t.user) || !valid_name(t.group)) return bad("invalid user or group name");
  if (expires > static_cast<uint64_t>(INT64_MAX)) return bad("expiry out of range");
  t.expires = static_cast<int64_t>(expires);
  // Checked last, but before anything of the ticket is believed.
  if (!verify_signature(signer_key, body, bytes.substr(body.size()))) {
    return make_error("bad_signature", "the ticket's signature is not the tracker cluster's");
  }
  return t;
}

Status check_ticket(const Ticket& t, const Sha256Digest& file_id, std::string_view link_key, int64_t now) {
  if (t.file_id != file_id) return make_error("wrong_file", "the ticket is for another file");
  if (link_key.empty() || t.holder_key != link_key) {
    return make_error("wrong_holder", "the ticket names another daemon (key " + key_text(t.holder_key) +
                                          ") than the one on this link");
  }
  if (now >= t.expires) {
    return make_error("expired", "the ticket expired " + std::to_string(now - t.expires) + " s ago");
  }
  return Ok{};
}

}  // namespace gs
