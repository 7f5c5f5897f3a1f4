#include "command_parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "help.h"
#include "names.h"
#include "render.h"

namespace gs::ctl {
namespace {

// A usage error: what is wrong, then the usage line of the command (or of
// gsctl) and where to read more.
Error usage_error(const std::string& what, const CommandSpec* spec) {
  std::string text = "gsctl: " + what + "\n";
  if (spec) {
    text += usage_line(*spec);
    text += "Try 'gsctl help " + std::string(spec->name) + "' for more.\n";
  } else {
    text += "usage: gsctl [OPTIONS] COMMAND [ARGS...]\n";
    text += "Try 'gsctl --help' for the list of commands and options.\n";
  }
  return make_error("usage", text);
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

Error unknown_command(std::string_view name, const std::vector<CommandSpec>& table) {
  std::string what = "unknown command " + quoted(name);
  // Typos like "create-user" or "list_group" get a pointer to the real name.
  // Long inputs are skipped: they are not typos and the distance is quadratic.
  if (name.size() <= 64) {
    const CommandSpec* best = nullptr;
    size_t best_distance = 3;
    for (const CommandSpec& c : table) {
      const size_t d = edit_distance(name, c.name);
      if (d < best_distance) best = &c, best_distance = d;
    }
    if (best) what += "; did you mean '" + std::string(best->name) + "'?";
  }
  return usage_error(what, nullptr);
}

// Checks one positional argument against its kind; returns the problem or "".
std::string check_arg(const ArgSpec& spec, const std::string& value) {
  switch (spec.kind) {
    case ArgKind::user:
    case ArgKind::group:
      if (valid_name(value)) return {};
      return std::string("invalid ") + (spec.kind == ArgKind::user ? "user" : "group") + " name " +
             quoted(value) + ": names are " + std::string(kNameRule);
    case ArgKind::password:
      if (!valid_password(value)) {
        return "a password must be 1-" + std::to_string(kMaxPasswordLength) + " bytes long";
      }
      if (!valid_utf8(value)) return "the password is not UTF-8 text, which gsd needs";
      return {};
    case ArgKind::file_name:
      if (std::string problem = file_name_problem(value); !problem.empty()) {
        return "invalid file name " + quoted(value) + ": " + problem + "; " + std::string(kFileNameRule);
      }
      if (!valid_utf8(value)) return "the file name " + quoted(value) + " is not UTF-8 text";
      return {};
    case ArgKind::text:
    case ArgKind::local_path:
    case ArgKind::shared_path:
      if (value.empty()) return std::string(spec.metavar) + " must not be empty";
      if (!valid_utf8(value)) return std::string(spec.metavar) + " is not UTF-8 text";
      if (spec.kind == ArgKind::text) return {};
      if (std::string problem = path_problem(value, spec.metavar); !problem.empty()) {
        return problem + ": " + quoted(value);
      }
      if (spec.kind == ArgKind::shared_path) {
        const std::string name = value.substr(value.find_last_of('/') + 1);
        if (std::string problem = file_name_problem(name); !problem.empty()) {
          return std::string(spec.metavar) + " " + quoted(value) +
                 " cannot be shared under its last part: " + problem + "; " + std::string(kFileNameRule);
        }
      }
      return {};
  }
  return {};
}


// `path` anchored at `cwd` when relative, with leading "./" steps dropped
// ("./a" -> cwd/a, "." -> cwd). ".." is kept: with symlinks it cannot be
// resolved by looking at the text.
std::string absolute_path(const std::string& cwd, const std::string& path) {
  if (path.starts_with('/') || cwd.empty()) return path;
  std::string_view rest = path;
  while (rest.starts_with("./")) {
    rest.remove_prefix(2);
    while (rest.starts_with('/')) rest.remove_prefix(1);
  }
  if (rest == ".") rest = {};
  std::string out = cwd;
  if (rest.empty()) return out;
  if (!out.ends_with('/')) out += '/';
  out.append(rest);
  return out;
}

// Seconds as a duration; nullopt unless a finite number in (0, kMaxTimeoutSeconds].
std::optional<std::chrono::milliseconds> parse_timeout(const std::string& text) {
  if (text.empty()) return std::nullopt;
  // from_chars rather than strtod: no leading spaces, '+' or hex floats, and no
  // locale; the "inf" and "nan" it does accept are refused below.
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (!std::isfinite(seconds) || seconds <= 0 || seconds > kMaxTimeoutSeconds) return std::nullopt;
  const auto ms = static_cast<long long>(std::ceil(seconds * 1000));
  return std::chrono::milliseconds(std::max(1LL, ms));
}


}  // namespace

namespace {

// A flag of some command that takes a value: options come before the
// command is known, so any command's will do (a flag of another command is
// refused once the command is known).
const FlagSpec* valued_flag(const std::vector<CommandSpec>& table, std::string_view name) {
  for (const CommandSpec& c : table) {
    for (const FlagSpec& f : c.flags) {
      if (f.name == name && !f.metavar.empty()) return &f;
    }
  }
  return nullptr;
}

}  // namespace

Result<Invocation> parse_command_line(std::span<const std::string> args, const Environment& env,
                                      const std::vector<CommandSpec>& table) {
  Invocation inv;
  std::optional<std::string> socket_option;
  // Not gsctl's own: a flag of the command, or an error. Sorted out once
  // the command is known, since options may come before it.
  std::vector<std::string> other_options;
  bool help = false, version = false, options_done = false;
  std::vector<std::string> words;

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
      words.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    // --name=value or --name value for the options that take a value.
    const size_t eq = a.starts_with("--") ? a.find('=') : std::string::npos;
    const std::string name = a.substr(0, eq);
    std::optional<std::string> inline_value;
    if (eq != std::string::npos) inline_value = a.substr(eq + 1);
    auto value = [&](std::string_view metavar) -> Result<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size())
        return usage_error(name + " needs " + std::string(metavar), nullptr);
      return args[++i];
    };

    if (name == "--socket") {
      auto v = value("a PATH");
      if (!v) return v.error();
      if (v->empty()) return usage_error("--socket needs a non-empty PATH", nullptr);
      socket_option = *v;
    } else if (name == "--timeout") {
      auto v = value("SECONDS");
      if (!v) return v.error();
      const auto t = parse_timeout(*v);
      if (!t) {
        return usage_error("--timeout needs a number of seconds greater than 0 and at most " +
                               std::to_string(static_cast<int>(kMaxTimeoutSeconds)) + ", not " +
                               quoted(*v),
                           nullptr);
      }
      inv.timeout = *t;
    } else if (inline_value && (name == "--json" || name == "--password-stdin" ||
                                name == "--help" || name == "--version")) {
      return usage_error(name + " takes no value", nullptr);
    } else if (name == "--json") {
      inv.json = true;
    } else if (name == "--password-stdin") {
      inv.password_stdin = true;
    } else if (name == "-h" || name == "--help") {
      help = true;
    } else if (name == "--version") {
      version = true;
    } else if (const FlagSpec* f = valued_flag(table, name); f && !inline_value) {
      // A command's flag that takes a value: the next word is that value,
      // not a positional argument.
      auto v = value(f->metavar);
      if (!v) return v.error();
      other_options.push_back(name + "=" + *v);
    } else {
      other_options.push_back(a);
    }
  }

  const CommandSpec* spec = nullptr;
  if (!words.empty() && words[0] != "help") spec = find_command(words[0], table);

  std::optional<std::string> bad_option;
  for (const std::string& o : other_options) {
    const FlagSpec* flag = nullptr;
    const std::string name = o.substr(0, o.find('='));
    if (spec) {
      for (const FlagSpec& f : spec->flags) {
        if (f.name == name) flag = &f;
      }
    }
    if (!flag) {
      bad_option = o;
      break;
    }
    if (name != o && flag->metavar.empty()) return usage_error(name + " takes no value", spec);
    if (!flag->metavar.empty()) {
      if (name == o) return usage_error(name + " needs " + std::string(flag->metavar), spec);
      const std::string v = o.substr(name.size() + 1);
      if (flag->check) {
        if (std::string problem = flag->check(v); !problem.empty())
          return usage_error(name + ": " + problem, spec);
      }
      std::erase_if(inv.flag_values, [&](const auto& fv) { return fv.first == flag->name; });
      inv.flag_values.emplace_back(flag->name, v);
    }
    if (std::find(inv.flags.begin(), inv.flags.end(), flag) == inv.flags.end()) {
      inv.flags.push_back(flag);
    }
  }
  if (bad_option) {
    std::string what = "unknown option " + quoted(*bad_option);
    if (spec && takes_password(*spec)) {
      what += " (a PASSWORD that starts with '-' goes after '--': gsctl " +
              std::string(spec->name) + " USER -- PASSWORD)";
    }
    return usage_error(what, spec);
  }
  if (socket_option) {
    inv.socket_path = *socket_option;
  } else if (env.gsd_socket && !env.gsd_socket->empty()) {
    inv.socket_path = *env.gsd_socket;
  } else {
    inv.socket_path = env.default_socket;
  }
  if (version) {
    inv.action = Action::show_version;
    return inv;
  }

  // `gsctl help [COMMAND]`, `gsctl --help`, `gsctl COMMAND --help`.
  if (help || (!words.empty() && words[0] == "help")) {
    inv.action = Action::show_help;
    const bool help_word = !words.empty() && words[0] == "help";
    const size_t first = help_word ? 1 : 0;
    // `gsctl COMMAND ARGS... --help` is someone halfway through typing a
    // command: help with it, whatever the arguments so far.
    if (!help_word && words.size() > 1) words.resize(1);
    if (words.size() > first + 1) {
      return usage_error(
          "help takes at most one COMMAND, got " + std::to_string(words.size() - first), nullptr);
    }
    if (words.size() == first + 1 && words[first] != kShellWord) {
      inv.command = find_command(words[first], table);
      if (!inv.command) return unknown_command(words[first], table);
    }
    return inv;
  }

  if (!words.empty() && words[0] == kShellWord) {
    if (words.size() > 1) {
      return usage_error("shell takes no arguments: it reads the commands from stdin", nullptr);
    }
    if (inv.password_stdin) {
      return usage_error("--password-stdin: in the shell, a PASSWORD goes on the command's line",
                         nullptr);
    }
    inv.action = Action::shell;
    return inv;
  }
  // Not in the help: the bash completion's and the man page's way in.
  if (!words.empty() && (words[0] == kCompleteWord || words[0] == kManWord)) {
    inv.action = words[0] == kCompleteWord ? Action::complete : Action::man_commands;
    inv.args.assign(words.begin() + 1, words.end());
    return inv;
  }

  if (words.empty()) return usage_error("no command given", nullptr);
  if (!spec) return unknown_command(words[0], table);
  inv.command = spec;
  inv.args.assign(words.begin() + 1, words.end());

  size_t required = 0;
  for (const ArgSpec& a : spec->args) required += a.optional ? 0 : 1;
  if (inv.args.size() < required) {
    std::string missing;
    for (size_t k = inv.args.size(); k < required; ++k) {
      missing += (missing.empty() ? "" : " ") + std::string(spec->args[k].metavar);
    }
    return usage_error(std::string(spec->name) + ": missing " + missing, spec);
  }
  if (inv.args.size() > spec->args.size()) {
    return usage_error(
        std::string(spec->name) + ": unexpected argument " + quoted(inv.args[spec->args.size()]),
        spec);
  }
  for (size_t k = 0; k < inv.args.size(); ++k) {
    if (std::string problem = check_arg(spec->args[k], inv.args[k]); !problem.empty()) {
      return usage_error(problem, spec);
    }
  }

  if (inv.password_stdin) {
    if (!takes_password(*spec)) {
      return usage_error("--password-stdin: " + std::string(spec->name) + " takes no password",
                         spec);
    }
    if (!needs_password(inv)) {
      return usage_error("the password was given both as an argument and with --password-stdin",
                         spec);
    }
  }

  return inv;
}

bool needs_password(const Invocation& inv) {
  if (!inv.command) return false;
  for (size_t k = 0; k < inv.command->args.size(); ++k) {
    if (inv.command->args[k].kind == ArgKind::password && k >= inv.args.size()) return true;
  }
  return false;
}

bool has_flag(const Invocation& inv, std::string_view name) {
  return std::any_of(inv.flags.begin(), inv.flags.end(),
                     [&](const FlagSpec* f) { return f->name == name; });
}

Result<std::vector<std::string>> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;  // '"' or '\'' while inside quotes
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        word += c;
      }
      continue;
    }
    if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) {
        word += line[++i];
      } else {
        word += c;
      }
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
    } else {
      word += c;
    }
  }
  if (quote) {
    return make_error("usage", std::string("gsctl: the line ends inside ") +
                                   (quote == '"' ? "\"double quotes\"" : "'single quotes'") +
                                   "; close them\n");
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

Json build_request(const Invocation& inv, const std::optional<std::string>& password,
                   const std::string& cwd) {
  Json args = Json::object();
  const CommandSpec& spec = *inv.command;
  for (size_t k = 0; k < spec.args.size(); ++k) {
    const ArgSpec& a = spec.args[k];
    if (k >= inv.args.size()) {
      if (a.kind == ArgKind::password && password) args[a.field] = *password;
      continue;
    }
    std::string value = inv.args[k];
    if (a.kind == ArgKind::local_path || a.kind == ArgKind::shared_path) value = absolute_path(cwd, value);
    args[a.field] = std::move(value);
  }
  for (const FlagSpec& f : spec.flags) {
    if (f.field.empty()) continue;
    if (f.metavar.empty()) {
      args[f.field] = std::find(inv.flags.begin(), inv.flags.end(), &f) != inv.flags.end();
      continue;
    }
    for (const auto& [name, value] : inv.flag_values) {
      if (name == f.name) args[f.field] = value;
    }
  }
  Json request(Json::Object{{"cmd", std::string(spec.name)}, {"args", std::move(args)}});
  if (spec.progress) request["progress"] = true;
  return request;
}

}  // namespace gs::ctl
