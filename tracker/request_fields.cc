#include "request_fields.h"

#include "names.h"

namespace gs::tracker {
namespace {

constexpr size_t kTokenHexDigits = 64;
constexpr size_t kMaxSeatHexDigits = 128;
constexpr size_t kFileIdHexDigits = 64;

bool is_hex(char c, bool allow_upper) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (allow_upper && c >= 'A' && c <= 'F');
}

bool all_hex(std::string_view s, bool allow_upper) {
  for (char c : s) {
    if (!is_hex(c, allow_upper)) return false;
  }
  return true;
}

}  // namespace

Error bad_request(std::string message) { return make_error("bad_request", std::move(message)); }

Result<std::string> RequestFields::string(std::string_view key) const {
  const Json* v = request_.find(key);
  if (!v) return bad_request("missing field '" + std::string(key) + "'");
  if (!v->is_string()) return bad_request("field '" + std::string(key) + "' must be a string");
  return v->as_string();
}

Result<std::string> RequestFields::name(std::string_view key, std::string_view what) const {
  auto v = string(key);
  if (!v) return v;
  if (!valid_name(*v)) {
    return bad_request("field '" + std::string(key) + "' is not a valid " + std::string(what) +
                       " name (1-64 of A-Z a-z 0-9 . _ -, not starting with . or -)");
  }
  return v;
}

Result<std::string> RequestFields::password(std::string_view key) const {
  auto v = string(key);
  if (!v) return v;
  if (!valid_password(*v)) {
    return bad_request("field '" + std::string(key) + "' must be a password of 1-" +
                       std::to_string(kMaxPasswordLength) + " bytes");
  }
  return v;
}

Result<std::string> RequestFields::token(std::string_view key) const {
  auto v = string(key);
  if (!v) return v;
  if (v->size() != kTokenHexDigits || !all_hex(*v, false)) {
    return bad_request("field '" + std::string(key) + "' must be a session token (64 hex digits)");
  }
  return v;
}

Result<std::string> RequestFields::seat(std::string_view key) const {
  auto v = string(key);
  if (!v) return v;
  if (v->empty() || v->size() > kMaxSeatHexDigits || !all_hex(*v, true)) {
    return bad_request("field '" + std::string(key) + "' must be a seat id (1-" +
                       std::to_string(kMaxSeatHexDigits) + " hex digits)");
  }
  return v;
}

Result<std::string> RequestFields::optional_request_id(std::string_view key) const {
  if (!request_.find(key)) return std::string();
  auto v = string(key);
  if (!v) return v;
  if (v->size() < 16 || v->size() > 64 || !all_hex(*v, true)) {
    return bad_request("field '" + std::string(key) + "' must be a request id (16-64 hex digits)");
  }
  return v;
}

Result<int64_t> RequestFields::integer(std::string_view key) const {
  const Json* v = request_.find(key);
  if (!v) return bad_request("missing field '" + std::string(key) + "'");
  if (!v->is_int()) return bad_request("field '" + std::string(key) + "' must be an integer");
  return v->as_int();
}

Result<bool> RequestFields::optional_flag(std::string_view key) const {
  const Json* v = request_.find(key);
  if (!v) return false;
  if (!v->is_bool()) return bad_request("field '" + std::string(key) + "' must be true or false");
  return v->as_bool();
}

Result<std::optional<uint16_t>> RequestFields::optional_port(std::string_view key) const {
  const Json* v = request_.find(key);
  if (!v) return std::optional<uint16_t>();
  if (!v->is_int() || v->as_int() < 1 || v->as_int() > 65535) {
    return bad_request("field '" + std::string(key) + "' must be a port number (1-65535)");
  }
  return std::optional<uint16_t>(static_cast<uint16_t>(v->as_int()));
}

Result<std::string> RequestFields::file_name(std::string_view key) const {
  auto v = string(key);
  if (!v) return v;
  if (std::string problem = file_name_problem(*v); !problem.empty()) {
    return bad_request("field '" + std::string(key) + "' is not a valid file name: " + problem + " (1-" +
                       std::to_string(kMaxFileNameLength) + " bytes, no '/' or control character, not . or ..)");
  }
  return v;
}

Result<std::string> RequestFields::file_id(std::string_view key) const {
  auto v = string(key);
  if (!v) return v;
  if (v->size() != kFileIdHexDigits || !all_hex(*v, true)) {
    return bad_request("field '" + std::string(key) + "' must be a file id (64 hex digits)");
  }
  for (char& c : *v) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return v;
}

}  // namespace gs::tracker
