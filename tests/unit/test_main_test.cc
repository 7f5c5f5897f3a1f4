// Checks tests/unit/test_main.cc: unit test binaries survive a write to a
// socket whose other end is closed, as the daemons do.
#include <gtest/gtest.h>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace gs {
namespace {

TEST(TestMain, WriteToClosedSocketGivesEpipeNotSigpipe) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ASSERT_EQ(close(fds[1]), 0);
  // Plain write(2), no MSG_NOSIGNAL: with SIGPIPE at its default this kills
  // the binary and the test is reported as crashed.
  const char byte = 'x';
  errno = 0;
  EXPECT_EQ(write(fds[0], &byte, 1), -1);
  EXPECT_EQ(errno, EPIPE);
  close(fds[0]);
}

}  // namespace
}  // namespace gs
