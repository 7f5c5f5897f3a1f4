#include "help.h"

#include <algorithm>
#include <cctype>

#include "names.h"
#include "render.h"

namespace gs::ctl {
namespace {

constexpr size_t kHelpWidth = 79;

}  // namespace

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

namespace {

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

std::string general_help(const Environment& env) {
  std::vector<std::pair<std::string, std::string>> commands;
  for (const CommandSpec& c : command_table()) {
    commands.emplace_back(synopsis(c), std::string(c.summary));
  }
  commands.emplace_back("help [COMMAND]", "show this help, or more about one command");
  commands.emplace_back(std::string(kShellWord),
                        "read commands from stdin, one per line as after 'gsctl' (on a "
                        "terminal: a prompt with line editing and history)");

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
       "its answers; with upload_file, from gsd's last progress report"},
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

namespace gs::ctl {
namespace {

// Text for roff: backslashes escaped, '-' as a real minus (for options
// that can be copied), and a line never starting with a control character.
std::string roff(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string sentence(std::string_view summary) {
  std::string text(summary);
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  return text + ".";
}

}  // namespace

std::string man_commands() {
  std::string out;
  for (const CommandSpec& c : command_table()) {
    out += ".TP\n.B " + roff(c.name);
    for (const ArgSpec& a : c.args) {
      out += a.optional ? " \\fR[\\fI" + roff(a.metavar) + "\\fR]" : " \\fI" + roff(a.metavar);
    }
    for (const FlagSpec& f : c.flags) out += " \\fR[\\fB" + roff(f.name) + "\\fR]";
    out += "\n" + roff(sentence(c.summary));
    if (!c.details.empty()) out += " " + roff(c.details);
    out += "\n";
    if (!c.args.empty() || !c.flags.empty()) {
      out += ".RS\n";
      for (const ArgSpec& a : c.args) {
        out += ".TP\n.I " + roff(a.metavar) + "\n" +
               roff(a.help.empty() ? kind_help(a.kind) : a.help) + "\n";
      }
      for (const FlagSpec& f : c.flags) out += ".TP\n.B " + roff(f.name) + "\n" + roff(f.help) + "\n";
      out += ".RE\n";
    }
  }
  return out;
}

}  // namespace gs::ctl
