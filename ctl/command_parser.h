// gsctl's command line, pure: argv -> what to do (an Invocation), and an
// Invocation -> the control request. `gsctl` and `gsctl shell` both parse
// with this, so a line typed in the shell means what the same words mean on
// the command line.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "command_table.h"
#include "json.h"
#include "result.h"

namespace gs::ctl {

inline constexpr std::chrono::milliseconds kDefaultTimeout{30'000};
// Longer waits are almost certainly a typo (milliseconds given as seconds).
inline constexpr double kMaxTimeoutSeconds = 24 * 3600;

// The environment gsctl reads, passed in so parsing stays pure.
struct Environment {
  std::optional<std::string> gsd_socket;  // $GSD_SOCKET; empty counts as unset
  std::string default_socket;             // gs::default_socket_path()
};

// Words that are not commands of the table: `gsctl shell`, and the hidden
// `gsctl __complete WHAT...` (for the bash completion) and `gsctl __man`
// (the command list of gsctl(1), made at build time).
inline constexpr std::string_view kShellWord = "shell";
inline constexpr std::string_view kCompleteWord = "__complete";
inline constexpr std::string_view kManWord = "__man";

enum class Action { run, show_help, show_version, shell, complete, man_commands };

struct Invocation {
  Action action = Action::run;
  // run: the command. show_help: the command to describe, or null for all.
  const CommandSpec* command = nullptr;
  // The command's positional arguments as given (complete: its words).
  std::vector<std::string> args;
  std::vector<const FlagSpec*> flags;  // the command's flags that were given
  // The values of those that take one, by flag name (the last one given wins).
  std::vector<std::pair<std::string_view, std::string>> flag_values;
  std::string socket_path;             // --socket, else $GSD_SOCKET, else the default
  bool json = false;
  bool password_stdin = false;
  std::chrono::milliseconds timeout = kDefaultTimeout;
};

// Parses argv without argv[0]. Options may come before or after the command;
// "--" ends them (for a password that starts with '-'). Names and passwords
// given as arguments are validated here. On a usage error the Error's code is
// "usage" and its message is the complete text for stderr: what is wrong, the
// relevant usage line and where to look for more, ending in a newline.
// `table` is for tests of entries that are not (yet) in command_table().
Result<Invocation> parse_command_line(std::span<const std::string> args, const Environment& env,
                                      const std::vector<CommandSpec>& table = command_table());

// True when the command takes a password and none was given as an argument.
bool needs_password(const Invocation& inv);

// Whether the command's flag `name` ("--wait") was given.
bool has_flag(const Invocation& inv, std::string_view name);

// The request line's JSON: {"cmd":NAME,"args":{...}}. `password` fills the
// password argument when it was not given on the command line; `cwd` anchors
// relative local paths (an empty cwd, one that is gone, leaves them relative
// for gsd to refuse).
Json build_request(const Invocation& inv, const std::optional<std::string>& password,
                   const std::string& cwd);

// One line of `gsctl shell` as the words of a command line, split the way a
// shell would but with nothing expanded: blanks separate words; "double
// quotes" keep blanks, and inside them \" and \\ stand for " and \;
// 'single quotes' keep everything; outside quotes a backslash takes the next
// character as it is. A line that ends inside quotes is a usage error (its
// message ends in a newline, like parse_command_line's).
Result<std::vector<std::string>> split_words(std::string_view line);

}  // namespace gs::ctl
