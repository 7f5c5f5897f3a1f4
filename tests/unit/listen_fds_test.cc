// Socket activation's environment (lib/listen_fds.h): descriptors only for
// the process LISTEN_PID names.
#include "listen_fds.h"

#include <gtest/gtest.h>

namespace gs {
namespace {

TEST(ListenFds, CountForThisProcess) {
  EXPECT_EQ(listen_fds_count("1", "42", 42), 1);
  EXPECT_EQ(listen_fds_count("3", "42", 42), 3);
}

TEST(ListenFds, NoneForAnotherProcessOrWithoutTheVariables) {
  EXPECT_EQ(listen_fds_count("1", "43", 42), 0);
  EXPECT_EQ(listen_fds_count("1", nullptr, 42), 0);
  EXPECT_EQ(listen_fds_count(nullptr, "42", 42), 0);
  EXPECT_EQ(listen_fds_count("0", "42", 42), 0);
  EXPECT_EQ(listen_fds_count("-1", "42", 42), 0);
  EXPECT_EQ(listen_fds_count("1x", "42", 42), 0);
  EXPECT_EQ(listen_fds_count("1", "42x", 42), 0);
}

}  // namespace
}  // namespace gs
