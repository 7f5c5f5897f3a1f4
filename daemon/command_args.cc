#include "command_args.h"

#include "names.h"

namespace gs::daemon {

// Messages are built with += : GCC 12 warns falsely (-Wrestrict) about
// "'" + std::string + "..." chains in optimised builds.

Error bad_request(std::string message) { return make_error("bad_request", std::move(message)); }

std::string shown(std::string_view s) {
  constexpr size_t kShown = 200;
  if (s.size() <= kShown) return std::string(s);
  std::string out(s.substr(0, kShown));
  out += "...";
  return out;
}

Result<std::string> string_arg(const Json& args, std::string_view key) {
  const Json* v = args.find(key);
  std::string m = "argument '";
  m += key;
  if (!v) return bad_request("missing " + m + "'");
  if (!v->is_string()) return bad_request(m + "' must be a string");
  return v->as_string();
}

Result<std::string> name_arg(const Json& args, std::string_view key, const char* what) {
  auto v = string_arg(args, key);
  if (!v) return v;
  if (!valid_name(*v)) {
    std::string m = "'";
    m += shown(*v);
    m += "' is not a valid ";
    m += what;
    m += " name: use 1-64 characters of A-Z a-z 0-9 . _ -, not starting with . or -";
    return bad_request(std::move(m));
  }
  return v;
}

Result<std::string> file_name_arg(const Json& args, std::string_view key) {
  auto v = string_arg(args, key);
  if (!v) return v;
  if (std::string problem = file_name_problem(*v); !problem.empty()) {
    // Not echoed: the name may hold control characters meant for a terminal.
    std::string m = "argument '";
    m += key;
    m += "' is not a valid file name: ";
    m += problem;
    m += " (names are 1-";
    m += std::to_string(kMaxFileNameLength);
    m += " bytes, without '/' or control characters, not . or ..)";
    return bad_request(std::move(m));
  }
  return v;
}

Result<std::string> password_arg(const Json& args) {
  auto v = string_arg(args, "password");
  if (!v) return v;
  if (!valid_password(*v)) {
    return bad_request("a password must be 1-" + std::to_string(kMaxPasswordLength) + " bytes long");
  }
  return v;
}

Result<std::string> absolute_path_arg(const Json& args, std::string_view key, const char* what) {
  auto v = string_arg(args, key);
  if (!v) return v;
  if (std::string problem = path_problem(*v, what); !problem.empty()) {
    std::string m = "the ";
    m += problem;
    return bad_request(std::move(m));
  }
  if (v->empty() || (*v)[0] != '/') {
    std::string m = "the ";
    m += what;
    m += " must be an absolute path, not '";
    m += shown(*v);
    m += "'";
    return bad_request(std::move(m));
  }
  return v;
}

}  // namespace gs::daemon
