// `gsctl __complete WHAT ...`: what the bash completion (completion/gsctl.bash)
// asks gsctl, so that the script itself knows no command, option or name:
//
//   __complete commands        every command, one per line
//   __complete options [CMD]   gsctl's options, and CMD's flags
//   __complete arg CMD N       the kind of CMD's argument N (0-based): user,
//                              group, password, file_name, path, text; or
//                              command for `help`; nothing past the last
//   __complete groups          the group names gsd lists
//   __complete files GROUP     the file names shared in GROUP
//
// Hidden from the help. Quiet by design: a daemon that is down or slow
// (gsd is asked with a timeout of at most 2 s) prints nothing and exits 1,
// since completion must never print errors into the user's command line.
#pragma once

#include <iosfwd>

#include "command_parser.h"

namespace gs::ctl {

int run_complete(const Invocation& inv, std::ostream& out);

}  // namespace gs::ctl
