// The tracker client against small in-process fake trackers on loopback:
// queueing, failover, retry rules, deadlines and protocol errors, with a real
// libevent loop.
#include "daemon/tracker_client.h"

#include <chrono>
#include <set>

#include <gtest/gtest.h>

#include "framed_conn.h"
#include "names.h"
#include "test_loop.h"

namespace gs::daemon {
namespace {

using Clock = std::chrono::steady_clock;

// A tracker that does the handshake and hands every request to a script.
class FakeTrackerServer {
 public:
  using Script = std::function<void(FakeTrackerServer&, FramedConn&, const Json&)>;

  FakeTrackerServer(event_base* base, Script script) : base_(base), script_(std::move(script)) {
    auto l = Listener::open(base, Endpoint{"127.0.0.1", 0},
                            [this](evutil_socket_t fd, const std::string& peer) { accept(fd, peer); });
    EXPECT_TRUE(l.ok());
    listener_.reset(*l);
    port_ = listener_->port();
  }
  ~FakeTrackerServer() { close_all(); }

  Endpoint endpoint() const { return Endpoint{"127.0.0.1", port_}; }
  void close_all() {
    const auto copy = conns_;
    for (FramedConn* c : copy) c->close("test closes");
  }
  void stop_listening() { listener_.reset(); }

  static void answer(FramedConn& c, const Json& req, Json fields = Json::object()) {
    fields["id"] = *req.get_int("id");
    fields["ok"] = true;
    c.send(fields.dump());
  }
  static void refuse(FramedConn& c, const Json& req, const std::string& code) {
    Json a = Json::object();
    a["id"] = *req.get_int("id");
    a["ok"] = false;
    a["error"] = code;
    a["message"] = "refused: " + code;
    c.send(a.dump());
  }

  std::vector<std::string> ops;  // every request seen, in order
  int connections = 0;
  bool bad_version = false;

 private:
  void accept(evutil_socket_t fd, const std::string& peer) {
    ++connections;
    FramedConn::Handlers h;
    h.on_frame = [this](FramedConn& c, std::string_view payload) {
      auto j = Json::parse(payload);
      ASSERT_TRUE(j.ok() && j->is_object());
      if (j->find("hello")) {
        EXPECT_EQ(j->get_string("hello"), "gs-tracker");
        EXPECT_EQ(j->get_int("version"), kTrackerProtoVersion);
        Json a = Json::object();
        if (bad_version) {
          a["ok"] = false;
          a["error"] = "bad_version";
          a["message"] = "wrong version";
          c.send(a.dump());
          c.close_after_flush("bad version");
          return;
        }
        a["hello"] = "gs-tracker";
        a["version"] = kTrackerProtoVersion;
        a["tracker"] = 1;
        c.send(a.dump());
        return;
      }
      ops.push_back(j->get_string("op").value_or("?"));
      script_(*this, c, *j);
    };
    h.on_close = [this](FramedConn& c, const std::string&) { conns_.erase(&c); };
    if (FramedConn* c = FramedConn::accept(base_, fd, kTrackerMaxFrame, peer, std::move(h))) conns_.insert(c);
  }

  event_base* base_;
  Script script_;
  std::unique_ptr<Listener> listener_;
  uint16_t port_ = 0;
  std::set<FramedConn*> conns_;
};

// Answers every request at once with ok and its op name.
void answer_all(FakeTrackerServer&, FramedConn& c, const Json& req) {
  Json f = Json::object();
  f["op_was"] = *req.get_string("op");
  FakeTrackerServer::answer(c, req, f);
}

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

  FakeTrackerServer& server(FakeTrackerServer::Script script = answer_all) {
    servers_.push_back(std::make_unique<FakeTrackerServer>(base_, std::move(script)));
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

TEST_F(TrackerClientTest, ReadsInFlightAreRetriedWritesFail) {
  // The first tracker drops the link on every request; the second answers.
  auto& rude = server([](FakeTrackerServer&, FramedConn& c, const Json&) { c.close("rude"); });
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

TEST_F(TrackerClientTest, AReadIsRetriedOnlyOnce) {
  auto& a = server([](FakeTrackerServer&, FramedConn& c, const Json&) { c.close("rude"); });
  auto& b = server([](FakeTrackerServer&, FramedConn& c, const Json&) { c.close("rude"); });
  auto& c = client({a.endpoint(), b.endpoint()});
  c.start();
  auto read = ask("list_groups");
  ASSERT_TRUE(run_until([&] { return read->has_value(); }));
  ASSERT_FALSE((*read)->ok());
  EXPECT_EQ((*read)->error().code, "tracker_unreachable");
  EXPECT_EQ(a.ops.size() + b.ops.size(), 2u);
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

TEST(RetrySafe, ReadsYesWritesNo) {
  for (const char* op : {"list_groups", "list_requests", "heartbeat", "resume", "logout"}) EXPECT_TRUE(retry_safe(op));
  for (const char* op : {"create_user", "login", "create_group", "join_group", "leave_group", "accept_request",
                         "reject_request"}) {
    EXPECT_FALSE(retry_safe(op)) << op;
  }
}

}  // namespace
}  // namespace gs::daemon
