// One scenario per rule of docs/replication.md, on three Replicas over
// in-memory stores with a hand-driven network (messages arrive at once, or
// are held or lost as a test says), and the JSON wire form.
#include "tracker/replica.h"

#include <algorithm>
#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "replica_mem_storage.h"
#include "tracker/replica_wire.h"

namespace gs::tracker {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kTick{100};
constexpr milliseconds kTimeout{1000};
constexpr milliseconds kStep{10};

Replica::Params params() {
  Replica::Params p;
  p.tick = kTick;
  p.timeout = kTimeout;
  p.max_batch = 4;
  p.snapshot_chunk = 64;
  return p;
}

bool has_event(const std::vector<std::string>& events, const std::string& part) {
  return std::any_of(events.begin(), events.end(),
                     [&](const std::string& e) { return e.find(part) != std::string::npos; });
}

// Three trackers. Each ticks every kTick (staggered); what one sends is
// delivered at once unless the test drops it (lost) or holds it (delivered
// on release). A paused tracker neither ticks nor receives; what is sent to
// it waits.
class Trio {
 public:
  explicit Trio(size_t keep = 1000) {
    for (int i = 1; i <= 3; ++i) store[i] = std::make_unique<sim::MemStorage>(keep);
  }

  Instant now() const { return Instant{} + milliseconds(1000) + t_; }
  Replica& r(int i) { return *node[i]; }
  bool up(int i) const { return node[i] != nullptr; }

  void start(int i, bool force = false) {
    node[i] = std::make_unique<Replica>(i, 3, *store[i], params(), now(), force);
    collect(i);
  }
  void crash(int i) {
    node[i].reset();
    paused[i] = false;
    std::erase_if(queue_, [&](const Message& m) { return m.from == i || m.to == i; });
  }
  void pause(int i) { paused[i] = true; }
  void resume(int i) {
    paused[i] = false;
    node[i]->tick(now());
    collect(i);
    deliver();
  }
  void release() {
    for (auto& row : hold) row.fill(false);
    deliver();
  }

  // Runs simulated time forward, ticking and delivering.
  void run(milliseconds d) {
    for (milliseconds end = t_ + d; t_ < end;) step();
  }
  // Runs until `done` or `limit`; returns whether `done` held.
  bool run_until(const std::function<bool()>& done, milliseconds limit = milliseconds(20000)) {
    for (milliseconds end = t_ + limit; t_ < end;) {
      if (done()) return true;
      step();
    }
    return done();
  }

  int primary_count() {
    int n = 0;
    for (int i = 1; i <= 3; ++i) n += up(i) && !paused[i] && r(i).role() == Role::primary;
    return n;
  }
  // The one primary whose isr is everyone, with both others following it.
  bool whole(int p) {
    if (!up(p) || r(p).role() != Role::primary || r(p).view().isr != std::vector<int>{1, 2, 3}) {
      return false;
    }
    for (int i = 1; i <= 3; ++i) {
      if (!up(i) || r(i).primary() != p) return false;
    }
    return true;
  }
  // Starts all three and waits for tracker 1 to lead all of them.
  void converge() {
    for (int i = 1; i <= 3; ++i) start(i);
    ASSERT_TRUE(run_until([&] { return whole(1); })) << "no cluster formed";
  }
  uint64_t write(int p, const std::string& record) {
    auto seq = r(p).submit(record, now());
    EXPECT_TRUE(seq.has_value());
    collect(p);
    deliver();
    return seq.value_or(0);
  }

  std::array<std::unique_ptr<sim::MemStorage>, 4> store;
  std::array<std::unique_ptr<Replica>, 4> node;
  std::array<bool, 4> paused{};
  std::array<std::array<bool, 4>, 4> lose{};  // lose[a][b]: a -> b is lost
  std::array<std::array<bool, 4>, 4> hold{};  // hold[a][b]: a -> b waits for release()
  std::function<bool(const Message&)> lose_if;  // loses what it returns true for
  std::array<std::vector<std::string>, 4> events;
  std::vector<Message> sent;  // everything sent, for inspection

 private:
  void step() {
    t_ += kStep;
    for (int i = 1; i <= 3; ++i) {
      if (up(i) && !paused[i] && (t_.count() + 10 * i) % kTick.count() == 0) {
        node[i]->tick(now());
        collect(i);
      }
    }
    deliver();
  }
  void collect(int i) {
    for (auto& e : node[i]->take_events()) events[i].push_back(std::move(e));
    for (auto& m : node[i]->take_messages()) {
      sent.push_back(m);
      if (lose[m.from][m.to] || (lose_if && lose_if(m)) || !up(m.to)) continue;
      queue_.push_back(std::move(m));
    }
  }
  void deliver() {
    for (int rounds = 0; rounds < 10000; ++rounds) {
      auto it = std::find_if(queue_.begin(), queue_.end(), [&](const Message& m) {
        return up(m.to) && !paused[m.to] && !hold[m.from][m.to];
      });
      if (it == queue_.end()) return;
      Message m = std::move(*it);
      queue_.erase(it);
      node[m.to]->receive(m, now());
      collect(m.to);
    }
    FAIL() << "messages never stop";
  }

  milliseconds t_{0};
  std::deque<Message> queue_;
};

// ---- epochs ----

TEST(Replica, EpochsBelongToOneTrackerEach) {
  EXPECT_EQ(Replica::epoch_owner(1, 3), 1);
  EXPECT_EQ(Replica::epoch_owner(5, 3), 2);
  EXPECT_EQ(Replica::epoch_owner(6, 3), 3);
  EXPECT_EQ(Replica::next_epoch(0, 1, 3), 1u);
  EXPECT_EQ(Replica::next_epoch(1, 1, 3), 4u);
  EXPECT_EQ(Replica::next_epoch(4, 3, 3), 6u);
  EXPECT_EQ(Replica::next_epoch(5, 2, 3), 8u);
}

// ---- rule 8: a new cluster, cold start ----

TEST(Replica, ALoneTrackerIsItsOwnCluster) {
  sim::MemStorage store;
  const Instant t0 = Instant{} + milliseconds(1000);
  Replica r(1, 1, store, params(), t0);
  EXPECT_EQ(r.role(), Role::recovering);
  // Nobody to hear first: it decides on its first tick.
  r.tick(t0 + kTick);
  ASSERT_EQ(r.role(), Role::primary);
  EXPECT_EQ(r.view().isr, std::vector<int>{1});
  EXPECT_EQ(r.submit("w", t0 + kTick), 1u);
  EXPECT_EQ(r.commit(), 1u);
  EXPECT_TRUE(r.take_messages().empty());
}

TEST(Replica, NewClusterStartsOnceEveryTrackerIsUp) {
  Trio c;
  c.start(1);
  c.start(2);
  c.run(10 * kTimeout);
  EXPECT_EQ(c.primary_count(), 0) << "two of three may not start a new cluster";
  c.start(3);
  ASSERT_TRUE(c.run_until([&] { return c.whole(1); }));
  EXPECT_EQ(c.r(1).view().epoch, 1u);
  EXPECT_EQ(c.store[2]->view(), c.r(1).view()) << "the backups keep the view durably";
}

TEST(Replica, ColdStartWaitsForEveryMemberOfTheLastIsr) {
  Trio c;
  c.converge();
  const uint64_t s = c.write(1, "a");
  c.run(kTick);
  ASSERT_GE(c.r(1).commit(), s);
  for (int i = 1; i <= 3; ++i) c.crash(i);
  c.start(1);
  c.start(2);
  c.run(10 * kTimeout);
  EXPECT_EQ(c.primary_count(), 0) << "tracker 3 may have gone on alone";
  for (int i = 1; i <= 2; ++i) EXPECT_EQ(c.r(i).role(), Role::recovering);
  c.start(3);
  ASSERT_TRUE(c.run_until([&] { return c.primary_count() == 1; }));
  EXPECT_EQ(c.store[1]->records(), std::vector<std::string>{"a"});
}

TEST(Replica, TrackerNotInTheNewestIsrWaits) {
  Trio c;
  c.converge();
  c.crash(3);
  ASSERT_TRUE(c.run_until([&] { return c.r(1).view().isr == std::vector<int>{1, 2}; }));
  const uint64_t s = c.write(1, "only-1-and-2");
  c.run(kTick);
  ASSERT_GE(c.r(1).commit(), s);
  c.crash(1);
  c.crash(2);
  c.start(3);
  c.start(2);
  c.run(10 * kTimeout);
  EXPECT_EQ(c.primary_count(), 0) << "3 knows (from 2) it is out; 2 waits for 1";
  EXPECT_EQ(c.r(3).view().isr, (std::vector<int>{1, 2}));
  c.start(1);
  ASSERT_TRUE(c.run_until([&] { return c.whole(1) || c.whole(2); }));
  c.run(kTimeout);
  EXPECT_EQ(c.store[3]->records(), std::vector<std::string>{"only-1-and-2"});
}

// ---- rule 1: commit ----

TEST(Replica, CommitWaitsForEveryIsrMember) {
  Trio c;
  c.converge();
  c.hold[3][1] = true;  // 3's acks wait
  const uint64_t s = c.write(1, "w");
  c.run(kTimeout / 2);
  EXPECT_LT(c.r(1).commit(), s) << "2 acked, 3 did not yet";
  c.release();
  EXPECT_GE(c.r(1).commit(), s);
}

TEST(Replica, OnlyThePrimaryTakesWrites) {
  Trio c;
  c.converge();
  EXPECT_FALSE(c.r(2).submit("x", c.now()).has_value());
  EXPECT_EQ(c.r(2).primary(), 1);
  EXPECT_EQ(c.store[2]->last().seq, 0u);
}

// ---- rule 3: leaving the isr ----

TEST(Replica, SilentMemberLeavesTheIsrAfterTimeout) {
  Trio c;
  c.converge();
  c.crash(3);
  const uint64_t s = c.write(1, "w");
  c.run(kTimeout / 2);
  EXPECT_LT(c.r(1).commit(), s);
  EXPECT_EQ(c.r(1).view().isr, (std::vector<int>{1, 2, 3}));
  ASSERT_TRUE(c.run_until([&] { return c.r(1).commit() >= s; }, 2 * kTimeout));
  EXPECT_EQ(c.r(1).view().isr, (std::vector<int>{1, 2}));
  EXPECT_EQ(c.store[1]->view(), c.r(1).view()) << "durable before it counts";
}

TEST(Replica, LiveLateMemberLeavesOnlyWhenItKnows) {
  Trio c;
  c.converge();
  // 3 is up and pings, but gets no entries, and nothing that carries a view
  // without it: it cannot learn that it left.
  c.lose_if = [](const Message& m) {
    return m.to == 3 && (m.kind == MessageKind::append || m.view.version > 0);
  };
  const uint64_t s = c.write(1, "w");
  ASSERT_TRUE(c.run_until([&] { return c.r(1).view().isr == std::vector<int>{1, 2}; }));
  c.run(kTimeout / 2);
  EXPECT_LT(c.r(1).commit(), s) << "committed without 3, which believes it is in the isr";
  EXPECT_TRUE(c.r(3).view().contains(3));
  // It hears the new view now (from anyone): the write commits.
  c.lose_if = [](const Message& m) {
    return m.to == 3 && m.kind == MessageKind::append && !m.entries.empty();
  };
  ASSERT_TRUE(c.run_until([&] { return c.r(1).commit() >= s; }, kTimeout));
  EXPECT_FALSE(c.r(3).view().contains(3));
  EXPECT_EQ(c.r(3).role(), Role::backup);
}

// ---- rule 4: joining, by suffix or snapshot ----

TEST(Replica, RejoinsAfterCatchingUpBySuffix) {
  Trio c;
  c.converge();
  c.crash(3);
  for (int i = 0; i < 5; ++i) c.write(1, "w" + std::to_string(i));
  ASSERT_TRUE(c.run_until([&] { return c.r(1).view().isr == std::vector<int>{1, 2}; }));
  c.start(3);
  ASSERT_TRUE(c.run_until([&] { return c.whole(1); }));
  EXPECT_EQ(c.store[3]->records(), c.store[1]->records());
  EXPECT_FALSE(has_event(c.events[1], "snapshot"));
}

TEST(Replica, SnapshotWhenTheSuffixIsNoLongerKept) {
  Trio c(/*keep=*/2);
  c.converge();
  c.crash(3);
  for (int i = 0; i < 10; ++i) c.write(1, "w" + std::to_string(i));
  ASSERT_TRUE(c.run_until([&] { return c.r(1).view().isr == std::vector<int>{1, 2}; }));
  c.start(3);
  ASSERT_TRUE(c.run_until([&] { return c.whole(1); }));
  EXPECT_EQ(c.store[3]->records(), c.store[1]->records());
  EXPECT_TRUE(has_event(c.events[1], "snapshot to 3"));
  EXPECT_TRUE(has_event(c.events[3], "installed a snapshot"));
}

TEST(Replica, SnapshotWhenTheLogDiverges) {
  Trio c;
  c.converge();
  c.write(1, "a");
  c.run(kTick);
  c.lose[1][2] = c.lose[1][3] = true;
  c.write(1, "only-on-1");  // never acked, never answered
  c.crash(1);
  c.lose[1][2] = c.lose[1][3] = false;
  ASSERT_TRUE(c.run_until([&] { return c.primary_count() == 1; }));
  ASSERT_EQ(c.r(2).role(), Role::primary);
  c.write(2, "b");
  c.start(1);
  ASSERT_TRUE(c.run_until([&] { return c.whole(2); }));
  const std::vector<std::string> want{"a", "b"};
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(c.store[i]->records(), want) << i;
  EXPECT_TRUE(has_event(c.events[1], "installed a snapshot"));
}

// ---- rule 5: failover ----

TEST(Replica, FailoverPicksTheLowestNumberedLiveMemberOfEqualLogs) {
  Trio c;
  c.converge();
  const uint64_t s = c.write(1, "a");
  c.run(kTick);
  c.crash(1);
  ASSERT_TRUE(c.run_until([&] { return c.primary_count() == 1; }, 3 * kTimeout));
  EXPECT_EQ(c.r(2).role(), Role::primary);
  EXPECT_EQ(c.r(2).view().isr, (std::vector<int>{2, 3}));
  EXPECT_EQ(Replica::epoch_owner(c.r(2).view().epoch, 3), 2);
  EXPECT_GE(c.r(2).commit(), s);
  EXPECT_TRUE(has_event(c.events[2], "candidate"));
}

TEST(Replica, FailoverPicksTheMostUpToDateLiveMember) {
  Trio c;
  c.converge();
  c.lose[1][2] = true;
  c.write(1, "reached-3-only");
  c.crash(1);
  ASSERT_TRUE(c.run_until([&] { return c.primary_count() == 1; }, 3 * kTimeout));
  EXPECT_EQ(c.r(3).role(), Role::primary);
  // 2 was behind: left out of the new isr, but it granted the view, so it
  // knows; it is caught up and joins.
  EXPECT_EQ(c.r(3).view().isr, (std::vector<int>{3}));
  ASSERT_TRUE(c.run_until([&] { return c.r(3).view().isr == std::vector<int>{2, 3}; }));
  EXPECT_EQ(c.store[2]->records(), std::vector<std::string>{"reached-3-only"});
}

TEST(Replica, TakeoverIsDurableOnlyOnceEveryLiveMemberGranted) {
  Trio c;
  c.converge();
  const View before = c.store[2]->view();
  c.lose_if = [](const Message& m) {  // 3's grant never reaches 2
    return m.from == 3 && m.to == 2 && m.kind == MessageKind::ack;
  };
  c.crash(1);
  ASSERT_TRUE(c.run_until([&] { return c.r(2).role() == Role::candidate; }, 3 * kTimeout));
  c.run(kTimeout / 2);
  EXPECT_EQ(c.r(2).role(), Role::candidate);
  EXPECT_EQ(c.store[2]->view(), before) << "a view nobody may know yet must not outrank others";
  EXPECT_GT(c.store[3]->view().epoch, before.epoch) << "3 granted: it refuses older epochs";
  c.lose_if = nullptr;
  ASSERT_TRUE(c.run_until([&] { return c.primary_count() == 1; }, 3 * kTimeout));
}

// ---- rule 6: fencing ----

TEST(Replica, StalePrimaryIsRefusedStepsDownAndNeverCommitsItsOldEpoch) {
  Trio c;
  c.converge();
  const uint64_t epoch = c.r(1).view().epoch;
  // 1 hears the others, they stop hearing 1.
  c.lose[1][2] = c.lose[1][3] = true;
  const uint64_t s = c.write(1, "stale");
  bool committed = false;
  ASSERT_TRUE(c.run_until([&] {
    committed = committed || (c.r(1).role() == Role::primary && c.r(1).commit() >= s);
    return c.r(1).role() != Role::primary;
  }, 5 * kTimeout));
  EXPECT_FALSE(committed);
  EXPECT_LT(c.r(1).commit(), s);
  EXPECT_TRUE(has_event(c.events[1], "stepped down"));
  ASSERT_EQ(c.r(2).role(), Role::primary);

  // An append of the old epoch, late: refused with the newer view.
  Message old;
  old.kind = MessageKind::append;
  old.from = 1;
  old.to = 3;
  old.view = View{epoch, 0, {1, 2, 3}};
  old.role = Role::primary;
  old.prev = c.store[3]->last();
  old.entries = {Entry{old.prev.seq + 1, epoch, "late"}};
  c.r(3).receive(old, c.now());
  const auto out = c.r(3).take_messages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, MessageKind::refuse);
  EXPECT_GT(out[0].view.epoch, epoch);
  EXPECT_EQ(c.store[3]->records().size(), old.prev.seq);

  // Once it hears again, 1 follows the new primary and drops its entry.
  c.lose[1][2] = c.lose[1][3] = false;
  ASSERT_TRUE(c.run_until([&] { return c.whole(2); }));
  EXPECT_TRUE(c.store[1]->records().empty());
}

// ---- rule 7: pauses ----

TEST(Replica, PausedPrimaryStepsDownAndNobodyDecidesForOneTimeout) {
  Trio c;
  c.converge();
  const uint64_t epoch = c.r(1).view().epoch;
  c.pause(1);
  c.run(kTimeout * 7 / 10);  // long enough to notice, too short for a failover
  EXPECT_EQ(c.r(2).primary(), 1);
  c.resume(1);
  EXPECT_EQ(c.r(1).role(), Role::recovering);
  EXPECT_TRUE(has_event(c.events[1], "paused"));
  EXPECT_FALSE(c.r(1).submit("w", c.now()).has_value());
  bool decided = false;
  c.run_until([&] {
    for (int i = 1; i <= 3; ++i) {
      decided = decided || c.r(i).role() == Role::candidate || c.r(i).role() == Role::primary;
    }
    return false;
  }, kTimeout - 2 * kTick);
  EXPECT_FALSE(decided) << "1 is quiet, and the others wait for it (its log is as new)";
  ASSERT_TRUE(c.run_until([&] { return c.whole(1); }, 3 * kTimeout));
  EXPECT_GT(c.r(1).view().epoch, epoch);
}

TEST(Replica, RecoveringTrackerFollowsOnlyAFreshAppend) {
  Trio c;
  c.converge();
  c.crash(3);
  c.start(3);
  c.r(3).tick(c.now());
  uint64_t mark = 0;
  for (const Message& m : c.r(3).take_messages()) mark = m.mark;
  ASSERT_NE(mark, 0u);
  Message probe;
  probe.kind = MessageKind::append;
  probe.from = 1;
  probe.to = 3;
  probe.view = c.r(1).view();
  probe.role = Role::primary;
  probe.last = c.r(1).last();
  probe.echo = mark - 1;  // an append that waited in a queue
  c.r(3).receive(probe, c.now());
  EXPECT_TRUE(c.r(3).take_messages().empty());
  EXPECT_EQ(c.r(3).role(), Role::recovering);
  probe.echo = mark;
  c.r(3).receive(probe, c.now());
  EXPECT_EQ(c.r(3).role(), Role::backup);
  const auto out = c.r(3).take_messages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, MessageKind::ack);
}

// ---- rule 9: forced start ----

TEST(Replica, ForcedPrimaryStartsAloneAtOnce) {
  Trio c;
  c.converge();
  for (int i = 1; i <= 3; ++i) c.crash(i);
  c.start(3, /*force=*/true);
  EXPECT_EQ(c.r(3).role(), Role::primary);
  EXPECT_EQ(c.r(3).view().isr, std::vector<int>{3});
  EXPECT_EQ(Replica::epoch_owner(c.r(3).view().epoch, 3), 3);
  EXPECT_EQ(c.store[3]->view(), c.r(3).view());
  EXPECT_TRUE(has_event(c.events[3], "forced"));
  const uint64_t s = c.write(3, "w");
  EXPECT_EQ(c.r(3).commit(), s);
}

TEST(Replica, PeersReportWhatTheReplicaKnows) {
  Trio c;
  c.converge();
  c.write(1, "a");
  c.run(kTick);
  const auto peers = c.r(2).peers(c.now());
  ASSERT_EQ(peers.size(), 3u);
  EXPECT_EQ(peers[0].role, Role::primary);
  EXPECT_TRUE(peers[0].live);
  EXPECT_EQ(peers[0].last.seq, 1u);
  EXPECT_EQ(peers[1].index, 2);
  EXPECT_EQ(peers[1].role, Role::backup);
}

// ---- the wire ----

Message sample(MessageKind kind) {
  Message m;
  m.kind = kind;
  m.from = 2;
  m.to = 3;
  m.view = View{5, 2, {2, 3}};
  m.role = Role::primary;
  m.last = {9, 5};
  m.commit = 8;
  m.primary = 2;
  m.mark = 123456789;
  m.echo = 42;
  if (kind == MessageKind::append) {
    m.prev = {7, 2};
    m.entries = {Entry{8, 2, std::string("\0\xff binary", 9)}, Entry{9, 5, ""}};
  }
  if (kind == MessageKind::snapshot) {
    m.prev = {9, 5};
    m.total = 10;
    m.offset = 7;
    m.bytes = "\x01\x02\x03";
    m.done = true;
  }
  if (kind == MessageKind::ack) m.received = 7;
  return m;
}

void expect_same(const Message& a, const Message& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.view, b.view);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.last, b.last);
  EXPECT_EQ(a.commit, b.commit);
  EXPECT_EQ(a.primary, b.primary);
  EXPECT_EQ(a.mark, b.mark);
  EXPECT_EQ(a.echo, b.echo);
  EXPECT_EQ(a.prev, b.prev);
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_EQ(a.total, b.total);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.done, b.done);
  EXPECT_EQ(a.received, b.received);
}

TEST(ReplicaWire, EveryKindRoundTrips) {
  for (MessageKind k : {MessageKind::ping, MessageKind::append, MessageKind::ack,
                        MessageKind::refuse, MessageKind::snapshot}) {
    const Message m = sample(k);
    auto back = decode_replica_message(encode_replica_message(m), 3);
    ASSERT_TRUE(back) << kind_name(k) << ": " << back.error().message;
    expect_same(*back, m);
  }
}

TEST(ReplicaWire, Base64IsStrict) {
  for (const std::string& s : {std::string(), std::string("f"), std::string("fo"),
                              std::string("foo"), std::string("\0\xfe\xff", 3)}) {
    auto back = base64_decode(base64_encode(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  for (const char* bad : {"Zm9", "Zm9v\n", "Zm=v", "====", "Z===", "Zm9v!A==", " Zm9v"}) {
    EXPECT_FALSE(base64_decode(bad)) << bad;
  }
}

// Each edit breaks one field of a good append; each must be refused with an
// error, never a crash.
TEST(ReplicaWire, RejectsEveryBadField) {
  const Json good = replica_message_json(sample(MessageKind::append));
  ASSERT_TRUE(replica_message_from_json(good, 3));
  const std::vector<std::pair<const char*, std::function<void(Json&)>>> edits = {
      {"kind", [](Json& j) { j["kind"] = "vote"; }},
      {"kind type", [](Json& j) { j["kind"] = 1; }},
      {"from 0", [](Json& j) { j["from"] = 0; }},
      {"from 4", [](Json& j) { j["from"] = 4; }},
      {"from real", [](Json& j) { j["from"] = 2.0; }},
      {"to = from", [](Json& j) { j["to"] = 2; }},
      {"no view", [](Json& j) { j.as_object().erase(j.as_object().begin() + 3); }},
      {"isr empty", [](Json& j) { j["view"]["isr"] = Json::array(); }},
      {"isr unsorted", [](Json& j) { j["view"]["isr"] = Json::Array{3, 2}; }},
      {"isr twice", [](Json& j) { j["view"]["isr"] = Json::Array{2, 2}; }},
      {"isr 9", [](Json& j) { j["view"]["isr"] = Json::Array{2, 9}; }},
      {"epoch negative", [](Json& j) { j["view"]["epoch"] = -1; }},
      {"version string", [](Json& j) { j["view"]["version"] = "1"; }},
      {"role", [](Json& j) { j["role"] = "leader"; }},
      {"last after view", [](Json& j) { j["last"]["epoch"] = 6; }},
      {"seq 0 epoch 1", [](Json& j) { j["last"] = Json::Object{{"seq", 0}, {"epoch", 1}}; }},
      {"commit negative", [](Json& j) { j["commit"] = -5; }},
      {"primary 4", [](Json& j) { j["primary"] = 4; }},
      {"mark missing", [](Json& j) { j.as_object().erase(j.as_object().begin() + 8); }},
      {"prev missing", [](Json& j) { j["prev"] = nullptr; }},
      {"entries not array", [](Json& j) { j["entries"] = Json::object(); }},
      {"entry gap", [](Json& j) { j["entries"].as_array()[1]["seq"] = 10; }},
      {"entry epoch down", [](Json& j) { j["entries"].as_array()[1]["epoch"] = 1; }},
      {"entry epoch 0", [](Json& j) { j["entries"].as_array()[0]["epoch"] = 0; }},
      {"entry after view", [](Json& j) { j["entries"].as_array()[1]["epoch"] = 6; }},
      {"record not base64", [](Json& j) { j["entries"].as_array()[0]["record"] = "!!!!"; }},
      {"record missing", [](Json& j) { j["entries"].as_array()[0] = Json::Object{{"seq", 8}}; }},
  };
  for (const auto& [name, edit] : edits) {
    Json j = good;
    edit(j);
    auto m = replica_message_from_json(j, 3);
    EXPECT_FALSE(m) << name;
    if (!m) {
      EXPECT_EQ(m.error().code, "bad_message") << name;
    }
  }
}

TEST(ReplicaWire, RejectsBadSnapshotsAndAcks) {
  const Json snap = replica_message_json(sample(MessageKind::snapshot));
  ASSERT_TRUE(replica_message_from_json(snap, 3));
  const std::vector<std::pair<const char*, std::function<void(Json&)>>> edits = {
      {"past total", [](Json& j) { j["offset"] = 8; }},
      {"offset past total", [](Json& j) { j["offset"] = 11; }},
      {"done early", [](Json& j) { j["total"] = 11; }},
      {"done missing", [](Json& j) { j["done"] = "yes"; }},
      {"bytes not base64", [](Json& j) { j["bytes"] = "AQID="; }},
  };
  for (const auto& [name, edit] : edits) {
    Json j = snap;
    edit(j);
    EXPECT_FALSE(replica_message_from_json(j, 3)) << name;
  }
  Json ack = replica_message_json(sample(MessageKind::ack));
  ack["received"] = -1;
  EXPECT_FALSE(replica_message_from_json(ack, 3));
  EXPECT_FALSE(decode_replica_message("{\"kind\":", 3));
  EXPECT_FALSE(decode_replica_message("[]", 3));
  EXPECT_FALSE(decode_replica_message("", 3));
}

}  // namespace
}  // namespace gs::tracker
