// The tracker client against small in-process fake trackers on loopback:
// queueing, failover, retry rules, deadlines and protocol errors, with a real
// libevent loop.
#include "daemon/tracker_client.h"

#include <chrono>
#include <set>

#include <gtest/gtest.h>

#include "fake_tracker_server.h"
#include "test_loop.h"

namespace gs::daemon {
namespace {

using Clock = std::chrono::steady_clock;

using test::answer_all;
using test::FakeTrackerServer;

class TrackerClientTest : public ::testing::Test {
 protected:
  TrackerClientTest() : base_(loop_.base()) {
  }
  ~TrackerClientTest() override {
    client_.reset();
    servers_.clear();
    // Let closing links finish before the loop goes.
    loop_.drain();
  }

  // Its hello calls it by its place among the servers made so far: the
  // trackers file of most tests lists them in that order.
  FakeTrackerServer& server(FakeTrackerServer::Script script = answer_all) {
    servers_.push_back(std::make_unique<FakeTrackerServer>(base_, std::move(script)));
    servers_.back()->index = static_cast<int64_t>(servers_.size());
    return *servers_.back();
  }

  // A loopback port nobody listens on.
  Endpoint closed_endpoint() {
    auto l = Listener::open(base_, Endpoint{"127.0.0.1", 0}, [](evutil_socket_t fd, const std::string&) {
      evutil_closesocket(fd);
    });
    const uint16_t port = (*l)->port();
    delete *l;
    return Endpoint{"127.0.0.1", port};
  }

  TrackerClient& client(std::vector<Endpoint> trackers, int timeout_seconds = 5) {
    TrackerClient::Options o;
    o.trackers = std::move(trackers);
    o.timeout_seconds = timeout_seconds;
    o.policy.initial_backoff = std::chrono::milliseconds(20);
    o.policy.max_backoff = std::chrono::milliseconds(200);
    client_ = std::make_unique<TrackerClient>(base_, o);
    return *client_;
  }

  bool run_until(const std::function<bool()>& done, double seconds = 10) { return loop_.run_until(done, seconds); }

  // Makes a request whose answer lands in the returned slot.
  std::shared_ptr<std::optional<Result<Json>>> ask(const std::string& op,
                                                   TrackerApi::Priority prio = TrackerApi::Priority::normal) {
    auto slot = std::make_shared<std::optional<Result<Json>>>();
    client_->request(
        op, {}, [slot](Result<Json> r) { *slot = std::move(r); }, prio);
    return slot;
  }

  test::TestLoop loop_;  // frees the base once the destructor body has reset what uses it
  event_base* base_;
  std::vector<std::unique_ptr<FakeTrackerServer>> servers_;
  std::unique_ptr<TrackerClient> client_;
};

TEST_F(TrackerClientTest, RequestsQueuedBeforeTheLinkAreSentOnceItIsUp) {
  auto& s = server();
  auto& c = client({s.endpoint()});
  auto a = ask("list_groups");
  auto b = ask("create_group");
  EXPECT_FALSE(c.link_ready());
  c.start();
  ASSERT_TRUE(run_until([&] { return a->has_value() && b->has_value(); }));
  ASSERT_TRUE((*a)->ok());
  EXPECT_EQ((*a)->value().get_string("op_was"), "list_groups");
  EXPECT_EQ((*b)->value().get_string("op_was"), "create_group");
  EXPECT_EQ(s.ops, (std::vector<std::string>{"list_groups", "create_group"}));
  EXPECT_TRUE(c.link_ready());
  EXPECT_EQ(c.current_tracker(), s.endpoint().str());
  EXPECT_EQ(c.pending_requests(), 0u);
}

TEST_F(TrackerClientTest, TrackerErrorsArePassedOn) {
  auto& s = server([](FakeTrackerServer&, FramedConn& c, const Json& req) {
    FakeTrackerServer::refuse(c, req, "group_exists");
  });
  auto& c = client({s.endpoint()});
  c.start();
  auto a = ask("create_group");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  ASSERT_FALSE((*a)->ok());
  EXPECT_EQ((*a)->error().code, "group_exists");
  EXPECT_EQ((*a)->error().message, "refused: group_exists");
}

TEST_F(TrackerClientTest, FailsOverToTheNextTracker) {
  const Endpoint dead = closed_endpoint();
  auto& s = server();
  auto& c = client({dead, s.endpoint()});
  c.start();
  auto a = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  EXPECT_TRUE((*a)->ok());
  EXPECT_EQ(c.current_tracker(), s.endpoint().str());

  // That one goes away too; the first is back: the client goes round.
  auto& first = server();
  auto& c2 = client({first.endpoint(), s.endpoint()});
  c2.start();
  ASSERT_TRUE(run_until([&] { return c2.link_ready(); }));
  EXPECT_EQ(c2.current_tracker(), first.endpoint().str());
  first.stop_listening();
  first.close_all();
  auto b = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return b->has_value(); }));
  EXPECT_TRUE((*b)->ok());
  EXPECT_EQ(c2.current_tracker(), s.endpoint().str());
}

TEST_F(TrackerClientTest, OnAnOldTrackerReadsInFlightAreRetriedWritesFail) {
  // The first tracker is from before the cluster (no role in its hello, so
  // no rids honoured) and drops the link on every request; the second answers.
  auto& rude = server([](FakeTrackerServer&, FramedConn& c, const Json&) { c.close("rude"); });
  rude.be_old();
  auto& good = server();
  auto& c = client({rude.endpoint(), good.endpoint()});
  c.start();
  ASSERT_TRUE(run_until([&] { return c.link_ready(); }));
  ASSERT_EQ(c.current_tracker(), rude.endpoint().str());
  auto read = ask("list_groups");
  auto write = ask("create_group");
  ASSERT_TRUE(run_until([&] { return read->has_value() && write->has_value(); }));
  ASSERT_TRUE((*read)->ok()) << (*read)->error().message;
  EXPECT_EQ((*read)->value().get_string("op_was"), "list_groups");
  ASSERT_FALSE((*write)->ok());
  EXPECT_EQ((*write)->error().code, "tracker_unreachable");
  EXPECT_NE((*write)->error().message.find("may or may not"), std::string::npos);
  EXPECT_EQ(good.ops, (std::vector<std::string>{"list_groups"}));
}

TEST_F(TrackerClientTest, AWriteInFlightWhenTheLinkDiesIsResentWithItsRid) {
  // A tracker of a cluster dies under a write: the write goes to the next
  // tracker with the same rid (the cluster applies it once), and is answered.
  auto& dying = server([](FakeTrackerServer&, FramedConn& c, const Json&) { c.close("crashed"); });
  auto& next = server();
  auto& c = client({dying.endpoint(), next.endpoint()});
  c.start();
  ASSERT_TRUE(run_until([&] { return c.link_ready(); }));
  int answers = 0;
  std::optional<Result<Json>> write;
  c.request("create_group", {{"group", "g"}}, [&](Result<Json> r) {
    ++answers;
    write = std::move(r);
  });
  ASSERT_TRUE(run_until([&] { return write.has_value(); }));
  ASSERT_TRUE(write->ok()) << write->error().message;
  ASSERT_EQ(dying.requests.size(), 1u);
  ASSERT_EQ(next.requests.size(), 1u);
  const auto rid = dying.requests[0].get_string("rid");
  ASSERT_TRUE(rid.has_value());
  EXPECT_EQ(rid->size(), 32u);
  EXPECT_EQ(rid->find_first_not_of("0123456789abcdef"), std::string::npos) << *rid;
  EXPECT_EQ(next.requests[0].get_string("rid"), rid);
  EXPECT_EQ(next.requests[0].get_string("group"), "g");
  run_until([] { return false; }, 0.1);
  EXPECT_EQ(answers, 1);
}

TEST_F(TrackerClientTest, WritesCarryAFreshRidAndReadsNone) {
  auto& s = server();
  auto& c = client({s.endpoint()});
  c.start();
  auto a = ask("create_group");
  auto b = ask("create_group");
  auto l = ask("login");
  auto r = ask("list_groups");
  auto h = ask("heartbeat");
  ASSERT_TRUE(run_until([&] { return a->has_value() && b->has_value() && l->has_value() && r->has_value() && h->has_value(); }));
  ASSERT_EQ(s.requests.size(), 5u);
  const auto rid_a = s.requests[0].get_string("rid");
  const auto rid_b = s.requests[1].get_string("rid");
  ASSERT_TRUE(rid_a && rid_b);
  EXPECT_NE(*rid_a, *rid_b);  // one per logical request, not per op
  EXPECT_TRUE(s.requests[2].get_string("rid").has_value()) << "login is a write, and safe to resend with its rid";
  EXPECT_EQ(s.requests[3].find("rid"), nullptr);
  EXPECT_EQ(s.requests[4].find("rid"), nullptr);
}

TEST_F(TrackerClientTest, ARequestOutlivesAtMostMaxOfNAndTwoLinks) {
  // A request that kills every tracker it reaches must not take the whole
  // cluster down: with two trackers it is sent twice, then fails.
  auto& a = server([](FakeTrackerServer&, FramedConn& c, const Json&) { c.close("rude"); });
  auto& b = server([](FakeTrackerServer&, FramedConn& c, const Json&) { c.close("rude"); });
  auto& c = client({a.endpoint(), b.endpoint()});
  c.start();
  // One at a time: a tracker that closes on a request never reads the next.
  auto read = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return read->has_value(); }));
  auto write = ask("create_group");
  ASSERT_TRUE(run_until([&] { return write->has_value(); }));
  ASSERT_FALSE((*read)->ok());
  EXPECT_EQ((*read)->error().code, "tracker_unreachable");
  ASSERT_FALSE((*write)->ok());
  EXPECT_NE((*write)->error().message.find("the last of 2 links"), std::string::npos) << (*write)->error().message;
  const auto count = [&](const std::string& op) {
    return std::count(a.ops.begin(), a.ops.end(), op) + std::count(b.ops.begin(), b.ops.end(), op);
  };
  EXPECT_EQ(count("list_groups"), 2);
  EXPECT_EQ(count("create_group"), 2);

  // With three, three times.
  auto& d = server([](FakeTrackerServer&, FramedConn& c, const Json&) { c.close("rude"); });
  a.ops.clear();
  b.ops.clear();
  auto& c3 = client({a.endpoint(), b.endpoint(), d.endpoint()});
  c3.start();
  auto w3 = ask("create_group");
  ASSERT_TRUE(run_until([&] { return w3->has_value(); }));
  ASSERT_FALSE((*w3)->ok());
  EXPECT_EQ(count("create_group") + std::count(d.ops.begin(), d.ops.end(), "create_group"), 3);
}

TEST_F(TrackerClientTest, NoTrackerMeansUnreachableNamingWhatWasTried) {
  const Endpoint d1 = closed_endpoint();
  const Endpoint d2 = closed_endpoint();
  auto& c = client({d1, d2}, /*timeout_seconds=*/1);
  c.start();
  const auto t0 = Clock::now();
  auto a = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));
  ASSERT_FALSE((*a)->ok());
  EXPECT_EQ((*a)->error().code, "tracker_unreachable");
  EXPECT_NE((*a)->error().message.find(d1.str()), std::string::npos) << (*a)->error().message;
  EXPECT_NE((*a)->error().message.find(d2.str()), std::string::npos);
  EXPECT_FALSE(c.link_ready());
  EXPECT_EQ(c.pending_requests(), 0u);
}

TEST_F(TrackerClientTest, WhenEveryTrackerRefusesRequestsFailAtOnce) {
  // No need to sit out a 30 s deadline when each tracker has refused since.
  const Endpoint d1 = closed_endpoint();
  auto& c = client({d1}, /*timeout_seconds=*/30);
  c.start();
  ASSERT_TRUE(run_until([&] { return !c.link_ready() && c.pending_requests() == 0; }, 1));
  run_until([] { return false; }, 0.5);  // well into backoff now
  const auto t0 = Clock::now();
  auto a = ask("login");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }, 5));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
  ASSERT_FALSE((*a)->ok());
  EXPECT_EQ((*a)->error().message.rfind("no tracker reachable (" + d1.str() + ": ", 0), 0u) << (*a)->error().message;

  // A tracker that comes up in time still gets queued requests.
  auto& s = server();
  auto& c2 = client({closed_endpoint(), s.endpoint()}, 30);
  auto b = ask("list_groups");
  c2.start();
  ASSERT_TRUE(run_until([&] { return b->has_value(); }, 5));
  EXPECT_TRUE((*b)->ok());
}

TEST_F(TrackerClientTest, ASilentTrackerTimesOutAndTheLinkIsDropped) {
  int answered = 0;
  auto& s = server([&answered](FakeTrackerServer&, FramedConn& c, const Json& req) {
    if (req.get_string("op") == "heartbeat") return;  // sits on it
    ++answered;
    FakeTrackerServer::answer(c, req);
  });
  auto& c = client({s.endpoint()}, /*timeout_seconds=*/1);
  c.start();
  auto a = ask("heartbeat");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  ASSERT_FALSE((*a)->ok());
  EXPECT_EQ((*a)->error().code, "tracker_unreachable");
  EXPECT_NE((*a)->error().message.find("did not answer"), std::string::npos);
  // The client reconnects and goes on.
  auto b = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return b->has_value(); }));
  EXPECT_TRUE((*b)->ok());
  EXPECT_EQ(s.connections, 2);
}

TEST_F(TrackerClientTest, ProtocolErrorsDropTheLink) {
  int round = 0;
  auto& s = server([&round](FakeTrackerServer&, FramedConn& c, const Json& req) {
    if (++round == 1) {
      c.send(R"({"id":424242,"ok":true})");  // an id we never sent
      return;
    }
    if (round == 2) {
      c.send("[1,2,3]");  // not an object
      return;
    }
    FakeTrackerServer::answer(c, req);
  });
  auto& c = client({s.endpoint()});
  c.start();
  auto a = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  // Each bad answer cost a link; the read was retried once, then given up.
  ASSERT_FALSE((*a)->ok());
  EXPECT_EQ((*a)->error().code, "tracker_unreachable");
  EXPECT_EQ(s.connections, 2);
  auto b = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return b->has_value(); }));
  EXPECT_TRUE((*b)->ok());
  EXPECT_EQ(s.connections, 3);
}

TEST_F(TrackerClientTest, BadHandshakeFailsOver) {
  auto& old = server();
  old.bad_version = true;
  auto& good = server();
  auto& c = client({old.endpoint(), good.endpoint()});
  c.start();
  auto a = ask("create_group");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  EXPECT_TRUE((*a)->ok());
  EXPECT_EQ(c.current_tracker(), good.endpoint().str());
  EXPECT_TRUE(old.ops.empty());
}

TEST_F(TrackerClientTest, LinkUpHookGoesBeforeQueuedRequests) {
  auto& s = server();
  auto& c = client({s.endpoint()});
  std::shared_ptr<std::optional<Result<Json>>> resume;
  c.set_on_link_up([&] { resume = ask("resume", TrackerApi::Priority::first); });
  auto a = ask("list_groups");
  c.start();
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  ASSERT_TRUE(resume && resume->has_value());
  EXPECT_EQ(s.ops, (std::vector<std::string>{"resume", "list_groups"}));

  // And again after a reconnect.
  s.close_all();
  auto b = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return b->has_value(); }));
  EXPECT_EQ(s.ops, (std::vector<std::string>{"resume", "list_groups", "resume", "list_groups"}));
}

TEST_F(TrackerClientTest, StopDropsPendingRequestsSilently) {
  const Endpoint dead = closed_endpoint();
  auto& c = client({dead});
  c.start();
  bool called = false;
  c.request("list_groups", {}, [&called](Result<Json>) { called = true; });
  c.stop();
  EXPECT_EQ(c.pending_requests(), 0u);
  c.request("list_groups", {}, [&called](Result<Json>) { called = true; });
  run_until([] { return false; }, 0.2);
  EXPECT_FALSE(called);
}

// ---- the cluster: only the primary serves ----

TEST_F(TrackerClientTest, ABackupsHelloSendsTheLinkStraightToTheNamedPrimary) {
  // Tracker 1 is a backup naming tracker 3: tracker 2 is never tried.
  auto& backup = server();
  backup.be("backup", 3, 3);
  auto& skipped = server();
  auto& primary = server();
  primary.be("primary", 3, 3);
  auto& c = client({backup.endpoint(), skipped.endpoint(), primary.endpoint()});
  testing::internal::CaptureStderr();
  c.start();
  auto a = ask("create_group");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  const std::string log = testing::internal::GetCapturedStderr();
  ASSERT_TRUE((*a)->ok()) << (*a)->error().message;
  EXPECT_EQ(c.current_tracker(), primary.endpoint().str());
  EXPECT_EQ(c.current_tracker_index(), 2u);
  EXPECT_TRUE(backup.ops.empty());
  EXPECT_EQ(skipped.connections, 0);
  EXPECT_EQ(primary.ops, (std::vector<std::string>{"create_group"}));
  // One line says where the link went and why it left tracker 1.
  EXPECT_NE(log.find("tracker link: now tracker 3 (primary, epoch 3) at " + primary.endpoint().str() +
                     "; tracker 1: backup of epoch 3, naming tracker 3 as the primary"),
            std::string::npos)
      << log;
}

TEST_F(TrackerClientTest, ANotPrimaryAnswerSendsTheRequestToTheNamedPrimaryOnce) {
  // Tracker 1 was the primary at the handshake and has stepped down since.
  auto& old = server([](FakeTrackerServer&, FramedConn& c, const Json& req) {
    FakeTrackerServer::not_primary(c, req, 2);
  });
  auto& primary = server();
  primary.be("primary", 2, 2);
  auto& c = client({old.endpoint(), primary.endpoint()});
  c.start();
  ASSERT_TRUE(run_until([&] { return c.link_ready(); }));
  ASSERT_EQ(c.current_tracker_index(), 0u);
  int answers = 0;
  std::optional<Result<Json>> got;
  c.request("join_group", {{"group", "g"}}, [&](Result<Json> r) {
    ++answers;
    got = std::move(r);
  });
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  ASSERT_TRUE(got->ok()) << got->error().message;
  EXPECT_EQ(got->value().get_string("op_was"), "join_group");
  EXPECT_EQ(c.current_tracker_index(), 1u);
  ASSERT_EQ(old.requests.size(), 1u);
  ASSERT_EQ(primary.requests.size(), 1u);
  EXPECT_EQ(primary.requests[0].get_string("rid"), old.requests[0].get_string("rid"));
  run_until([] { return false; }, 0.1);
  EXPECT_EQ(answers, 1);
}

TEST_F(TrackerClientTest, TheSessionIsResumedFirstWhereTheLinkMoves) {
  // What the daemon does on every link: resume ahead of anything else, on
  // the new primary too, and the refused request follows it there.
  auto& old = server([](FakeTrackerServer&, FramedConn& c, const Json& req) {
    if (req.get_string("op") == "resume") return FakeTrackerServer::answer(c, req);
    FakeTrackerServer::not_primary(c, req, 2);
  });
  auto& primary = server();
  primary.be("primary", 2, 2);
  auto& c = client({old.endpoint(), primary.endpoint()});
  std::vector<std::shared_ptr<std::optional<Result<Json>>>> resumes;
  c.set_on_link_up([&] { resumes.push_back(ask("resume", TrackerApi::Priority::first)); });
  c.start();
  ASSERT_TRUE(run_until([&] { return c.link_ready() && !resumes.empty() && resumes[0]->has_value(); }));
  auto a = ask("create_group");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  EXPECT_TRUE((*a)->ok());
  EXPECT_EQ(old.ops, (std::vector<std::string>{"resume", "create_group"}));
  EXPECT_EQ(primary.ops, (std::vector<std::string>{"resume", "create_group"}));
}

TEST_F(TrackerClientTest, TwoTrackersNamingEachOtherCannotBounceARequestForEver) {
  // Both backups, each naming the other as the primary.
  auto& one = server();
  one.be("backup", 2, 5);
  auto& two = server();
  two.be("backup", 1, 5);
  auto& c = client({one.endpoint(), two.endpoint()}, /*timeout_seconds=*/5);
  c.start();
  const auto t0 = Clock::now();
  auto a = ask("create_group");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }, 6));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2)) << "fails at the hop limit, not at the deadline";
  ASSERT_FALSE((*a)->ok());
  EXPECT_EQ((*a)->error().code, "tracker_unreachable");
  const std::string& m = (*a)->error().message;
  EXPECT_EQ(m.rfind("no primary: the trackers sent 'create_group' on 5 times", 0), 0u) << m;
  EXPECT_NE(m.find(one.endpoint().str() + ": backup of epoch 5, naming tracker 2 as the primary"), std::string::npos)
      << m;
  EXPECT_NE(m.find(two.endpoint().str() + ": backup of epoch 5, naming tracker 1 as the primary"), std::string::npos)
      << m;
  EXPECT_TRUE(one.ops.empty() && two.ops.empty());
  // With nothing to send, the client goes on looking for a primary, with
  // backoff, not in a hot loop.
  const int hellos = one.hellos + two.hellos;
  run_until([] { return false; }, 1.0);
  EXPECT_LT(one.hellos + two.hellos - hellos, 30);
}

TEST_F(TrackerClientTest, TrackersThatAcceptButAnswerNotPrimaryCannotBounceARequestForEver) {
  // Both say "primary" at the hello, then refuse every request naming the other.
  auto& one = server([](FakeTrackerServer&, FramedConn& c, const Json& req) {
    FakeTrackerServer::not_primary(c, req, 2);
  });
  auto& two = server([](FakeTrackerServer&, FramedConn& c, const Json& req) {
    FakeTrackerServer::not_primary(c, req, 1);
  });
  auto& c = client({one.endpoint(), two.endpoint()}, /*timeout_seconds=*/5);
  c.start();
  auto a = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }, 6));
  ASSERT_FALSE((*a)->ok());
  EXPECT_NE((*a)->error().message.find("no primary"), std::string::npos) << (*a)->error().message;
  EXPECT_EQ(one.ops.size() + two.ops.size(), 5u);  // 2 * N hops followed, the fifth refusal ends it
}

TEST_F(TrackerClientTest, AnUnknownPrimaryMeansTryingTheOthersInOrder) {
  auto& lost = server();
  lost.be("recovering", nullptr, 4);
  auto& also_lost = server();
  also_lost.be("backup", nullptr, 4);
  auto& primary = server();
  primary.be("primary", 3, 4);
  auto& c = client({lost.endpoint(), also_lost.endpoint(), primary.endpoint()});
  c.start();
  auto a = ask("create_group");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  ASSERT_TRUE((*a)->ok()) << (*a)->error().message;
  EXPECT_EQ(c.current_tracker_index(), 2u);
  EXPECT_EQ(lost.hellos, 1);
  EXPECT_EQ(also_lost.hellos, 1);
}

TEST_F(TrackerClientTest, ARequestWaitsForAPrimaryToEmergeWithinItsDeadline) {
  // Tracker 1 is down and tracker 2 has not taken over yet: no failing at
  // once (a tracker answered), the request waits for the new primary.
  const Endpoint dead = closed_endpoint();
  auto& next = server();
  next.be("backup", 1, 6);
  auto& c = client({dead, next.endpoint()}, /*timeout_seconds=*/5);
  c.start();
  auto a = ask("create_group");
  run_until([] { return false; }, 0.5);
  ASSERT_FALSE(a->has_value()) << (*a)->error().message;
  next.be("primary", 2, 7);
  ASSERT_TRUE(run_until([&] { return a->has_value(); }, 5));
  ASSERT_TRUE((*a)->ok()) << (*a)->error().message;
  EXPECT_EQ(c.current_tracker_index(), 1u);
}

TEST_F(TrackerClientTest, WithoutAPrimaryARequestFailsAtItsDeadlineSayingSo) {
  auto& one = server();
  one.be("backup", nullptr, 2);
  auto& two = server();
  two.be("recovering", nullptr, 2);
  auto& c = client({one.endpoint(), two.endpoint()}, /*timeout_seconds=*/1);
  c.start();
  const auto t0 = Clock::now();
  auto a = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }, 3));
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  ASSERT_FALSE((*a)->ok());
  const std::string& m = (*a)->error().message;
  EXPECT_EQ(m.rfind("no tracker answered as the primary within 1 s (", 0), 0u) << m;
  EXPECT_NE(m.find("recovering of epoch 2, knowing no primary"), std::string::npos) << m;
}

TEST_F(TrackerClientTest, AHelloRefusedWithNotPrimaryIsARedirectToo) {
  auto& refusing = server();
  refusing.hello_answer = Json(Json::Object{{"ok", false}, {"error", "not_primary"}, {"primary", 3}});
  auto& skipped = server();
  auto& primary = server();
  auto& c = client({refusing.endpoint(), skipped.endpoint(), primary.endpoint()});
  c.start();
  auto a = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  EXPECT_TRUE((*a)->ok());
  EXPECT_EQ(c.current_tracker_index(), 2u);
  EXPECT_EQ(skipped.connections, 0);
}

TEST_F(TrackerClientTest, AnOldTrackerWithoutARoleIsThePrimary) {
  auto& s = server();
  s.be_old();
  auto& c = client({s.endpoint()});
  c.start();
  auto a = ask("create_group");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  EXPECT_TRUE((*a)->ok());
}

TEST_F(TrackerClientTest, AMalformedRoleIsAProtocolErrorAndFailsOver) {
  auto& odd = server();
  odd.hello_fields = Json::object();
  odd.hello_fields["role"] = 7;
  auto& good = server();
  auto& c = client({odd.endpoint(), good.endpoint()});
  c.start();
  auto a = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  EXPECT_TRUE((*a)->ok());
  EXPECT_EQ(c.current_tracker_index(), 1u);
  EXPECT_TRUE(odd.ops.empty());
}

TEST(RetrySafe, ReadsYesWritesNo) {
  for (const char* op : {"list_groups", "list_requests", "heartbeat", "resume", "logout", "list_files", "file_info",
                         "cluster"}) {
    EXPECT_TRUE(retry_safe(op)) << op;
  }
  for (const char* op : {"create_user", "login", "create_group", "join_group", "leave_group", "accept_request",
                         "reject_request", "share_file", "announce", "stop_share"}) {
    EXPECT_FALSE(retry_safe(op)) << op;
  }
}

}  // namespace
}  // namespace gs::daemon
