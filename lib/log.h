// Logging to stderr, the systemd way: the daemons run in the foreground and
// journald (or the terminal) collects what they print. Under journald each
// line carries a <N> priority prefix so levels survive.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace gs {

enum class LogLevel { error = 3, warn = 4, info = 6, debug = 7 };

void log_init(std::string_view program, LogLevel threshold);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, const std::string& text);
bool parse_log_level(std::string_view name, LogLevel& out);

template <class... Args>
void log_at(LogLevel level, const Args&... args) {
  if (!log_enabled(level)) return;
  std::ostringstream s;
  (s << ... << args);
  log_line(level, s.str());
}

template <class... Args> void log_error(const Args&... a) { log_at(LogLevel::error, a...); }
template <class... Args> void log_warn(const Args&... a) { log_at(LogLevel::warn, a...); }
template <class... Args> void log_info(const Args&... a) { log_at(LogLevel::info, a...); }
template <class... Args> void log_debug(const Args&... a) { log_at(LogLevel::debug, a...); }

}  // namespace gs
