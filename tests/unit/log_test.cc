#include "log.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace gs {
namespace {

TEST(Log, FormatsEveryKindOfArgumentOnOneLine) {
  unsetenv("JOURNAL_STREAM");
  log_init("gs-test", LogLevel::info);
  const std::string name = "alice";
  const std::string_view group = "team";
  testing::internal::CaptureStderr();
  log_info("user ", name, " in ", group, ": ", 42, " ", uint64_t{18446744073709551615u}, " ", -7, " ",
           2.5, " ", true, " ", 'x', " ", static_cast<const char*>(nullptr));
  log_debug("not shown at info");
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find(" gs-test info: user alice in team: 42 18446744073709551615 -7 2.5 true x (null)\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("not shown"), std::string::npos);
}

TEST(Log, JournalLinesCarryThePriority) {
  setenv("JOURNAL_STREAM", "8:1234", 1);
  log_init("gs-test", LogLevel::debug);
  testing::internal::CaptureStderr();
  log_warn("disk ", 93, "% full");
  const std::string out = testing::internal::GetCapturedStderr();
  unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(out, "<4>disk 93% full\n");
}

}  // namespace
}  // namespace gs
