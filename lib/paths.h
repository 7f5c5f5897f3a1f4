// Where state and sockets live by default, following systemd's and XDG's
// conventions so the same binaries work as services and from a shell.
#pragma once

#include <string>

#include "result.h"

namespace gs {

// $STATE_DIRECTORY (first entry), else $XDG_STATE_HOME/gs/<component>,
// else ~/.local/state/gs/<component>.
std::string default_state_dir(const std::string& component);

// $RUNTIME_DIRECTORY (first entry), else $XDG_RUNTIME_DIR, else /tmp/gs-<uid>.
std::string default_runtime_dir();

// The control socket path gsd and gsctl agree on when none is given.
std::string default_socket_path();

// mkdir -p with `mode` for the directories it creates.
Status make_dirs(const std::string& path, unsigned mode = 0700);

}  // namespace gs
