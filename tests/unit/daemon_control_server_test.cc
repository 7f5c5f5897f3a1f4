// The control socket with a real libevent loop and real Unix sockets in a
// sandbox: permissions, stale and live sockets, line framing, garbage.
#include "daemon/control_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include <gtest/gtest.h>

#include "names.h"
#include "paths.h"
#include "sandbox.h"
#include "test_loop.h"

namespace gs::daemon {
namespace {

using Clock = std::chrono::steady_clock;

int connect_to(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

class ControlServerTest : public ::testing::Test {
 protected:
  ControlServerTest() : base_(loop_.base()), path_(sb_.path("run/gsd.sock")) {
  }
  ~ControlServerTest() override {
    server_.reset();
    for (int fd : fds_) close(fd);
  }

  // Echoes the command back, or keeps the reply for later when `hold_`.
  Result<std::unique_ptr<ControlServer>> open_server() {
    return ControlServer::open(base_, path_, [this](const ControlRequest& r, ControlServer::Reply reply) {
      ++dispatched_;
      if (hold_) {
        held_.push_back(std::move(reply));
        return;
      }
      Json out = Json::object();
      out["cmd"] = r.cmd;
      reply(std::move(out));
    });
  }
  void start() {
    auto s = open_server();
    ASSERT_TRUE(s.ok()) << s.error().message;
    server_ = std::move(*s);
  }

  int client() {
    const int fd = connect_to(path_);
    EXPECT_GE(fd, 0);
    fds_.push_back(fd);
    return fd;
  }

  void turn() { event_base_loop(base_, EVLOOP_ONCE); }

  // Writes all of `data`, running the loop while the socket is full.
  void send_all(int fd, std::string_view data) {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!data.empty() && Clock::now() < deadline) {
      const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && errno != EAGAIN) {
        return;  // the server closed on us: fine for garbage tests
      } else {
        turn();
      }
    }
  }

  // Reads until the server closes or `lines` full lines have arrived.
  std::string read_reply(int fd, size_t lines = 1, bool until_eof = false, double seconds = 10) {
    std::string got;
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline) {
      turn();
      char buf[65536];
      const ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) {
        eof_ = true;
        break;
      }
      if (n < 0) {
        if (errno == EAGAIN) continue;
        eof_ = true;  // reset by peer
        break;
      }
      got.append(buf, static_cast<size_t>(n));
      if (!until_eof && static_cast<size_t>(std::count(got.begin(), got.end(), '\n')) >= lines) break;
    }
    return got;
  }

  test::Sandbox sb_;
  test::TestLoop loop_;  // frees the base once the destructor body has reset what uses it
  event_base* base_;
  std::string path_;
  std::unique_ptr<ControlServer> server_;
  std::vector<int> fds_;
  int dispatched_ = 0;
  bool hold_ = false;
  bool eof_ = false;
  std::vector<ControlServer::Reply> held_;
};

TEST_F(ControlServerTest, SocketIsPrivateAndItsDirectoryIsMade) {
  start();
  struct stat st {};
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(sb_.path("run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(ControlServerTest, AnswersRequestsInOrderOnOneConnection) {
  start();
  const int fd = client();
  send_all(fd, "{\"cmd\":\"a\"}\n{\"cmd\":\"b\"}\r\n");
  const std::string got = read_reply(fd, 2);
  EXPECT_EQ(got, "{\"ok\":true,\"result\":{\"cmd\":\"a\"}}\n{\"ok\":true,\"result\":{\"cmd\":\"b\"}}\n");
}

TEST_F(ControlServerTest, OneRequestAtATimePerConnection) {
  start();
  hold_ = true;
  const int fd = client();
  send_all(fd, "{\"cmd\":\"a\"}\n{\"cmd\":\"b\"}\n");
  for (int i = 0; i < 20; ++i) turn();
  ASSERT_EQ(dispatched_, 1);  // b waits for a's answer
  held_[0](make_error("x_failed", "nope"));
  for (int i = 0; i < 20 && dispatched_ < 2; ++i) turn();
  ASSERT_EQ(dispatched_, 2);
  held_[1](Json(1));
  const std::string got = read_reply(fd, 2);
  EXPECT_EQ(got, "{\"ok\":false,\"error\":\"x_failed\",\"message\":\"nope\"}\n{\"ok\":true,\"result\":1}\n");
}

TEST_F(ControlServerTest, LastLineWithoutNewlineIsAnsweredAtEof) {
  start();
  const int fd = client();
  send_all(fd, "{\"cmd\":\"status\"}");
  shutdown(fd, SHUT_WR);
  const std::string got = read_reply(fd, 1, /*until_eof=*/true);
  EXPECT_EQ(got, "{\"ok\":true,\"result\":{\"cmd\":\"status\"}}\n");
  EXPECT_TRUE(eof_);
}

TEST_F(ControlServerTest, GarbageGetsBadRequestAndACloseOthersGoOn) {
  start();
  const int other = client();
  for (std::string garbage : {std::string("not json\n"), std::string("[1,2]\n"), std::string("{\"cmd\":5}\n"),
                              std::string("\x00\xff\xfe\n", 4), std::string(100000, '{') + "\n"}) {
    const int fd = client();
    send_all(fd, garbage);
    eof_ = false;
    const std::string got = read_reply(fd, 1, /*until_eof=*/true);
    EXPECT_EQ(got.rfind("{\"ok\":false,\"error\":\"bad_request\"", 0), 0u) << got;
    EXPECT_TRUE(eof_);
  }
  send_all(other, "{\"cmd\":\"still\"}\n");
  EXPECT_EQ(read_reply(other), "{\"ok\":true,\"result\":{\"cmd\":\"still\"}}\n");
}

TEST_F(ControlServerTest, OverlongLineIsRefused) {
  start();
  const int fd = client();
  send_all(fd, std::string(kControlMaxLine + 100, 'x'));
  eof_ = false;
  const std::string got = read_reply(fd, 1, /*until_eof=*/true);
  EXPECT_EQ(got.rfind("{\"ok\":false,\"error\":\"bad_request\"", 0), 0u) << got.substr(0, 200);
  EXPECT_TRUE(eof_);
  for (int i = 0; i < 10; ++i) turn();
  EXPECT_EQ(server_->connections(), 0u);
}

TEST_F(ControlServerTest, ALineOfExactlyTheCapIsAccepted) {
  start();
  const int fd = client();
  std::string line = "{\"cmd\":\"big\",\"args\":{\"pad\":\"";
  line += std::string(kControlMaxLine - line.size() - 3, 'p');
  line += "\"}}";
  ASSERT_EQ(line.size(), kControlMaxLine);
  send_all(fd, line + "\n");
  EXPECT_EQ(read_reply(fd), "{\"ok\":true,\"result\":{\"cmd\":\"big\"}}\n");
}

TEST_F(ControlServerTest, ReplyAfterTheClientLeftIsDropped) {
  start();
  hold_ = true;
  const int fd = client();
  send_all(fd, "{\"cmd\":\"slow\"}\n");
  for (int i = 0; i < 20 && dispatched_ == 0; ++i) turn();
  ASSERT_EQ(dispatched_, 1);
  close(fd);
  fds_.clear();
  for (int i = 0; i < 20; ++i) turn();
  held_[0](Json("late"));  // must not crash or write anywhere
  server_.reset();
  held_[0](Json("later still"));  // even with the server gone
}

TEST_F(ControlServerTest, StaleSocketIsReplaced) {
  // A socket file whose daemon died: bound, never unlinked, nobody listening.
  ASSERT_TRUE(make_dirs(sb_.path("run")).ok());
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(fd);
  start();
  const int c = client();
  send_all(c, "{\"cmd\":\"x\"}\n");
  EXPECT_EQ(read_reply(c), "{\"ok\":true,\"result\":{\"cmd\":\"x\"}}\n");
}

TEST_F(ControlServerTest, LiveSocketIsNotTakenOver) {
  start();
  auto second = open_server();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("another gsd is already running on " + path_), std::string::npos);
  // The first one still works.
  const int c = client();
  send_all(c, "{\"cmd\":\"x\"}\n");
  EXPECT_EQ(read_reply(c), "{\"ok\":true,\"result\":{\"cmd\":\"x\"}}\n");
}

TEST_F(ControlServerTest, NotASocketIsLeftAlone) {
  ASSERT_TRUE(make_dirs(sb_.path("run")).ok());
  sb_.write("run/gsd.sock", "precious");
  auto s = open_server();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a socket"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(ControlServerTest, DirectoryOthersCanWriteIsRefusedUnlessSticky) {
  ASSERT_TRUE(make_dirs(sb_.path("run")).ok());
  ASSERT_EQ(chmod(sb_.path("run").c_str(), 0777), 0);
  auto s = open_server();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("other users can write to it"), std::string::npos);
  ASSERT_EQ(chmod(sb_.path("run").c_str(), 01777), 0);  // like /tmp
  start();
}

TEST_F(ControlServerTest, TooLongPathIsAClearError) {
  auto s = ControlServer::open(base_, "/tmp/" + std::string(200, 'x'), [](const ControlRequest&, ControlServer::Reply) {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("too long"), std::string::npos);
}

TEST_F(ControlServerTest, SocketFileIsRemovedOnlyIfStillOurs) {
  start();
  server_.reset();
  struct stat st {};
  EXPECT_NE(lstat(path_.c_str(), &st), 0);

  start();
  // Someone replaced the file (say, a newer daemon after ours looked stale).
  ASSERT_EQ(unlink(path_.c_str()), 0);
  sb_.write("run/gsd.sock", "theirs");
  server_.reset();
  EXPECT_EQ(lstat(path_.c_str(), &st), 0);
}

// A socket bound and listening already, as systemd passes it under
// gsd.socket; `listening` false: bound only.
int premade_socket(const std::string& path, bool listening = true) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || (listening && listen(fd, 8) != 0)) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST_F(ControlServerTest, AdoptedSocketIsServedAndNeverRemoved) {
  ASSERT_TRUE(make_dirs(sb_.path("run")).ok());
  const int fd = premade_socket(path_);
  ASSERT_GE(fd, 0);
  auto s = ControlServer::adopt(base_, fd, [](const ControlRequest& r, ControlServer::Reply reply) {
    Json out = Json::object();
    out["cmd"] = r.cmd;
    reply(std::move(out));
  });
  ASSERT_TRUE(s.ok()) << s.error().message;
  server_ = std::move(*s);
  EXPECT_EQ(server_->path(), path_);
  const int c = client();
  send_all(c, "{\"cmd\":\"a\"}\n");
  EXPECT_EQ(read_reply(c), "{\"ok\":true,\"result\":{\"cmd\":\"a\"}}\n");
  server_.reset();
  struct stat st {};
  EXPECT_EQ(lstat(path_.c_str(), &st), 0) << "the path is systemd's";
}

TEST_F(ControlServerTest, AdoptRefusesASocketThatDoesNotListen) {
  ASSERT_TRUE(make_dirs(sb_.path("run")).ok());
  const int bound = premade_socket(path_, false);
  ASSERT_GE(bound, 0);
  auto s = ControlServer::adopt(base_, bound, [](const ControlRequest&, ControlServer::Reply) {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("is not listening"), std::string::npos) << s.error().message;
  const int datagram = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  s = ControlServer::adopt(base_, datagram, [](const ControlRequest&, ControlServer::Reply) {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("is not a stream socket"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace gs::daemon
