// Logging to stderr, the systemd way: the daemons run in the foreground and
// journald (or the terminal) collects what they print. Under journald each
// line carries a <N> priority prefix so levels survive.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

#include "piece_index.h"

namespace gs {

enum class LogLevel { error = 3, warn = 4, info = 6, debug = 7 };

void log_init(std::string_view program, LogLevel threshold);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, const std::string& text);
bool parse_log_level(std::string_view name, LogLevel& out);

// Log lines are built by appending, not with std::ostringstream: the first
// stream a process makes initializes the C++ locale machinery, which keeps
// ~600 KiB more of libstdc++ resident in every daemon for good.
inline void log_append(std::string& out, std::string_view v) { out += v; }
inline void log_append(std::string& out, const char* v) { out += v ? v : "(null)"; }
inline void log_append(std::string& out, char v) { out += v; }
inline void log_append(std::string& out, bool v) { out += v ? "true" : "false"; }
template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> log_append(std::string& out, T v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
inline void log_append(std::string& out, PieceIndex v) { log_append(out, v.value()); }

template <class... Args>
void log_at(LogLevel level, const Args&... args) {
  if (!log_enabled(level)) return;
  std::string s;
  (log_append(s, args), ...);
  log_line(level, s);
}

template <class... Args> void log_error(const Args&... a) { log_at(LogLevel::error, a...); }
template <class... Args> void log_warn(const Args&... a) { log_at(LogLevel::warn, a...); }
template <class... Args> void log_info(const Args&... a) { log_at(LogLevel::info, a...); }
template <class... Args> void log_debug(const Args&... a) { log_at(LogLevel::debug, a...); }

}  // namespace gs
