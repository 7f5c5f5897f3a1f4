// gsctl from argv to exit code: parse, get a password if one is needed, one
// exchange with gsd, print. main() only gathers the process's environment;
// tests call run() with their own streams, stdin and socket.
#pragma once

#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>

#include "commands.h"
#include "result.h"

namespace gs::ctl {

struct AppContext {
  Environment env;
  int stdin_fd = 0;
  bool stdin_is_terminal = false;
  std::string cwd;
  // Asks for a password without echo; prompt_password() when empty.
  std::function<Result<std::string>(std::string_view prompt)> prompt;

  // The real process: $GSD_SOCKET, gs::default_socket_path(), fd 0, getcwd().
  static AppContext from_process();
};

// Runs one gsctl invocation (argv without argv[0]) and returns its exit code.
int run(std::span<const std::string> args, const AppContext& ctx, std::ostream& out,
        std::ostream& err);

}  // namespace gs::ctl
