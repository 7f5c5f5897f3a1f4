#include "daemon/control_peer.h"

#include <gtest/gtest.h>

namespace gs::daemon {
namespace {

TEST(DaemonControlPeer, TheDaemonsOwnUserIsLetIn) {
  EXPECT_FALSE(control_peer_refusal(1000, 1000));
  EXPECT_FALSE(control_peer_refusal(65534, 65534));
}

TEST(DaemonControlPeer, RootIsLetInByDesign) {
  EXPECT_FALSE(control_peer_refusal(0, 1000));
  EXPECT_FALSE(control_peer_refusal(0, 0));
}

TEST(DaemonControlPeer, AnyOtherUserIsRefusedWithWordsThatSayWhy) {
  const auto e = control_peer_refusal(1001, 1000);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "not_permitted");
  EXPECT_EQ(e->message,
            "this gsd runs as uid 1000 and takes commands from that user (and root) only, not from uid 1001; "
            "start a gsd of your own");
  // A root daemon takes commands from root only.
  EXPECT_TRUE(control_peer_refusal(1000, 0));
}

}  // namespace
}  // namespace gs::daemon
