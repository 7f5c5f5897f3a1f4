#include "commands.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "names.h"
#include "rate_text.h"
#include "render.h"

namespace gs::ctl {
namespace {

constexpr size_t kHelpWidth = 79;
constexpr std::string_view kNameRule =
    "1-64 characters of A-Z a-z 0-9 . _ -, not starting with '.' or '-'";
constexpr std::string_view kFileNameRule =
    "file names are 1-255 bytes without '/' or control characters, and not '.' or '..'";

constexpr ArgSpec kUser{"USER", "user", ArgKind::user};
constexpr ArgSpec kGroup{"GROUP", "group", ArgKind::group};
constexpr ArgSpec kPassword{"PASSWORD", "password", ArgKind::password, /*optional=*/true};
constexpr ArgSpec kFileName{"NAME", "name", ArgKind::file_name, /*optional=*/false,
                            "the file's name in the group, as 'gsctl list_files GROUP' shows it"};

std::string check_rate(std::string_view v) {
  if (v == "default" || parse_rate(v)) return {};
  return "'" + std::string(v) +
         "' is not a rate: bytes per second like 10M, 500K or 2048 (0 is unlimited), "
         "or 'default'";
}

std::string check_count(std::string_view v) {
  if (v == "default") return {};
  const bool digits = !v.empty() && v.size() <= 6 &&
                      std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) return {};
  return "'" + std::string(v) + "' is not a number of peers (0 is unlimited), or 'default'";
}

}  // namespace

const std::vector<CommandSpec>& command_table() {
  // The order here is the order of `gsctl --help`: accounts, groups, files.
  static const std::vector<CommandSpec> table = {
      {.name = "create_user",
       .args = {kUser, kPassword},
       .summary = "create an account on the tracker",
       .details = "This does not log in; run 'gsctl login USER' next. A prompted password is "
                  "asked for twice.",
       .render = render_message,
       .message = "created user '{user}'",
       .confirm_password = true},
      {.name = "login",
       .args = {kUser, kPassword},
       .summary = "log this daemon in as USER",
       .details = "A daemon serves one user at a time, and a user is logged in on one daemon at "
                  "a time. The session survives a restart of gsd.",
       .render = render_message,
       .message = "logged in as '{user}'"},
      {.name = "logout",
       .args = {},
       .summary = "log this daemon out",
       .render = render_message,
       .message = "logged out"},
      {.name = "status",
       .args = {},
       .summary = "show the user, tracker, seat and peer address",
       .render = render_status},
      {.name = "trackers",
       .args = {},
       .summary = "ask every tracker its role in the cluster, now",
       .details = "gsd asks each tracker of its trackers file directly, all at once (2 s at most "
                  "each), and shows one row per tracker: its ROLE (primary, backup, recovering), "
                  "EPOCH, LAST (the sequence number of its last write), BEHIND (how many writes "
                  "it lacks that the primary has), or why it could not be asked. '*' marks the "
                  "tracker this daemon's link uses. Trackers that are down do not make the "
                  "command fail: it exits 0 whenever gsd answered. --json prints the rows, with "
                  "the primary each tracker names and its commit point too.",
       .render = render_trackers},
      {.name = "create_group",
       .args = {kGroup},
       .summary = "create a group; you become its owner",
       .render = render_message,
       .message = "created group '{group}'; you are its owner"},
      {.name = "join_group",
       .args = {kGroup},
       .summary = "ask to join a group (its owner decides)",
       .render = render_message,
       .message = "asked to join '{group}'; the owner must accept"},
      {.name = "leave_group",
       .args = {kGroup},
       .summary = "leave a group",
       .details = "When the owner leaves, the longest-standing member becomes the owner; when "
                  "the last member leaves, the group and its pending requests are deleted.",
       .render = render_leave_group},
      {.name = "list_requests",
       .args = {kGroup},
       .summary = "list pending requests to join a group you own",
       .render = render_list_requests},
      {.name = "accept_request",
       .args = {kGroup, kUser},
       .summary = "let USER into a group you own",
       .render = render_message,
       .message = "accepted '{user}' into '{group}'"},
      {.name = "reject_request",
       .args = {kGroup, kUser},
       .summary = "turn down USER's request to join a group you own",
       .details = "A rejected user may ask again.",
       .render = render_message,
       .message = "rejected '{user}''s request to join '{group}'"},
      {.name = "list_groups",
       .args = {},
       .summary = "list all groups with owner and member count",
       .render = render_list_groups},
      // Files.
      {.name = "upload_file",
       .args = {{"PATH", "path", ArgKind::shared_path, /*optional=*/false,
                 "the regular file to share, on this machine (relative to the current "
                 "directory); it is shared under its own name, the last part of PATH, "
                 "which must be a valid NAME. A symbolic link is resolved once, now: gsd "
                 "serves the file it points to, and stops if a link is put in its place"},
                kGroup},
       .summary = "share a file on this machine with a group",
       .details = "gsd reads and hashes the file and lists it in the group's catalogue on the "
                  "tracker. Members download it from you while gsd runs and you are logged in, "
                  "so leave the file where it is and unchanged: gsd stops serving a file that "
                  "changed. The same content under the same name from another member makes you "
                  "one more source; other content under a name already taken is refused.",
       .render = render_upload_file},
      {.name = "list_files",
       .args = {kGroup},
       .summary = "list the files shared in a group",
       .details = "PEERS is how many members can send the file right now (sharers online, and "
                  "downloaders with part of it). FILE_ID, a hash of the content, is shortened; "
                  "--json shows it in full.",
       .render = render_list_files},
      {.name = "download_file",
       .args = {kGroup,
                kFileName,
                {"DEST", "dest", ArgKind::local_path, /*optional=*/false,
                 "where to save the file, on this machine: a new file's path, or an existing "
                 "directory to save it in under NAME"}},
       .flags = {{"--wait",
                  {},
                  "stay until the download is complete (exit 0) or has failed (exit 1); on a "
                  "terminal, with a progress bar on stderr"},
                 {"--force", "force", "replace DEST if it exists"}},
       .summary = "download a file shared in a group",
       .details = "gsd fetches the file's pieces from every member who has them, checks each "
                  "against its hash, and puts the file at DEST once all are in. gsctl returns "
                  "as soon as the download is queued; it goes on in gsd, pauses while this "
                  "daemon is logged out and survives a restart of gsd; 'gsctl show_downloads' "
                  "follows it. With --wait, gsctl asks gsd for the progress a few times a "
                  "second (each answer within --timeout) and prints one line when the file is "
                  "complete; Ctrl-C stops the waiting, not the download.",
       .render = render_download_file},
      {.name = "show_downloads",
       .args = {},
       .summary = "show this daemon's downloads and their progress",
       .details = "One line per download: [D] downloading, [C] complete, [P] paused (as while "
                  "logged out, or when the disk is full or failing), [F] failed; then the group "
                  "and file name, the percentage and bytes done, the rate, the peers sending, the "
                  "destination, and for a failed download why it failed, for one its disk paused "
                  "why ('paused: no space left in DIR (needs 12.0 MiB more)'). --json adds the "
                  "bytes from each source.",
       .render = render_show_downloads},
      {.name = "resume",
       .args = {kGroup, kFileName},
       .summary = "try a download that its disk paused again now",
       .details = "A download whose partial file cannot be written (disk full, quota, a write "
                  "or sync error) pauses instead of failing: nothing verified is lost, and it "
                  "tries again by itself, at once when the free space covers the rest of the "
                  "file, otherwise after 5 s, then twice as long after each try that fails "
                  "again, up to 60 s. This tries now. It exits 0 once gsd has tried (the "
                  "download may pause again: 'gsctl show_downloads' says why), 1 when the "
                  "download is complete, failed or unknown. A running download is left as it "
                  "is.",
       .render = render_resume},
      // Daemon settings.
      {.name = "limits",
       .args = {},
       .flags = {{"--upload", "upload",
                  "the upload rate to all peers together: bytes per second, "
                  "with K, M or G for 1024, 1024^2, 1024^3 (10M, 500K); 0 is unlimited; 'default' "
                  "goes back to the config's value",
                  "RATE", check_rate},
                 {"--download", "download", "the same for what downloads fetch", "RATE",
                  check_rate},
                 {"--peers", "peers",
                  "peer connections of all downloads together; 0 is no limit "
                  "but each download's own; 'default' goes back to the config's value",
                  "N", check_count},
                 {"--reset", "reset",
                  "drop every value set here: the config's (or the default) "
                  "applies again"}},
       .summary = "show or set the upload and download rates and the peer limit",
       .details = "Without flags it shows each limit and where its value comes from: 'runtime' "
                  "(set here), 'config' (gsd's TOML file) or 'default'. A value set here applies "
                  "at once, to running transfers too, and is kept in gsd's state, across "
                  "restarts, until --reset or 'default' clears it; it wins over the config "
                  "file, also after the file is changed and reloaded (SIGHUP), and the file's "
                  "value is shown beside it. gsd never writes its config file.",
       .render = render_limits},
      {.name = "stop_share",
       .args = {kGroup, kFileName},
       .summary = "stop sharing a file with a group",
       .details = "Members can no longer download it from you; a file nobody shares any more "
                  "leaves the group's list. The file on disk is not touched.",
       .render = render_message,
       .message = "stopped sharing '{name}' with '{group}'"},
  };
  return table;
}

const CommandSpec* find_command(std::string_view name, const std::vector<CommandSpec>& table) {
  for (const CommandSpec& c : table) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace {


// "login USER [PASSWORD]": the command as its usage line shows it.
std::string synopsis(const CommandSpec& spec) {
  std::string out(spec.name);
  for (const ArgSpec& a : spec.args) {
    out += ' ';
    if (a.optional) {
      out += '[';
      out += a.metavar;
      out += ']';
    } else {
      out += a.metavar;
    }
  }
  for (const FlagSpec& f : spec.flags) {
    out +=
        " [" + std::string(f.name) + (f.metavar.empty() ? "" : " " + std::string(f.metavar)) + "]";
  }
  return out;
}

bool takes_password(const CommandSpec& spec) {
  return std::any_of(spec.args.begin(), spec.args.end(),
                     [](const ArgSpec& a) { return a.kind == ArgKind::password; });
}

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

std::string_view kind_help(ArgKind kind) {
  switch (kind) {
    case ArgKind::user:
      return "a user name (1-64 of A-Z a-z 0-9 . _ -, not starting with . or -)";
    case ArgKind::group:
      return "a group name (1-64 of A-Z a-z 0-9 . _ -, not starting with . or -)";
    case ArgKind::password:
      return "1-1024 bytes; if left out, asked for on the terminal without echo, or read with "
             "--password-stdin";
    case ArgKind::file_name:
      return "a file's name: 1-255 bytes without '/' or control characters, not '.' or '..'";
    case ArgKind::text:
      return "any non-empty text";
    case ArgKind::local_path:
    case ArgKind::shared_path:
      return "a path on this machine";
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

// `text` as lines of at most `width` columns (a longer word stays whole),
// each ended by a newline.
std::vector<std::string> wrap(std::string_view text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(std::move(line));
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line.append(word);
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

std::string paragraph(std::string_view text) {
  std::string out;
  for (const std::string& l : wrap(text, kHelpWidth)) out += l + "\n";
  return out;
}

// Two columns, "  TERM  description", the description wrapped to the help
// width and its continuation lines aligned under its first. A term too long
// for the column (a command with many arguments) gets a line of its own, so
// that it does not squeeze every description into a narrow strip.
std::string definition_list(const std::vector<std::pair<std::string, std::string>>& items) {
  constexpr size_t kMaxTermWidth = 34;
  size_t term_width = 0;
  for (const auto& [term, _] : items) {
    if (term.size() <= kMaxTermWidth) term_width = std::max(term_width, term.size());
  }
  const size_t indent = 2 + term_width + 2;
  const size_t text_width = kHelpWidth > indent + 20 ? kHelpWidth - indent : 20;
  std::string out;
  for (const auto& [term, text] : items) {
    const std::vector<std::string> lines = wrap(text, text_width);
    if (lines.empty() || term.size() > term_width) {
      out += "  " + term + "\n";
      for (const std::string& l : lines) out += std::string(indent, ' ') + l + "\n";
      continue;
    }
    std::string first = "  " + term;
    first.resize(indent, ' ');
    for (size_t i = 0; i < lines.size(); ++i) {
      out += (i == 0 ? first : std::string(indent, ' ')) + lines[i] + "\n";
    }
  }
  return out;
}

}  // namespace

std::string usage_line(const CommandSpec& spec) {
  // Wider than a terminal of 80 columns: the rest goes on the next line(s),
  // indented past "usage:".
  std::string rest = "usage: gsctl [OPTIONS] " + synopsis(spec);
  std::string out;
  while (rest.size() > kHelpWidth) {
    const size_t cut = rest.rfind(' ', kHelpWidth);
    if (cut == std::string::npos || cut <= 9) break;
    out += rest.substr(0, cut) + "\n";
    rest = "         " + rest.substr(cut + 1);
  }
  return out + rest + "\n";
}

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
    if (words.size() == first + 1) {
      inv.command = find_command(words[first], table);
      if (!inv.command) return unknown_command(words[first], table);
    }
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

  if (socket_option) {
    inv.socket_path = *socket_option;
  } else if (env.gsd_socket && !env.gsd_socket->empty()) {
    inv.socket_path = *env.gsd_socket;
  } else {
    inv.socket_path = env.default_socket;
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
  return Json(Json::Object{{"cmd", std::string(spec.name)}, {"args", std::move(args)}});
}

std::string general_help(const Environment& env) {
  std::vector<std::pair<std::string, std::string>> commands;
  for (const CommandSpec& c : command_table()) {
    commands.emplace_back(synopsis(c), std::string(c.summary));
  }
  commands.emplace_back("help [COMMAND]", "show this help, or more about one command");

  std::string socket_default = "$GSD_SOCKET, else " + env.default_socket;
  if (env.gsd_socket && !env.gsd_socket->empty()) {
    socket_default += "; GSD_SOCKET is now " + printable(*env.gsd_socket);
  }
  const std::vector<std::pair<std::string, std::string>> options = {
      {"--socket PATH", "gsd's control socket (default: " + socket_default + ")"},
      {"--json", "print exactly one JSON document on stdout instead of text"},
      {"--password-stdin", "read the password from the first line of stdin"},
      {"--timeout SECONDS",
       "how long to wait for gsd's answer (default: 30); with download_file --wait, for each of "
       "its answers"},
      {"-h, --help", "show this help, or with a COMMAND that command's help"},
      {"--version", "print gsctl's version"},
      {"--", "end of options (for a PASSWORD that starts with '-')"},
  };
  const std::vector<std::pair<std::string, std::string>> exit_codes = {
      {"0", "done"},
      {"1",
       "refused or failed; the reason is on stderr (with --json, also "
       "{\"error\":CODE,\"message\":TEXT} on stdout)"},
      {"2", "usage error: unknown command or option, wrong arguments, invalid name"},
      {"3", "gsd unreachable: no socket, no answer in time, or an unreadable answer"},
  };

  return "usage: gsctl [OPTIONS] COMMAND [ARGS...]\n\n" +
         paragraph(
             "Sends one command to the gs peer daemon (gsd) over its control socket "
             "and prints the answer.") +
         "\nCommands:\n" + definition_list(commands) +
         "\nOptions (before or after the command):\n" + definition_list(options) + "\n" +
         paragraph("USER and GROUP names are " + std::string(kNameRule) +
                   ". A PASSWORD left out is asked for on the terminal without echo; scripts "
                   "use --password-stdin. A PASSWORD given as an argument can be seen by other "
                   "users of this machine in the process list.") +
         "\n" +
         paragraph(
             "A file NAME is the name it is shared under in the group (1-255 bytes, no "
             "'/' or control character, not '.' or '..'). PATH and DEST are paths on this "
             "machine, without control characters; relative ones are taken from "
             "the current directory. 'gsctl help COMMAND' tells more about a command and "
             "its flags, such as download_file --wait.") +
         "\nExit codes:\n" + definition_list(exit_codes);
}

std::string command_help(const CommandSpec& spec) {
  std::string text(spec.summary);
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  text += ".";
  if (!spec.details.empty()) text += " " + std::string(spec.details);
  std::string out = usage_line(spec) + "\n" + paragraph(text);
  if (!spec.args.empty()) {
    std::vector<std::pair<std::string, std::string>> args;
    for (const ArgSpec& a : spec.args) {
      args.emplace_back(std::string(a.metavar),
                        std::string(a.help.empty() ? kind_help(a.kind) : a.help));
    }
    out += "\nArguments:\n" + definition_list(args);
  }
  if (!spec.flags.empty()) {
    std::vector<std::pair<std::string, std::string>> flags;
    for (const FlagSpec& f : spec.flags)
      flags.emplace_back(
          std::string(f.name) + (f.metavar.empty() ? "" : " " + std::string(f.metavar)),
          std::string(f.help));
    out += "\nFlags:\n" + definition_list(flags);
  }
  return out + "\n" +
         paragraph(
             "Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 usage error, "
             "3 gsd unreachable. Options: see 'gsctl --help'.");
}

}  // namespace gs::ctl
