// Reading the fields of one tracker request. The request came off the
// network, so every field is checked for presence, type and form; the first
// problem becomes a bad_request error whose message names the field. Values
// that failed a check are never echoed back: they might hold anything, and
// the message ends up on someone's terminal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "json.h"
#include "result.h"

namespace gs::tracker {

Error bad_request(std::string message);

class RequestFields {
 public:
  explicit RequestFields(const Json& request) : request_(request) {}

  // Any string.
  Result<std::string> string(std::string_view key) const;
  // A user or group name (gs::valid_name); `what` is "user" or "group".
  Result<std::string> name(std::string_view key, std::string_view what) const;
  Result<std::string> password(std::string_view key) const;
  // A session token as issued by login: 64 lowercase hex digits.
  Result<std::string> token(std::string_view key) const;
  // A daemon's seat id: 1-128 hex digits.
  Result<std::string> seat(std::string_view key) const;
  // A client's request id (16-64 hex digits), which the request may leave
  // out (then empty).
  Result<std::string> optional_request_id(std::string_view key) const;
  // Any integer (a real, even an integral one, is refused).
  Result<int64_t> integer(std::string_view key) const;
  // true or false, which the request may leave out (then false).
  Result<bool> optional_flag(std::string_view key) const;
  // A TCP port, 1-65535, which the request may leave out.
  Result<std::optional<uint16_t>> optional_port(std::string_view key) const;
  // A shared file's name (gs::valid_file_name).
  Result<std::string> file_name(std::string_view key) const;
  // A file id: 64 hex digits, returned in lowercase as the catalogue keeps it.
  Result<std::string> file_id(std::string_view key) const;

 private:
  const Json& request_;
};

}  // namespace gs::tracker
