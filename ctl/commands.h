// The gsctl command table and the pure half of the tool: argv -> what to do,
// and a command plus its arguments -> the control request.
//
// Command names, their argument order and the exit codes are a scripting
// interface: changing them breaks users' scripts. Everything a command is
// (its arguments, its help, how its answer reads to a person) is one entry of
// command_table(), so a new daemon command is one new entry there.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"
#include "result.h"

namespace gs::ctl {

// Stable exit codes (docs/protocol.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;      // the daemon said no, or the task failed
inline constexpr int kExitUsage = 2;        // the command line was wrong
inline constexpr int kExitUnreachable = 3;  // no daemon, no answer, or an unreadable one

inline constexpr std::chrono::milliseconds kDefaultTimeout{30'000};
// Longer waits are almost certainly a typo (milliseconds given as seconds).
inline constexpr double kMaxTimeoutSeconds = 24 * 3600;

// How an argument is checked before anything is sent, and how it is encoded.
enum class ArgKind {
  user,        // gs::valid_name, reported as a user name
  group,       // gs::valid_name, reported as a group name
  password,    // gs::valid_password; prompted or read from stdin when omitted
  file_name,   // gs::valid_file_name: a file's name inside a group
  text,        // any non-empty string
  local_path,  // a path on this machine; made absolute, since gsd has another cwd
  shared_path,  // local_path whose last part is the name a file is shared under
};

struct ArgSpec {
  std::string_view metavar = {};  // as shown in usage: "GROUP"
  std::string_view field = {};    // key in the request's "args" object
  ArgKind kind = ArgKind::text;
  bool optional = false;  // only trailing arguments may be optional
  // For `gsctl help COMMAND`; empty means the generic text for `kind`.
  std::string_view help = {};
};

// A command's own on/off switch, e.g. "--force". Like the global options it
// may come anywhere on the line. A flag with a field is always sent:
// args[field] is true when given, false when not. A flag without one (like
// download_file's "--wait") only changes what gsctl itself does; gsd checks
// args strictly and would refuse a field it does not know.
//
// A flag with a metavar takes a value ("--upload RATE" or "--upload=RATE"),
// sent as the string args[field] when given and left out when not; `check`
// (if set) returns what is wrong with a value, "" when it is fine.
struct FlagSpec {
  std::string_view name = {};  // "--force"
  std::string_view field = {};
  std::string_view help = {};
  std::string_view metavar = {};  // "RATE": the flag takes a value
  std::string (*check)(std::string_view value) = nullptr;
};

struct CommandSpec;

// Turns the `result` of a successful answer into text for a person (without
// a trailing newline). `args` is the request's "args" object, so a command
// whose result is null can still name what it did. An error means the
// result does not have the shape this command expects.
using RenderFn = Result<std::string> (*)(const CommandSpec& spec, const Json& args,
                                         const Json& result);

struct CommandSpec {
  std::string_view name = {};
  std::vector<ArgSpec> args = {};
  std::vector<FlagSpec> flags = {};
  std::string_view summary = {};  // one line, for the command list
  std::string_view details = {};  // extra paragraph for `gsctl help NAME`; may be empty
  RenderFn render = nullptr;
  // For render_message: "{field}" is replaced by that field of the result
  // (if it is an object) or of the request's args.
  std::string_view message = {};
  // Ask for a prompted password twice (creating a password, not using one).
  bool confirm_password = false;
};

// Every command, in the order `gsctl --help` lists them.
const std::vector<CommandSpec>& command_table();
const CommandSpec* find_command(std::string_view name,
                                const std::vector<CommandSpec>& table = command_table());

// The environment gsctl reads, passed in so parsing stays pure.
struct Environment {
  std::optional<std::string> gsd_socket;  // $GSD_SOCKET; empty counts as unset
  std::string default_socket;             // gs::default_socket_path()
};

enum class Action { run, show_help, show_version };

struct Invocation {
  Action action = Action::run;
  // run: the command. show_help: the command to describe, or null for all.
  const CommandSpec* command = nullptr;
  std::vector<std::string> args;       // the command's positional arguments as given
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

// Help texts, each ending in a newline.
std::string general_help(const Environment& env);
std::string command_help(const CommandSpec& spec);
std::string usage_line(const CommandSpec& spec);  // "usage: gsctl [OPTIONS] login USER [PASSWORD]"

}  // namespace gs::ctl
