// The systemd notify protocol as lib/service.cc speaks it, against a real
// datagram socket standing in for systemd's.
#include "service.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "notify_listener.h"
#include "sandbox.h"

namespace gs {
namespace {

class NotifyTest : public ::testing::Test {
 protected:
  void TearDown() override { unsetenv("NOTIFY_SOCKET"); }
  test::Sandbox box_;
};

TEST_F(NotifyTest, PathSocketGetsReadyStatusAndStopping) {
  const std::string path = box_.path("notify");
  test::NotifyListener l(path);
  ASSERT_TRUE(l.bound());
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  notify_ready("serving on 127.0.0.1:7410");
  EXPECT_EQ(l.receive(), "READY=1\nSTATUS=serving on 127.0.0.1:7410");
  notify_status("2 downloads");
  EXPECT_EQ(l.receive(), "STATUS=2 downloads");
  notify_stopping();
  EXPECT_EQ(l.receive(), "STOPPING=1");
  EXPECT_TRUE(notify_reloading());
  const std::string reloading = l.receive();
  EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reloading;
}

TEST_F(NotifyTest, AbstractSocket) {
  const std::string name = "@gs-notify-test-" + std::to_string(getpid());
  test::NotifyListener l(name);
  ASSERT_TRUE(l.bound());
  setenv("NOTIFY_SOCKET", name.c_str(), 1);
  EXPECT_TRUE(notify("READY=1"));
  EXPECT_EQ(l.receive(), "READY=1");
}

TEST_F(NotifyTest, UnsetOrUnusableIsANoOp) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(notify("READY=1"));
  setenv("NOTIFY_SOCKET", "", 1);
  EXPECT_FALSE(notify("READY=1"));
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_FALSE(notify("READY=1"));
  setenv("NOTIFY_SOCKET", std::string(200, '/').c_str(), 1);  // longer than sun_path
  EXPECT_FALSE(notify("READY=1"));
  setenv("NOTIFY_SOCKET", box_.path("nobody-listens").c_str(), 1);
  EXPECT_FALSE(notify("READY=1"));
}

}  // namespace
}  // namespace gs
