// The gsctl command table: every command gsd understands, with its
// arguments, flags, help text and how its answer reads to a person.
//
// Command names, their argument order and the exit codes are a scripting
// interface: changing them breaks users' scripts. Everything a command is
// is one entry of command_table(), so a new daemon command is one new entry
// there; the parser (command_parser.h), the help (help.h), the shell, the
// bash completion and the man page gsctl(1) all read it from there.
#pragma once

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

// The rules for names, as the help and the usage errors state them.
inline constexpr std::string_view kNameRule =
    "1-64 characters of A-Z a-z 0-9 . _ -, not starting with '.' or '-'";
inline constexpr std::string_view kFileNameRule =
    "file names are 1-255 bytes without '/' or control characters, and not '.' or '..'";

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
  // A command that may run long (upload_file hashes the whole file): the
  // request asks gsd for progress lines, gsctl shows them on a terminal, and
  // its --timeout counts from the last one.
  bool progress = false;
};

// Every command, in the order `gsctl --help` lists them.
const std::vector<CommandSpec>& command_table();
const CommandSpec* find_command(std::string_view name,
                                const std::vector<CommandSpec>& table = command_table());

// "login USER [PASSWORD]": the command as its usage line shows it.
std::string synopsis(const CommandSpec& spec);
// Whether one of its arguments is a password.
bool takes_password(const CommandSpec& spec);

}  // namespace gs::ctl
