#include "log.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace gs {
namespace {

std::string g_program = "gs";
LogLevel g_threshold = LogLevel::info;
bool g_journal = false;

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
  // journald sets JOURNAL_STREAM for services whose stderr it collects; it adds
  // its own timestamps, so we print the priority prefix instead of a time.
  g_journal = std::getenv("JOURNAL_STREAM") != nullptr;
}

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= static_cast<int>(g_threshold); }

void log_line(LogLevel level, const std::string& text) {
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

bool parse_log_level(std::string_view name, LogLevel& out) {
  if (name == "error") out = LogLevel::error;
  else if (name == "warn" || name == "warning") out = LogLevel::warn;
  else if (name == "info") out = LogLevel::info;
  else if (name == "debug") out = LogLevel::debug;
  else return false;
  return true;
}

}  // namespace gs
