// Logging to stderr, the systemd way: the daemons run in the foreground and
// journald (or the terminal) collects what they print. When stderr is the
// journal's stream each line carries a <N> priority prefix (sd-daemon(3)) so
// journalctl -p shows the right level; elsewhere a line starts with a time,
// the program and the level.
//
// One line per event: control characters in a message (a newline in an
// error text, an escape in a name) are written as \xNN, so a message cannot
// split into a second journal entry without a priority, or forge one.
#pragma once

#include <sys/types.h>

#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

#include "piece_index.h"

namespace gs {

enum class LogLevel { error = 3, warn = 4, info = 6, debug = 7 };

// Also decides, from JOURNAL_STREAM and stderr, whether lines get the
// journal's priority prefix; call again after stderr changes.
void log_init(std::string_view program, LogLevel threshold);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, const std::string& text);
bool parse_log_level(std::string_view name, LogLevel& out);
// The name parse_log_level takes for `level` ("warn"), as a config file spells it.
const char* log_level_setting(LogLevel level);

// Whether JOURNAL_STREAM's value ("DEV:INO", decimal, what systemd sets for a
// service whose stderr goes to the journal) names the file `dev`:`ino`.
// systemd passes the variable on to children whose stderr it no longer is
// (a redirect in a script, `gsd 2>file` in an ExecStart shell), so the
// variable alone proves nothing: the file must be stderr itself.
bool journal_stream_is(std::string_view value, dev_t dev, ino_t ino);
// `text` with every control character but tab as \xNN.
std::string log_escape(std::string_view text);

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
