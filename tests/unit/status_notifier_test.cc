// STATUS= kept current (lib/status_notifier.h): sent when it changes, once,
// on one line; nothing at all outside systemd.
#include "status_notifier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "notify_listener.h"
#include "sandbox.h"
#include "test_loop.h"

namespace gs {
namespace {

class StatusNotifierTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("NOTIFY_SOCKET", path_.c_str(), 1); }
  void TearDown() override { unsetenv("NOTIFY_SOCKET"); }
  test::Sandbox box_;
  std::string path_ = box_.path("notify");
  test::NotifyListener listener_{path_};
  test::TestLoop loop_;
};

TEST_F(StatusNotifierTest, SendsASummaryOnlyWhenItChanged) {
  std::string summary = "0 downloading";
  StatusNotifier status(loop_.base(), [&] { return summary; }, std::chrono::milliseconds(20));
  status.refresh();
  EXPECT_EQ(listener_.receive(), "STATUS=0 downloading");
  status.refresh();
  EXPECT_EQ(listener_.receive_now(), "");
  summary = "1 downloading\nsecond line";
  // The timer notices by itself.
  std::string got;
  loop_.run_until([&] { return !(got = listener_.receive_now()).empty(); }, 2);
  EXPECT_EQ(got, "STATUS=1 downloading second line");
  loop_.run_until([] { return false; }, 0.1);
  EXPECT_EQ(listener_.receive_now(), "");
}

TEST_F(StatusNotifierTest, DoesNothingOutsideSystemd) {
  unsetenv("NOTIFY_SOCKET");
  int asked = 0;
  StatusNotifier status(loop_.base(), [&] { return "summary " + std::to_string(++asked); },
                        std::chrono::milliseconds(10));
  status.refresh();
  loop_.run_until([] { return false; }, 0.1);
  EXPECT_EQ(asked, 0);
}

}  // namespace
}  // namespace gs
