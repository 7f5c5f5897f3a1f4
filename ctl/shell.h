// `gsctl shell`: the original client's interactive prompt. One command per
// line, in the words of the command line ("login alice secret",
// "join_group g1"), each run exactly as `gsctl COMMAND ...` would run it:
// same parser, same request, same output, same messages. A line that fails
// says why and the shell goes on.
//
// Exit status: 0 when every command succeeded, else the status of the last
// command that failed (1, 2 or 3), so that a script piped in can be checked
// like one gsctl call. Interactively (stdin a terminal) it is always 0: the
// person saw each error as it happened.
#pragma once

#include <functional>
#include <iosfwd>
#include <span>
#include <string>

#include "line_reader.h"

namespace gs::ctl {

struct ShellIo {
  LineReader& lines;
  std::ostream& out;
  std::ostream& err;
  bool interactive = false;  // stdin is a terminal: a prompt, a greeting, status 0
};

// Runs one command's words (without the shell's own options, which
// `run_line` adds) and returns its exit code.
using RunLine = std::function<int(std::span<const std::string> words)>;

// Reads lines until quit, exit or the end of the input.
int run_shell(ShellIo io, const RunLine& run_line);

// What `help` adds in the shell to gsctl's help.
std::string shell_help();

}  // namespace gs::ctl
