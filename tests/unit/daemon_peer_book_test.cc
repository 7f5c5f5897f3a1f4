// PeerBook: who a download may connect to, its back-off, strikes and bans,
// and itself, driven with made-up times.
#include <gtest/gtest.h>

#include "daemon/peer_book.h"

namespace gs::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const DownloadClock::time_point t0{};

PeerBookOptions opts() {
  PeerBookOptions o;
  o.max_known = 4;
  o.reconnect_min = seconds(1);
  o.reconnect_max = seconds(8);
  o.max_strikes = 3;
  return o;
}

TEST(PeerBook, LearnsAddressesOnceAndRenames) {
  PeerBook b(opts());
  EXPECT_EQ(b.learn("alice", "127.0.0.1", 7000), "127.0.0.1:7000");
  EXPECT_EQ(b.learn("alice2", "127.0.0.1", 7000), "127.0.0.1:7000");
  EXPECT_EQ(b.learn("bob", "::1", 7001), "[::1]:7001");
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.find("127.0.0.1:7000")->user, "alice2");
}

TEST(PeerBook, RemembersAtMostMaxKnown) {
  PeerBook b(opts());
  for (uint16_t port = 1; port <= 4; ++port) EXPECT_FALSE(b.learn("u", "127.0.0.1", port).empty());
  EXPECT_TRUE(b.learn("u", "127.0.0.1", 5).empty());
  EXPECT_EQ(b.size(), 4u);
  EXPECT_FALSE(b.learn("v", "127.0.0.1", 1).empty()) << "a known address is still updated";
}

TEST(PeerBook, DueSkipsLinkedBannedSelfBackingOffAndOurUser) {
  PeerBook b(opts());
  const auto a = b.learn("a", "127.0.0.1", 1);
  const auto linked = b.learn("b", "127.0.0.1", 2);
  const auto mine = b.learn("me", "127.0.0.1", 3);
  const auto self = b.learn("c", "127.0.0.1", 4);
  b.linked(linked, 7);
  b.closed(self, false, /*ourselves=*/true, t0);
  EXPECT_EQ(b.due(t0, 10, "me"), std::vector<std::string>{a});
  EXPECT_EQ(b.due(t0, 0, "me"), std::vector<std::string>{});
  // Self is for good: no back-off runs out.
  EXPECT_TRUE(b.find(self)->self);
  EXPECT_EQ(b.due(t0 + seconds(3600), 10, "me"), std::vector<std::string>{a});
  (void)mine;
}

TEST(PeerBook, BackOffDoublesUpToTheMaximum) {
  PeerBook b(opts());
  const auto a = b.learn("a", "127.0.0.1", 1);
  DownloadClock::time_point now = t0;
  const std::vector<int> waits{1, 2, 4, 8, 8, 8};
  for (int w : waits) {
    b.connect_failed(a, now);
    EXPECT_TRUE(b.due(now + seconds(w) - milliseconds(1), 1, "").empty()) << "wait " << w;
    EXPECT_EQ(b.due(now + seconds(w), 1, "").size(), 1u) << "wait " << w;
    now += seconds(w);
  }
}

TEST(PeerBook, ALinkThatDeliveredStartsTheBackOffOver) {
  PeerBook b(opts());
  const auto a = b.learn("a", "127.0.0.1", 1);
  for (int i = 0; i < 4; ++i) b.connect_failed(a, t0);
  EXPECT_EQ(b.find(a)->failures, 4);
  b.linked(a, 1);
  b.closed(a, /*delivered=*/true, false, t0);
  EXPECT_EQ(b.find(a)->failures, 1);
  EXPECT_EQ(b.due(t0 + seconds(1), 1, "").size(), 1u);
  b.linked(a, 2);
  b.closed(a, /*delivered=*/false, false, t0);  // delivered nothing: counts on
  EXPECT_EQ(b.find(a)->failures, 2);
  EXPECT_TRUE(b.due(t0 + seconds(1), 1, "").empty());
}

TEST(PeerBook, ThirdStrikeBansOnceAndForGood) {
  PeerBook b(opts());
  const auto a = b.learn("a", "127.0.0.1", 1);
  b.linked(a, 5);
  EXPECT_EQ(b.strike(a), PeerBook::Strike::counted);
  EXPECT_EQ(b.strike(a), PeerBook::Strike::counted);
  EXPECT_FALSE(b.banned(a));
  EXPECT_EQ(b.strike(a), PeerBook::Strike::banned_now);
  EXPECT_EQ(b.find(a)->link, 5u) << "the caller closes the link it names";
  EXPECT_TRUE(b.banned(a));
  EXPECT_EQ(b.strike(a), PeerBook::Strike::ignored);
  b.closed(a, true, false, t0);
  EXPECT_TRUE(b.due(t0 + seconds(3600), 10, "").empty()) << "a banned peer is never connected again";
  EXPECT_EQ(b.strike("127.0.0.1:9"), PeerBook::Strike::ignored);
}

TEST(PeerBook, StrikesAreCountedPerAddress) {
  PeerBook b(opts());
  const auto a = b.learn("a", "127.0.0.1", 1);
  const auto c = b.learn("a", "127.0.0.1", 2);  // same user, another seat
  b.strike(a);
  b.strike(a);
  b.strike(c);
  EXPECT_FALSE(b.banned(a));
  EXPECT_FALSE(b.banned(c));
}

TEST(PeerBook, UnlinkAllFreesEveryAddressWithoutBackOff) {
  PeerBook b(opts());
  const auto a = b.learn("a", "127.0.0.1", 1);
  const auto c = b.learn("c", "127.0.0.1", 2);
  b.linked(a, 1);
  b.linked(c, 2);
  b.unlink_all();
  EXPECT_EQ(b.due(t0, 10, "").size(), 2u);
}

}  // namespace
}  // namespace gs::daemon
