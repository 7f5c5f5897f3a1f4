// Getting a password without putting it on the command line: read from stdin
// for scripts (--password-stdin), or asked for on the terminal with echo off.
#pragma once

#include <string>
#include <string_view>

#include "result.h"

namespace gs::ctl {

// The first line of `fd` without its "\n" (or "\r\n"). Reads byte by byte so
// nothing past that line is consumed. Errors: nothing to read, an empty
// line, or a line longer than kMaxPasswordLength.
Result<std::string> read_password_line(int fd);

// Asks on the controlling terminal (/dev/tty, else stdin/stderr) with echo
// off, and always turns echo back on: on return, and on SIGINT, SIGTERM,
// SIGHUP, SIGQUIT (restored, then the signal takes its usual course) and
// around SIGTSTP (restored while stopped, turned off again on SIGCONT).
Result<std::string> prompt_password(std::string_view prompt);

}  // namespace gs::ctl
