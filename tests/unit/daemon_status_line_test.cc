#include "daemon/status_line.h"

#include <gtest/gtest.h>

namespace gs::daemon {
namespace {

TEST(DaemonStatusLine, LoggedInWithTransfers) {
  StatusFacts f;
  f.user = "alice";
  f.tracker = "tracker 2 (127.0.0.1:7401)";
  f.downloading = 2;
  f.paused = 1;
  f.down_rate = 1572864;
  f.up_rate = 307200;
  EXPECT_EQ(status_line(f),
            "alice via tracker 2 (127.0.0.1:7401); 2 downloading, 1 paused; down 1.5 MiB/s, up 300.0 KiB/s");
}

TEST(DaemonStatusLine, NotLoggedInNoLink) {
  EXPECT_EQ(status_line(StatusFacts{}), "not logged in; no tracker link; 0 downloading; down 0 B/s, up 0 B/s");
  StatusFacts f;
  f.tracker = "tracker 1 (127.0.0.1:7400)";
  EXPECT_EQ(status_line(f), "not logged in; tracker 1 (127.0.0.1:7400); 0 downloading; down 0 B/s, up 0 B/s");
}

}  // namespace
}  // namespace gs::daemon
