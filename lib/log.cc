#include "log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace gs {
namespace {

std::string g_program = "gs";
LogLevel g_threshold = LogLevel::info;
bool g_journal = false;

// What log_escape() rewrites: C0 controls but tab, and DEL.
bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::error: return "error";
    case LogLevel::warn: return "warning";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
  }
  return "?";
}

}  // namespace

void log_init(std::string_view program, LogLevel threshold) {
  g_program = std::string(program);
  g_threshold = threshold;
  // journald adds its own timestamps, so a journal line gets the priority
  // prefix instead of a time.
  g_journal = false;
  struct stat st {};
  if (const char* v = std::getenv("JOURNAL_STREAM"); v && fstat(STDERR_FILENO, &st) == 0) {
    g_journal = journal_stream_is(v, st.st_dev, st.st_ino);
  }
}

bool journal_stream_is(std::string_view value, dev_t dev, ino_t ino) {
  const size_t colon = value.find(':');
  if (colon == std::string_view::npos) return false;
  const auto number = [](std::string_view s, auto& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
  };
  unsigned long long d = 0, i = 0;
  return number(value.substr(0, colon), d) && number(value.substr(colon + 1), i) &&
         d == static_cast<unsigned long long>(dev) && i == static_cast<unsigned long long>(ino);
}

std::string log_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (is_control(c)) {
      static constexpr char kHex[] = "0123456789abcdef";
      const auto u = static_cast<unsigned char>(c);
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= static_cast<int>(g_threshold); }

void log_line(LogLevel level, const std::string& raw) {
  const bool clean = std::none_of(raw.begin(), raw.end(), is_control);
  const std::string escaped = clean ? std::string() : log_escape(raw);
  const std::string& text = clean ? raw : escaped;
  if (g_journal) {
    std::fprintf(stderr, "<%d>%s\n", static_cast<int>(level), text.c_str());
    return;
  }
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm local{};
  localtime_r(&ts.tv_sec, &local);
  char when[32];
  std::strftime(when, sizeof when, "%H:%M:%S", &local);
  std::fprintf(stderr, "%s.%03ld %s %s: %s\n", when, ts.tv_nsec / 1000000, g_program.c_str(),
               level_name(level), text.c_str());
}

const char* log_level_setting(LogLevel level) {
  switch (level) {
    case LogLevel::error: return "error";
    case LogLevel::warn: return "warn";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
  }
  return "?";
}

bool parse_log_level(std::string_view name, LogLevel& out) {
  if (name == "error") out = LogLevel::error;
  else if (name == "warn" || name == "warning") out = LogLevel::warn;
  else if (name == "info") out = LogLevel::info;
  else if (name == "debug") out = LogLevel::debug;
  else return false;
  return true;
}

}  // namespace gs
