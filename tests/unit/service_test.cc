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

#include "sandbox.h"

namespace gs {
namespace {

// A bound AF_UNIX datagram socket; `name` starting with '@' is abstract.
class NotifyListener {
 public:
  explicit NotifyListener(const std::string& name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
    timeval tv{2, 0};  // a test never waits longer than this for a datagram
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifyListener() { ::close(fd_); }
  bool bound() const { return bound_; }
  std::string receive() {
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<size_t>(n));
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

class NotifyTest : public ::testing::Test {
 protected:
  void TearDown() override { unsetenv("NOTIFY_SOCKET"); }
  test::Sandbox box_;
};

TEST_F(NotifyTest, PathSocketGetsReadyStatusAndStopping) {
  const std::string path = box_.path("notify");
  NotifyListener l(path);
  ASSERT_TRUE(l.bound());
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  notify_ready("serving on 127.0.0.1:7410");
  EXPECT_EQ(l.receive(), "READY=1\nSTATUS=serving on 127.0.0.1:7410");
  notify_status("2 downloads");
  EXPECT_EQ(l.receive(), "STATUS=2 downloads");
  notify_stopping();
  EXPECT_EQ(l.receive(), "STOPPING=1");
}

TEST_F(NotifyTest, AbstractSocket) {
  const std::string name = "@gs-notify-test-" + std::to_string(getpid());
  NotifyListener l(name);
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
