// gsctl from argv to exit code: parse, get a password if one is needed, one
// exchange with gsd, print. main() only gathers the process's environment;
// tests call run() with their own streams, stdin and socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>

#include "command_parser.h"
#include "result.h"

namespace gs::ctl {

struct AppContext {
  Environment env;
  int stdin_fd = 0;
  bool stdin_is_terminal = false;
  std::string cwd;
  // Asks for a password without echo; prompt_password() when empty.
  std::function<Result<std::string>(std::string_view prompt)> prompt;

  // download_file --wait: a progress bar goes to `err` only when it is a
  // terminal, redrawn in place, as wide as terminal_columns() (80 when empty).
  bool stderr_is_terminal = false;
  std::function<size_t()> terminal_columns;
  // How often --wait asks gsd for the progress: often enough that it returns
  // within a tenth of a second of the download completing (a 1 GiB transfer
  // on loopback takes ~2 s); one show_downloads costs gsd next to nothing.
  std::chrono::milliseconds poll_interval{100};
  // While --wait runs, let SIGINT, SIGTERM and SIGHUP first clear the
  // progress bar on fd 2 and say that the download goes on. Only for the
  // real process: it installs signal handlers.
  bool handle_signals = false;

  // `gsctl shell` reads its commands from here (a terminal when
  // stdin_is_terminal); std::cin when null.
  std::istream* commands_in = nullptr;
  // Set for the commands that the shell runs: stdin carries the commands,
  // so it cannot carry a password as well (--password-stdin).
  bool in_shell = false;

  // The real process: $GSD_SOCKET, gs::default_socket_path(), fd 0, getcwd(),
  // whether fd 2 is a terminal and how wide.
  static AppContext from_process();
};

// Runs one gsctl invocation (argv without argv[0]) and returns its exit code.
int run(std::span<const std::string> args, const AppContext& ctx, std::ostream& out,
        std::ostream& err);

}  // namespace gs::ctl
