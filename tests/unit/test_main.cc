// The main() of every unit test binary, in place of gtest_main: it ignores
// SIGPIPE as the daemons do (lib/service.h). The code under test writes to
// sockets with write(2) and sendfile(2) (through libevent), which raise
// SIGPIPE when the other side has gone, e.g. a peer closed at logout; the
// daemons then see EPIPE and drop the link, and a test binary must behave the
// same instead of being killed by the signal.
#include <gtest/gtest.h>

#include "service.h"

int main(int argc, char** argv) {
  gs::ignore_sigpipe();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
