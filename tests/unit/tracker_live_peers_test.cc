#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "json.h"
#include "tracker/live_peers.h"

namespace gs::tracker {
namespace {

const std::string kF1(64, '1');
const std::string kF2(64, '2');

// Liveness by hand: every session is live unless the test kills it.
struct Liveness {
  std::set<std::string> dead;
  LivePeers::IsLive fn() const {
    return [this](const std::string& t) { return dead.count(t) == 0; };
  }
};

std::vector<std::string> users_of(std::vector<PeerAddress> peers) {
  std::vector<std::string> out;
  for (auto& p : peers) out.push_back(p.user);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TrackerLivePeers, ListsAddedSessionsWithTheirAddress) {
  LivePeers lp;
  Liveness live;
  lp.set_session("ta", "alice", "10.0.0.1", 7001);
  lp.set_session("tb", "bob", "10.0.0.2", 7002);
  lp.add("ta", "alice", "10.0.0.1", "g", kF1);
  lp.add("tb", "bob", "10.0.0.9", "g", kF1);  // bob's daemon moved
  auto peers = lp.peers("g", kF1, live.fn(), "", 100);
  std::sort(peers.begin(), peers.end(), [](auto& a, auto& b) { return a.user < b.user; });
  EXPECT_EQ(peers, (std::vector<PeerAddress>{{"alice", "10.0.0.1", 7001}, {"bob", "10.0.0.9", 7002}}));
  EXPECT_EQ(lp.count("g", kF1, live.fn()), 2u);
  EXPECT_EQ(lp.count("g", kF2, live.fn()), 0u);
  EXPECT_EQ(lp.count("h", kF1, live.fn()), 0u);
  EXPECT_TRUE(lp.peers("h", kF1, live.fn(), "", 100).empty());
}

TEST(TrackerLivePeers, TheAskerIsLeftOut) {
  LivePeers lp;
  Liveness live;
  lp.set_session("ta", "alice", "h", 1);
  lp.set_session("tb", "bob", "h", 2);
  lp.add("ta", "alice", "h", "g", kF1);
  lp.add("tb", "bob", "h", "g", kF1);
  EXPECT_EQ(users_of(lp.peers("g", kF1, live.fn(), "alice", 100)), std::vector<std::string>{"bob"});
  EXPECT_EQ(lp.count("g", kF1, live.fn()), 2u);
}

TEST(TrackerLivePeers, ASessionWithoutPortIsNeverListed) {
  LivePeers lp;
  Liveness live;
  lp.set_session("ta", "alice", "h", std::nullopt);
  lp.add("ta", "alice", "h", "g", kF1);
  lp.add("tb", "bob", "h", "g", kF1);  // never logged in here (tracker restart): no port known
  EXPECT_TRUE(lp.peers("g", kF1, live.fn(), "", 100).empty());
  EXPECT_EQ(lp.count("g", kF1, live.fn()), 0u);
  // A resume with a port makes it listable, in the sets it already is in.
  lp.set_session("ta", "alice", "h", 9);
  EXPECT_EQ(users_of(lp.peers("g", kF1, live.fn(), "", 100)), std::vector<std::string>{"alice"});
}

TEST(TrackerLivePeers, DeadSessionsAreNotListedAndArePruned) {
  LivePeers lp;
  Liveness live;
  for (const char* t : {"ta", "tb", "tc"}) {
    lp.set_session(t, std::string("user-") + t, "h", 1);
    lp.add(t, std::string("user-") + t, "h", "g", kF1);
    lp.add(t, std::string("user-") + t, "h", "g", kF2);
  }
  live.dead = {"tb"};
  EXPECT_EQ(users_of(lp.peers("g", kF1, live.fn(), "", 100)), (std::vector<std::string>{"user-ta", "user-tc"}));
  // Listing one file ended the dead session everywhere.
  EXPECT_EQ(lp.sessions(), 2u);
  EXPECT_EQ(lp.entries(), 4u);
  live.dead = {"ta"};
  EXPECT_EQ(lp.count("g", kF2, live.fn()), 1u);
  EXPECT_EQ(lp.entries(), 2u);
  live.dead = {"tc"};
  lp.prune(live.fn());
  EXPECT_EQ(lp.sessions(), 0u);
  EXPECT_EQ(lp.entries(), 0u);
}

TEST(TrackerLivePeers, EndingASessionLeavesEverySet) {
  LivePeers lp;
  Liveness live;
  lp.set_session("ta", "alice", "h", 1);
  lp.add("ta", "alice", "h", "g", kF1);
  lp.add("ta", "alice", "h", "k", kF2);
  lp.end_session("ta");
  lp.end_session("ta");
  lp.end_session("unknown");
  EXPECT_EQ(lp.count("g", kF1, live.fn()), 0u);
  EXPECT_EQ(lp.count("k", kF2, live.fn()), 0u);
  EXPECT_EQ(lp.sessions(), 0u);
  EXPECT_EQ(lp.entries(), 0u);
}

TEST(TrackerLivePeers, RemoveDropFileDropGroupAndLeavingUsers) {
  LivePeers lp;
  Liveness live;
  lp.set_session("ta", "alice", "h", 1);
  lp.set_session("tb", "bob", "h", 2);
  for (const char* t : {"ta", "tb"}) {
    const std::string user = t == std::string("ta") ? "alice" : "bob";
    lp.add(t, user, "h", "g", kF1);
    lp.add(t, user, "h", "g", kF2);
    lp.add(t, user, "h", "k", kF1);
  }
  lp.remove("ta", "g", kF1);
  lp.remove("ta", "g", kF1);
  lp.remove("nobody", "g", kF1);
  EXPECT_EQ(users_of(lp.peers("g", kF1, live.fn(), "", 100)), std::vector<std::string>{"bob"});

  lp.remove_user_from_group("bob", "g");
  EXPECT_EQ(lp.count("g", kF1, live.fn()), 0u);
  EXPECT_EQ(users_of(lp.peers("g", kF2, live.fn(), "", 100)), std::vector<std::string>{"alice"});
  EXPECT_EQ(lp.count("k", kF1, live.fn()), 2u);  // other groups keep bob

  lp.drop_file("g", kF2);
  EXPECT_EQ(lp.count("g", kF2, live.fn()), 0u);
  lp.drop_group("k");
  lp.drop_group("k");
  lp.drop_file("k", kF1);
  EXPECT_EQ(lp.count("k", kF1, live.fn()), 0u);
  EXPECT_EQ(lp.entries(), 0u);
  // Sessions stay (they are logged in), in no set; ending them leaves nothing.
  EXPECT_EQ(lp.sessions(), 2u);
  lp.end_session("ta");
  lp.end_session("tb");
  EXPECT_EQ(lp.sessions(), 0u);
}

TEST(TrackerLivePeers, LongListsAreCutToARandomPick) {
  LivePeers lp;
  Liveness live;
  for (int i = 0; i < 50; ++i) {
    const std::string t = "t" + std::to_string(i);
    lp.set_session(t, "u" + std::to_string(i), "h", static_cast<uint16_t>(1000 + i));
    lp.add(t, "u" + std::to_string(i), "h", "g", kF1);
  }
  std::set<std::string> seen;
  for (int round = 0; round < 20; ++round) {
    const auto picked = lp.peers("g", kF1, live.fn(), "", 10);
    ASSERT_EQ(picked.size(), 10u);
    for (const auto& p : picked) seen.insert(p.user);
  }
  EXPECT_GT(seen.size(), 20u);  // not always the same ten
  EXPECT_EQ(lp.count("g", kF1, live.fn()), 50u);
}

TEST(TrackerLivePeers, ATokenHashReusedByAnotherUserStartsClean) {
  LivePeers lp;
  Liveness live;
  lp.set_session("t", "alice", "h", 1);
  lp.add("t", "alice", "h", "g", kF1);
  lp.set_session("t", "bob", "h", 2);
  EXPECT_EQ(lp.count("g", kF1, live.fn()), 0u);
  EXPECT_EQ(lp.sessions(), 1u);
}

// Entries as file_info lists them, encoded when the address changes.
std::vector<std::string> entries_of(std::vector<const std::string*> entries) {
  std::vector<std::string> out;
  for (const std::string* e : entries) out.push_back(*e);
  std::sort(out.begin(), out.end());
  return out;
}

std::string entry(const std::string& user, const std::string& host, int port) {
  return Json(Json::Object{{"user", user}, {"host", host}, {"port", port}}).dump();
}

TEST(TrackerLivePeers, PeerEntriesAreTheListedPeersEncoded) {
  LivePeers lp;
  Liveness live;
  lp.set_session("ta", "alice", "10.0.0.1", 7001);
  lp.set_session("tb", "bob", "h\"odd\x01", 7002);
  lp.set_session("tc", "carol", "10.0.0.3", std::nullopt);  // no port: never listed
  lp.add("ta", "alice", "", "g", kF1);                      // no host: the one known stays
  lp.add("tb", "bob", "", "g", kF1);
  lp.add("tc", "carol", "", "g", kF1);
  EXPECT_EQ(entries_of(lp.peer_entries("g", kF1, live.fn(), "", 100)),
            (std::vector<std::string>{entry("alice", "10.0.0.1", 7001),
                                      entry("bob", "h\"odd\x01", 7002)}));
  EXPECT_EQ(entries_of(lp.peer_entries("g", kF1, live.fn(), "alice", 100)),
            std::vector<std::string>{entry("bob", "h\"odd\x01", 7002)});
  EXPECT_TRUE(lp.peer_entries("g", kF2, live.fn(), "", 100).empty());

  // A daemon that moved, or came back on another port, is listed as it is now.
  lp.add("ta", "alice", "10.9.9.9", "g", kF1);
  lp.set_session("tb", "bob", "10.0.0.2", 7102);
  lp.set_session("tc", "carol", "10.0.0.3", 7003);
  EXPECT_EQ(
      entries_of(lp.peer_entries("g", kF1, live.fn(), "", 100)),
      (std::vector<std::string>{entry("alice", "10.9.9.9", 7001), entry("bob", "10.0.0.2", 7102),
                                entry("carol", "10.0.0.3", 7003)}));
  live.dead = {"tb"};
  EXPECT_EQ(lp.peer_entries("g", kF1, live.fn(), "", 1).size(), 1u);
  EXPECT_EQ(lp.sessions(), 2u);  // the dead one was pruned on the way
}

}  // namespace
}  // namespace gs::tracker
