#include "complete.h"

#include <algorithm>
#include <ostream>

#include "control_client.h"

namespace gs::ctl {
namespace {

constexpr std::chrono::milliseconds kMaxCompleteWait{2000};

// The global options, as the help lists them (command_parser.cc parses them).
constexpr std::string_view kGlobalOptions[] = {"--socket",  "--json", "--password-stdin",
                                               "--timeout", "--help", "--version"};

std::string_view kind_word(ArgKind kind) {
  switch (kind) {
    case ArgKind::user:
      return "user";
    case ArgKind::group:
      return "group";
    case ArgKind::password:
      return "password";
    case ArgKind::file_name:
      return "file_name";
    case ArgKind::text:
      return "text";
    case ArgKind::local_path:
    case ArgKind::shared_path:
      return "path";
  }
  return {};
}

// Asks gsd `cmd` with `args` and prints field `field` of each item of the
// list it answers, one per line; names with a newline (none are valid) are
// left out, since they would break the one-per-line answer.
int print_names(const Invocation& inv, const Json& request_args, std::string_view cmd,
                std::string_view field, std::ostream& out) {
  const std::string request =
      Json(Json::Object{{"cmd", std::string(cmd)}, {"args", request_args}}).dump();
  auto line = exchange(inv.socket_path, request, std::min(inv.timeout, kMaxCompleteWait));
  if (!line) return kExitUnreachable;
  auto answer = decode_answer(*line);
  if (!answer || !answer->ok || !answer->result.is_array()) return kExitRefused;
  for (const Json& item : answer->result.as_array()) {
    const auto name = item.get_string(field);
    if (name && name->find('\n') == std::string::npos) out << *name << "\n";
  }
  return kExitOk;
}

}  // namespace

int run_complete(const Invocation& inv, std::ostream& out) {
  const std::vector<std::string>& a = inv.args;
  const std::string what = a.empty() ? "" : a[0];
  if (what == "commands") {
    for (const CommandSpec& c : command_table()) out << c.name << "\n";
    out << "help\n" << kShellWord << "\n";
    return kExitOk;
  }
  if (what == "options") {
    for (std::string_view o : kGlobalOptions) out << o << "\n";
    if (a.size() > 1) {
      if (const CommandSpec* spec = find_command(a[1])) {
        for (const FlagSpec& f : spec->flags) out << f.name << "\n";
      }
    }
    return kExitOk;
  }
  if (what == "arg" && a.size() == 3) {
    size_t n = 0;
    try {
      n = std::stoul(a[2]);
    } catch (const std::exception&) {
      return kExitUsage;
    }
    if (a[1] == "help") {
      if (n == 0) out << "command\n";
      return kExitOk;
    }
    const CommandSpec* spec = find_command(a[1]);
    if (!spec) return kExitRefused;
    if (n < spec->args.size()) out << kind_word(spec->args[n].kind) << "\n";
    return kExitOk;
  }
  if (what == "groups") return print_names(inv, Json::object(), "list_groups", "group", out);
  if (what == "files" && a.size() == 2) {
    return print_names(inv, Json(Json::Object{{"group", a[1]}}), "list_files", "name", out);
  }
  return kExitUsage;
}

}  // namespace gs::ctl
