#include "crash_point.h"

#ifdef GS_TEST_HOOKS
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <string>

namespace gs {
namespace {

struct Armed {
  std::string name;
  long nth = 1;
};

// Read once; the variable does not change while the process runs.
const Armed& armed() {
  static const Armed a = [] {
    Armed r;
    const char* v = std::getenv("GS_TEST_CRASH_AT");
    if (!v) return r;
    std::string_view s(v);
    if (const auto at = s.find('@'); at != std::string_view::npos) {
      long n = 0;
      const auto tail = s.substr(at + 1);
      const auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), n);
      if (ec == std::errc() && end == tail.data() + tail.size() && n >= 1) r.nth = n;
      s = s.substr(0, at);
    }
    r.name = std::string(s);
    return r;
  }();
  return a;
}

std::atomic<long> g_hits{0};

}  // namespace

void crash_point(std::string_view name) {
  const Armed& a = armed();
  if (a.name.empty() || name != a.name) return;
  if (g_hits.fetch_add(1) + 1 != a.nth) return;
  // Async-signal-safe: this may be a worker thread, and the point is to die
  // exactly here, with nothing flushed or unwound.
  static const char msg[] = "crash point reached: SIGKILL\n";
  (void)!write(2, msg, sizeof msg - 1);
  kill(getpid(), SIGKILL);
  _exit(137);
}

std::string_view crash_point_armed() { return armed().name; }

}  // namespace gs
#endif
