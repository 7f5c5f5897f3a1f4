#include "log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
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

// JOURNAL_STREAM naming the file that stderr is now, as systemd sets it.
std::string stderr_stream_id() {
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return "";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

TEST(Log, JournalLinesCarryThePriorityOfTheirLevel) {
  testing::internal::CaptureStderr();  // stderr is a temp file from here on
  setenv("JOURNAL_STREAM", stderr_stream_id().c_str(), 1);
  log_init("gs-test", LogLevel::debug);
  log_error("cannot open ", "gsd.db");
  log_warn("disk ", 93, "% full");
  log_info("ready");
  log_debug("tick");
  const std::string out = testing::internal::GetCapturedStderr();
  unsetenv("JOURNAL_STREAM");
  log_init("gs-test", LogLevel::info);
  EXPECT_EQ(out, "<3>cannot open gsd.db\n<4>disk 93% full\n<6>ready\n<7>tick\n");
}

TEST(Log, JournalStreamOfAnotherFileGetsNoPrefix) {
  // What a child of a service sees after its stderr was redirected: the
  // variable is inherited, the file is not the journal's.
  setenv("JOURNAL_STREAM", stderr_stream_id().c_str(), 1);
  testing::internal::CaptureStderr();
  log_init("gs-test", LogLevel::info);
  log_info("ready");
  const std::string out = testing::internal::GetCapturedStderr();
  unsetenv("JOURNAL_STREAM");
  log_init("gs-test", LogLevel::info);
  EXPECT_EQ(out.find("<6>"), std::string::npos) << out;
  EXPECT_NE(out.find(" gs-test info: ready\n"), std::string::npos) << out;
}

TEST(Log, JournalStreamValueIsDevColonInode) {
  EXPECT_TRUE(journal_stream_is("8:1234", 8, 1234));
  EXPECT_FALSE(journal_stream_is("8:1235", 8, 1234));
  EXPECT_FALSE(journal_stream_is("9:1234", 8, 1234));
  EXPECT_FALSE(journal_stream_is("8:", 8, 0));
  EXPECT_FALSE(journal_stream_is(":1234", 0, 1234));
  EXPECT_FALSE(journal_stream_is("8-1234", 8, 1234));
  EXPECT_FALSE(journal_stream_is("8:1234x", 8, 1234));
  EXPECT_FALSE(journal_stream_is("", 0, 0));
}

TEST(Log, AMessageStaysOneLine) {
  unsetenv("JOURNAL_STREAM");
  log_init("gs-test", LogLevel::info);
  testing::internal::CaptureStderr();
  log_warn("name 'a\nb\x1b[31m' refused:\ttab kept");
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("name 'a\\x0ab\\x1b[31m' refused:\ttab kept\n"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

}  // namespace
}  // namespace gs
