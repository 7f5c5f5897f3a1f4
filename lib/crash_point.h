// Named points in a life cycle at which the test suite can kill the process.
//
// Why: a crash has a different outcome at each step of a multi-step change
// (write, sync, rename, commit), and the step that matters is easy to miss
// when a test kills "somewhere around 50 %". Each step is named in the code
// (see daemon/download_steps.h); in builds with GS_TEST_HOOKS, setting
// GS_TEST_CRASH_AT=NAME (or NAME@K, the K-th time it is reached) makes the
// process SIGKILL itself there, from whichever thread reaches it. A test walks
// the list the binary prints, so a new step without a test shows.
//
// In builds without GS_TEST_HOOKS crash_point() compiles to nothing.
#pragma once

#include <string_view>

namespace gs {

#ifdef GS_TEST_HOOKS
void crash_point(std::string_view name);
// What GS_TEST_CRASH_AT asked for, for a warning at start ("" when unset).
std::string_view crash_point_armed();
#else
inline void crash_point(std::string_view) {}
inline std::string_view crash_point_armed() { return {}; }
#endif

}  // namespace gs
