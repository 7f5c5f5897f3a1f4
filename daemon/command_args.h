// Checks of control-command arguments, shared by every command file: each
// returns the value or a bad_request error in plain words naming the argument.
#pragma once

#include <string>
#include <string_view>

#include "json.h"
#include "result.h"

namespace gs::daemon {

Error bad_request(std::string message);

// Echoing what a client sent: short, so a 1 MiB argument does not come back whole.
std::string shown(std::string_view s);

Result<std::string> string_arg(const Json& args, std::string_view key);
// A user or group name (gs::valid_name); `what` is "user" or "group".
Result<std::string> name_arg(const Json& args, std::string_view key, const char* what);
Result<std::string> file_name_arg(const Json& args, std::string_view key);
Result<std::string> password_arg(const Json& args);
// gsd's working directory is not the user's: only an absolute path means the
// same place to both. A NUL or another control character is refused (see
// gs::path_problem). `what` names it in the message ("path", "destination").
Result<std::string> absolute_path_arg(const Json& args, std::string_view key, const char* what);

}  // namespace gs::daemon
