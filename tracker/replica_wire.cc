#include "tracker/replica_wire.h"

#include <openssl/evp.h>

#include <limits>

namespace gs::tracker {
namespace {

Error bad(std::string message) { return make_error("bad_message", std::move(message)); }

// ---- encoding ----

Json pos_json(LogPos p) {
  Json j = Json::object();
  j["seq"] = p.seq;
  j["epoch"] = p.epoch;
  return j;
}

Json view_json(const View& v) {
  Json j = Json::object();
  j["epoch"] = v.epoch;
  j["version"] = v.version;
  Json isr = Json::array();
  for (int i : v.isr) isr.push_back(i);
  j["isr"] = std::move(isr);
  return j;
}

// ---- decoding: each reader names the field it rejects ----

Result<uint64_t> read_u64(const Json& obj, std::string_view key) {
  const Json* v = obj.find(key);
  if (!v) return bad("missing field '" + std::string(key) + "'");
  if (!v->is_int() || v->as_int() < 0) {
    return bad("field '" + std::string(key) + "' must be a non-negative integer");
  }
  return static_cast<uint64_t>(v->as_int());
}

Result<int> read_index(const Json& obj, std::string_view key, int count, bool allow_zero) {
  const Json* v = obj.find(key);
  if (!v) return bad("missing field '" + std::string(key) + "'");
  if (!v->is_int() || v->as_int() < (allow_zero ? 0 : 1) || v->as_int() > count) {
    return bad("field '" + std::string(key) + "' must be a tracker index (1-" +
               std::to_string(count) + (allow_zero ? ", or 0)" : ")"));
  }
  return static_cast<int>(v->as_int());
}

Result<const Json*> read_object(const Json& obj, std::string_view key) {
  const Json* v = obj.find(key);
  if (!v) return bad("missing field '" + std::string(key) + "'");
  if (!v->is_object()) return bad("field '" + std::string(key) + "' must be an object");
  return v;
}

Result<LogPos> read_pos(const Json& obj, std::string_view key) {
  auto o = read_object(obj, key);
  if (!o) return o.error();
  auto seq = read_u64(**o, "seq");
  if (!seq) return seq.error();
  auto epoch = read_u64(**o, "epoch");
  if (!epoch) return epoch.error();
  if (*seq == 0 && *epoch != 0) return bad("field '" + std::string(key) + "': seq 0 has epoch 0");
  return LogPos{*seq, *epoch};
}

Result<View> read_view(const Json& obj, int count) {
  auto o = read_object(obj, "view");
  if (!o) return o.error();
  View v;
  auto epoch = read_u64(**o, "epoch");
  if (!epoch) return epoch.error();
  auto version = read_u64(**o, "version");
  if (!version) return version.error();
  v.epoch = *epoch;
  v.version = *version;
  const Json* isr = (*o)->find("isr");
  if (!isr || !isr->is_array() || isr->size() == 0 || isr->size() > static_cast<size_t>(count)) {
    return bad("field 'isr' must be a non-empty array of tracker indices");
  }
  for (const Json& i : isr->as_array()) {
    if (!i.is_int() || i.as_int() < 1 || i.as_int() > count ||
        (!v.isr.empty() && i.as_int() <= v.isr.back())) {
      return bad("field 'isr' must hold tracker indices (1-" + std::to_string(count) +
                 ") in increasing order");
    }
    v.isr.push_back(static_cast<int>(i.as_int()));
  }
  return v;
}

Result<std::string> read_bytes(const Json& obj, std::string_view key) {
  const Json* v = obj.find(key);
  if (!v) return bad("missing field '" + std::string(key) + "'");
  if (!v->is_string()) return bad("field '" + std::string(key) + "' must be a base64 string");
  auto bytes = base64_decode(v->as_string());
  if (!bytes) return bad("field '" + std::string(key) + "' is not valid base64");
  return bytes;
}

template <class E>
std::optional<E> from_name(std::string_view name, std::initializer_list<E> all,
                           const char* (*namer)(E)) {
  for (E e : all) {
    if (name == namer(e)) return e;
  }
  return std::nullopt;
}

Status read_entries(const Json& j, Message& m) {
  const Json* entries = j.find("entries");
  if (!entries || !entries->is_array()) return bad("field 'entries' must be an array");
  if (entries->size() > kMaxWireEntries) {
    return bad("field 'entries' holds more than " + std::to_string(kMaxWireEntries));
  }
  uint64_t seq = m.prev.seq;
  uint64_t epoch = m.prev.epoch;
  for (const Json& e : entries->as_array()) {
    if (!e.is_object()) return bad("field 'entries' must hold objects");
    auto s = read_u64(e, "seq");
    if (!s) return s.error();
    auto ep = read_u64(e, "epoch");
    if (!ep) return ep.error();
    auto record = read_bytes(e, "record");
    if (!record) return record.error();
    // Consecutive after prev, epochs never going back, none beyond the
    // sender's view: what the replica relies on when it appends them.
    if (*s != seq + 1) return bad("entries must follow 'prev' without gaps");
    if (*ep < epoch || *ep > m.view.epoch || *ep == 0) {
      return bad("entry epochs must be between the previous one and the view's");
    }
    seq = *s;
    epoch = *ep;
    m.entries.push_back(Entry{seq, epoch, std::move(*record)});
  }
  return Ok{};
}

Status read_snapshot(const Json& j, Message& m) {
  auto total = read_u64(j, "total");
  if (!total) return total.error();
  auto offset = read_u64(j, "offset");
  if (!offset) return offset.error();
  auto bytes = read_bytes(j, "bytes");
  if (!bytes) return bytes.error();
  auto done = j.get_bool("done");
  if (!done) return bad("field 'done' must be true or false");
  if (*offset > *total || bytes->size() > *total - *offset) {
    return bad("snapshot chunk goes past 'total'");
  }
  if (*done != (*offset + bytes->size() == *total)) {
    return bad("'done' must be set on the last chunk only");
  }
  m.total = *total;
  m.offset = *offset;
  m.bytes = std::move(*bytes);
  m.done = *done;
  return Ok{};
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  // EVP_EncodeBlock takes an int length: encode in pieces of 3 * 2^20.
  constexpr size_t kPiece = 3u << 20;
  size_t in = 0, at = 0;
  while (in < bytes.size()) {
    const size_t n = std::min(kPiece, bytes.size() - in);
    at += static_cast<size_t>(
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                        reinterpret_cast<const unsigned char*>(bytes.data() + in), static_cast<int>(n)));
    in += n;
  }
  out.resize(at);
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  // Strict: groups of four from the standard alphabet, '=' only as the
  // padding of the last group. OpenSSL alone would skip whitespace.
  if (text.size() % 4 != 0) return bad("base64 length is not a multiple of 4");
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                       (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '=')) {
      ++pad;
    } else if (!alpha) {
      return bad("base64 has a character outside its alphabet");
    }
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  constexpr size_t kPiece = 4u << 20;
  for (size_t in = 0; in < text.size(); in += kPiece) {
    const size_t n = std::min(kPiece, text.size() - in);
    const size_t at = out.size();
    out.resize(at + n / 4 * 3);
    const int got = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                                    reinterpret_cast<const unsigned char*>(text.data() + in),
                                    static_cast<int>(n));
    if (got < 0 || static_cast<size_t>(got) != n / 4 * 3) return bad("base64 does not decode");
  }
  out.resize(out.size() - pad);  // EVP_DecodeBlock counts padding as zero bytes
  return out;
}

Json replica_message_json(const Message& m) {
  Json j = Json::object();
  j["kind"] = kind_name(m.kind);
  j["from"] = m.from;
  j["to"] = m.to;
  j["view"] = view_json(m.view);
  j["role"] = role_name(m.role);
  j["last"] = pos_json(m.last);
  j["commit"] = m.commit;
  j["primary"] = m.primary;
  j["mark"] = m.mark;
  j["echo"] = m.echo;
  switch (m.kind) {
    case MessageKind::append: {
      j["prev"] = pos_json(m.prev);
      Json entries = Json::array();
      for (const Entry& e : m.entries) {
        Json je = Json::object();
        je["seq"] = e.seq;
        je["epoch"] = e.epoch;
        je["record"] = base64_encode(e.record);
        entries.push_back(std::move(je));
      }
      j["entries"] = std::move(entries);
      break;
    }
    case MessageKind::snapshot:
      j["prev"] = pos_json(m.prev);
      j["total"] = m.total;
      j["offset"] = m.offset;
      j["bytes"] = base64_encode(m.bytes);
      j["done"] = m.done;
      break;
    case MessageKind::ack:
      if (m.received) j["received"] = *m.received;
      break;
    case MessageKind::ping:
    case MessageKind::refuse:
      break;
  }
  return j;
}

std::string encode_replica_message(const Message& m) { return replica_message_json(m).dump(); }

Result<Message> replica_message_from_json(const Json& j, int count) {
  if (!j.is_object()) return bad("a replication message must be a JSON object");
  Message m;
  const auto kind_text = j.get_string("kind");
  const auto kind = kind_text ? from_name<MessageKind>(*kind_text,
                                                       {MessageKind::ping, MessageKind::append,
                                                        MessageKind::ack, MessageKind::refuse,
                                                        MessageKind::snapshot},
                                                       kind_name)
                              : std::nullopt;
  if (!kind) return bad("field 'kind' must be ping, append, ack, refuse or snapshot");
  m.kind = *kind;
  auto from = read_index(j, "from", count, false);
  if (!from) return from.error();
  auto to = read_index(j, "to", count, false);
  if (!to) return to.error();
  if (*from == *to) return bad("fields 'from' and 'to' name the same tracker");
  m.from = *from;
  m.to = *to;
  auto view = read_view(j, count);
  if (!view) return view.error();
  m.view = std::move(*view);
  const auto role_text = j.get_string("role");
  const auto role = role_text ? from_name<Role>(*role_text,
                                                {Role::recovering, Role::backup, Role::candidate,
                                                 Role::primary},
                                                role_name)
                              : std::nullopt;
  if (!role) return bad("field 'role' must be recovering, backup, candidate or primary");
  m.role = *role;
  auto last = read_pos(j, "last");
  if (!last) return last.error();
  if (last->epoch > m.view.epoch) return bad("field 'last' is of an epoch after the view's");
  m.last = *last;
  auto commit = read_u64(j, "commit");
  if (!commit) return commit.error();
  m.commit = *commit;
  auto primary = read_index(j, "primary", count, true);
  if (!primary) return primary.error();
  m.primary = *primary;
  auto mark = read_u64(j, "mark");
  if (!mark) return mark.error();
  m.mark = *mark;
  auto echo = read_u64(j, "echo");
  if (!echo) return echo.error();
  m.echo = *echo;

  switch (m.kind) {
    case MessageKind::append: {
      auto prev = read_pos(j, "prev");
      if (!prev) return prev.error();
      if (prev->epoch > m.view.epoch) return bad("field 'prev' is of an epoch after the view's");
      m.prev = *prev;
      if (prev->seq > std::numeric_limits<uint64_t>::max() - kMaxWireEntries) {
        return bad("field 'prev' is out of range");
      }
      if (Status s = read_entries(j, m); !s) return s.error();
      break;
    }
    case MessageKind::snapshot: {
      auto prev = read_pos(j, "prev");
      if (!prev) return prev.error();
      if (prev->epoch > m.view.epoch) return bad("field 'prev' is of an epoch after the view's");
      m.prev = *prev;
      if (Status s = read_snapshot(j, m); !s) return s.error();
      break;
    }
    case MessageKind::ack:
      if (j.find("received")) {
        auto received = read_u64(j, "received");
        if (!received) return received.error();
        m.received = *received;
      }
      break;
    case MessageKind::ping:
    case MessageKind::refuse:
      break;
  }
  return m;
}

Result<Message> decode_replica_message(std::string_view text, int count) {
  auto j = Json::parse(text);
  if (!j) return bad("not JSON: " + j.error().message);
  return replica_message_from_json(*j, count);
}

}  // namespace gs::tracker
