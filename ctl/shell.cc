#include "shell.h"

#include <ostream>

#include "command_parser.h"
#include "command_table.h"

namespace gs::ctl {
namespace {

constexpr std::string_view kPrompt = "gs> ";

}  // namespace

std::string shell_help() {
  return "\nIn the shell: one command per line, as after 'gsctl' (options too).\n"
         "\"Double quotes\" keep spaces in an argument. quit, exit or Ctrl-D leave.\n";
}

int run_shell(ShellIo io, const RunLine& run_line) {
  if (io.interactive) {
    io.out << "gsctl shell: type 'help' for the commands, 'quit' to leave.\n" << std::flush;
  }
  int status = kExitOk;
  bool at_end = true;
  while (auto line = io.lines.read(std::string(kPrompt))) {
    auto words = split_words(*line);
    if (!words) {
      io.err << words.error().message << std::flush;
      status = kExitUsage;
      continue;
    }
    // Blank lines and comments: a script fed to the shell may have both.
    if (words->empty() || words->front().starts_with('#')) continue;
    if (words->size() == 1 && (words->front() == "quit" || words->front() == "exit")) {
      at_end = false;
      break;
    }
    const int code = run_line(*words);
    io.out.flush();
    io.err.flush();
    if (code != kExitOk) status = code;
  }
  if (io.interactive) {
    if (at_end) io.out << "\n" << std::flush;  // end the prompt's line, left open by Ctrl-D
    return kExitOk;
  }
  return status;
}

}  // namespace gs::ctl
