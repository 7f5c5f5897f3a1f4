// `trackers` on the daemon side against fake trackers on loopback: the probe
// asks them all at once over links of its own, within its time limit, and
// the control command answers one row each, marking the daemon's link.
#include <gtest/gtest.h>

#include <chrono>

#include "daemon/commands.h"
#include "daemon/session.h"
#include "daemon/state.h"
#include "daemon/tracker_client.h"
#include "daemon/tracker_probe.h"
#include "fake_tracker_server.h"
#include "sandbox.h"
#include "test_loop.h"

namespace gs::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using test::FakeTrackerServer;

// A tracker of a cluster: answers `cluster` with its view, anything else ok.
FakeTrackerServer::Script cluster_member(std::string role, Json primary, int64_t epoch,
                                         int64_t last) {
  return [=](FakeTrackerServer&, FramedConn& c, const Json& req) {
    if (req.get_string("op") != "cluster") return FakeTrackerServer::answer(c, req);
    Json a = Json::object();
    a["role"] = role;
    a["epoch"] = epoch;
    a["primary"] = primary;
    a["commit"] = last;
    a["last"] = last;
    a["trackers"] = Json::array();
    FakeTrackerServer::answer(c, req, a);
  };
}

// A tracker from before the cluster: `cluster` is an unknown op to it.
void old_tracker(FakeTrackerServer&, FramedConn& c, const Json& req) {
  if (req.get_string("op") == "cluster") return FakeTrackerServer::refuse(c, req, "bad_request");
  FakeTrackerServer::answer(c, req);
}

// Greets, then sits on every request.
void silent(FakeTrackerServer&, FramedConn&, const Json&) {}

class TrackerProbeTest : public ::testing::Test {
 protected:
  TrackerProbeTest() : base_(loop_.base()) {}
  ~TrackerProbeTest() override {
    probe_.reset();
    client_.reset();
    servers_.clear();
    loop_.drain();
  }

  FakeTrackerServer& server(FakeTrackerServer::Script script) {
    servers_.push_back(std::make_unique<FakeTrackerServer>(base_, std::move(script)));
    servers_.back()->index = static_cast<int64_t>(servers_.size());
    return *servers_.back();
  }

  Endpoint closed_endpoint() {
    auto l = Listener::open(base_, Endpoint{"127.0.0.1", 0},
                            [](evutil_socket_t fd, const std::string&) { evutil_closesocket(fd); });
    const uint16_t port = (*l)->port();
    delete *l;
    return Endpoint{"127.0.0.1", port};
  }

  test::TestLoop loop_;
  event_base* base_;
  std::vector<std::unique_ptr<FakeTrackerServer>> servers_;
  std::unique_ptr<TrackerClient> client_;
  std::unique_ptr<TrackerProbe> probe_;
};

TEST_F(TrackerProbeTest, AsksEveryTrackerAtOnceWithinItsTimeLimit) {
  auto& backup = server(cluster_member("backup", 2, 3, 118));
  backup.be("backup", 2, 3);
  auto& primary = server(cluster_member("primary", 2, 3, 120));
  primary.be("primary", 2, 3);
  auto& old = server(old_tracker);
  old.be_old();
  auto& quiet = server(silent);
  const Endpoint dead = closed_endpoint();
  probe_ =
      std::make_unique<TrackerProbe>(base_,
                                     std::vector<Endpoint>{backup.endpoint(), primary.endpoint(),
                                                           old.endpoint(), quiet.endpoint(), dead},
                                     milliseconds(400));
  std::optional<std::vector<TrackerProbeResult>> got;
  const auto t0 = Clock::now();
  ASSERT_TRUE(probe_->run([&](std::vector<TrackerProbeResult> r) { got = std::move(r); }).ok());
  EXPECT_FALSE(got.has_value()) << "never answers inside run()";
  ASSERT_TRUE(loop_.run_until([&] { return got.has_value(); }, 3));
  const auto took = Clock::now() - t0;
  // In parallel: the silent one costs its own 0.4 s, not one each.
  EXPECT_GE(took, milliseconds(350));
  EXPECT_LT(took, milliseconds(900));
  ASSERT_EQ(got->size(), 5u);
  const auto& r = *got;
  EXPECT_EQ(r[0].error, "");
  EXPECT_EQ(r[0].cluster.get_int("last"), 118);
  EXPECT_EQ(r[1].cluster.get_string("role"), "primary");
  EXPECT_EQ(r[2].error, "");
  EXPECT_TRUE(r[2].greeted);
  EXPECT_TRUE(r[2].cluster.is_null());
  EXPECT_TRUE(r[3].greeted);
  EXPECT_EQ(r[3].error, "no answer within 0.4 s");
  EXPECT_FALSE(r[4].greeted);
  EXPECT_NE(r[4].error.find("refused"), std::string::npos) << r[4].error;
  EXPECT_EQ(r[4].endpoint, dead);
  // Each link was the probe's own and is gone again.
  loop_.run_until([] { return false; }, 0.1);
  EXPECT_EQ(probe_->rounds(), 0u);
  EXPECT_EQ(primary.ops, (std::vector<std::string>{"cluster"}));
}

TEST_F(TrackerProbeTest, RoundsAreCappedAndADestroyedProbeNeverCallsBack) {
  auto& quiet = server(silent);
  probe_ = std::make_unique<TrackerProbe>(base_, std::vector<Endpoint>{quiet.endpoint()},
                                          milliseconds(2000));
  int called = 0;
  for (size_t i = 0; i < TrackerProbe::kMaxRounds; ++i) {
    ASSERT_TRUE(probe_->run([&](std::vector<TrackerProbeResult>) { ++called; }).ok());
  }
  auto refused = probe_->run([&](std::vector<TrackerProbeResult>) { ++called; });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "busy");
  loop_.run_until([&] { return quiet.hellos == static_cast<int>(TrackerProbe::kMaxRounds); }, 2);
  probe_.reset();
  loop_.run_until([] { return false; }, 0.1);
  EXPECT_EQ(called, 0);
}

TEST_F(TrackerProbeTest, TheTrackersCommandAnswersOneRowEachAndMarksTheLink) {
  // The daemon's side whole: its real tracker link (sent on by tracker 1 to
  // the primary, tracker 2), a probe, and the control command.
  auto& backup = server(cluster_member("backup", 2, 3, 118));
  backup.be("backup", 2, 3);
  auto& primary = server(cluster_member("primary", 2, 3, 120));
  primary.be("primary", 2, 3);
  const Endpoint dead = closed_endpoint();
  const std::vector<Endpoint> file = {backup.endpoint(), primary.endpoint(), dead};
  client_ = std::make_unique<TrackerClient>(base_, TrackerClient::Options{file, 5, {}});
  probe_ = std::make_unique<TrackerProbe>(base_, file, milliseconds(1000));
  test::Sandbox sb;
  auto state = State::open(sb.path("state"));
  ASSERT_TRUE(state.ok()) << state.error().message;
  Session session(**state, *client_, 7411);
  Commands commands(session, *client_, {(*state)->seat(), "127.0.0.1:7411"});
  commands.set_tracker_probe(probe_.get());
  client_->start();
  ASSERT_TRUE(loop_.run_until([&] { return client_->link_ready(); }, 3));

  std::optional<Result<Json>> answer;
  commands.handle(ControlRequest{"trackers", Json::object()},
                  [&](Result<Json> r) { answer = std::move(r); });
  ASSERT_TRUE(loop_.run_until([&] { return answer.has_value(); }, 3));
  ASSERT_TRUE(answer->ok()) << answer->error().message;
  const Json& rows = answer->value();
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 3u);
  const auto& a = rows.as_array();
  EXPECT_EQ(a[0].get_string("role"), "backup");
  EXPECT_EQ(a[0].get_int("behind"), 2);
  EXPECT_EQ(a[0].get_bool("link"), false);
  EXPECT_EQ(a[1].get_string("role"), "primary");
  EXPECT_EQ(a[1].get_int("behind"), 0);
  EXPECT_EQ(a[1].get_bool("link"), true);
  EXPECT_EQ(a[1].get_string("address"), primary.endpoint().str());
  EXPECT_EQ(a[2].get_bool("reachable"), false);
  EXPECT_TRUE(a[2].get_string("error").has_value());

  // Arguments are refused, as for every command; without a probe it says so.
  std::optional<Result<Json>> bad;
  commands.handle(ControlRequest{"trackers", Json(Json::Object{{"x", 1}})},
                  [&](Result<Json> r) { bad = std::move(r); });
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->error().code, "bad_request");
  commands.set_tracker_probe(nullptr);
  std::optional<Result<Json>> none;
  commands.handle(ControlRequest{"trackers", Json::object()},
                  [&](Result<Json> r) { none = std::move(r); });
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->ok());
  client_->stop();
}

}  // namespace
}  // namespace gs::daemon
