// Control commands and the session, driven with a fake tracker that records
// requests and answers them by hand, over a real state file.
#include "daemon/commands.h"
#include "daemon/limits_control.h"

#include <deque>

#include <gtest/gtest.h>

#include "daemon/session.h"
#include "daemon/state.h"
#include "sandbox.h"

namespace gs::daemon {
namespace {

class FakeTracker : public TrackerApi {
 public:
  struct Call {
    std::string op;
    Fields fields;
    Done done;
    Priority priority;
    const Json* field(std::string_view key) const {
      for (const auto& [k, v] : fields) {
        if (k == key) return &v;
      }
      return nullptr;
    }
    std::string str(std::string_view key) const {
      const Json* v = field(key);
      return v && v->is_string() ? v->as_string() : "<absent>";
    }
  };

  void request(std::string op, Fields fields, Done done, Priority priority) override {
    calls.push_back({std::move(op), std::move(fields), std::move(done), priority});
  }
  bool link_ready() const override { return ready; }
  std::optional<std::string> current_tracker() const override {
    if (!ready) return std::nullopt;
    return "127.0.0.1:7400";
  }
  std::optional<size_t> current_tracker_index() const override {
    if (!ready) return std::nullopt;
    return 0;
  }

  Call take() {
    EXPECT_FALSE(calls.empty());
    if (calls.empty()) return {};
    Call c = std::move(calls.front());
    calls.pop_front();
    return c;
  }

  std::deque<Call> calls;
  bool ready = true;
};

Json obj(std::initializer_list<std::pair<const char*, Json>> members) {
  Json j = Json::object();
  for (const auto& [k, v] : members) j[k] = v;
  return j;
}

Json ok_answer(std::initializer_list<std::pair<const char*, Json>> members = {}) {
  Json j = obj(members);
  j["ok"] = true;
  return j;
}

const std::string kToken(64, 'a');

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    commands_.reset();
    session_.reset();
    state_.reset();
    auto st = State::open(sb_.path("state"));
    ASSERT_TRUE(st.ok()) << st.error().message;
    state_ = std::move(*st);
    session_ = std::make_unique<Session>(*state_, tracker_, 7411);
    commands_ = std::make_unique<Commands>(*session_, tracker_, Commands::Info{state_->seat(), "127.0.0.1:7411"});
  }

  // Runs a command; the answer, if it came already.
  std::optional<Result<Json>>& run(const std::string& cmd, Json args = Json::object()) {
    answers_.emplace_back();
    auto* slot = &answers_.back();
    commands_->handle(ControlRequest{cmd, std::move(args)}, [slot](Result<Json> r) {
      EXPECT_FALSE(slot->has_value()) << "answered twice";
      *slot = std::move(r);
    });
    return *slot;
  }

  void login_alice() {
    auto& a = run("login", obj({{"user", "alice"}, {"password", "pw-secret"}}));
    tracker_.take().done(ok_answer({{"token", kToken}}));
    ASSERT_TRUE(a.has_value() && a->ok());
  }

  static std::string code(const std::optional<Result<Json>>& a) {
    if (!a) return "<no answer>";
    return a->ok() ? "ok" : a->error().code;
  }
  static std::string message(const std::optional<Result<Json>>& a) {
    return a && !a->ok() ? a->error().message : "";
  }

  test::Sandbox sb_;
  FakeTracker tracker_;
  std::unique_ptr<State> state_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<Commands> commands_;
  std::deque<std::optional<Result<Json>>> answers_;
};

TEST_F(CommandsTest, StatusWithoutSession) {
  auto& a = run("status");
  ASSERT_EQ(code(a), "ok");
  const Json& r = a->value();
  EXPECT_TRUE(r.find("user")->is_null());
  EXPECT_EQ(r.get_string("tracker"), "127.0.0.1:7400");
  EXPECT_EQ(r.get_string("seat"), state_->seat());
  EXPECT_EQ(r.get_string("listen"), "127.0.0.1:7411");
  tracker_.ready = false;
  EXPECT_TRUE(run("status")->value().find("tracker")->is_null());
}

TEST_F(CommandsTest, UnknownCommandAndBadArgs) {
  EXPECT_EQ(code(run("no_such")), "unknown_command");
  EXPECT_EQ(code(run("create_group")), "bad_request");
  EXPECT_EQ(code(run("create_group", obj({{"group", 5}}))), "bad_request");
  EXPECT_EQ(code(run("create_group", obj({{"group", "bad name"}}))), "bad_request");
  EXPECT_EQ(code(run("create_group", obj({{"group", std::string(65, 'g')}}))), "bad_request");
  EXPECT_EQ(code(run("create_group", obj({{"group", "g"}, {"extra", 1}}))), "bad_request");
  EXPECT_EQ(code(run("status", obj({{"x", 1}}))), "bad_request");
  EXPECT_EQ(code(run("login", obj({{"user", "alice"}}))), "bad_request");
  EXPECT_EQ(code(run("login", obj({{"user", "alice"}, {"password", ""}}))), "bad_request");
  EXPECT_EQ(code(run("create_user", obj({{"user", "alice"}, {"password", std::string(1025, 'p')}}))), "bad_request");
  EXPECT_EQ(code(run("accept_request", obj({{"group", "g"}}))), "bad_request");
  EXPECT_TRUE(tracker_.calls.empty());
  // A huge bad name is not echoed back whole.
  EXPECT_LT(message(run("create_group", obj({{"group", std::string(100000, ' ')}}))).size(), 300u);
}

// limits needs no session and no tracker: it answers from the daemon's own
// limits, and its args are checked like any command's.
TEST_F(CommandsTest, LimitsAnswersAndChangesWithoutTheTracker) {
  EXPECT_EQ(code(run("limits")), "internal");  // a daemon without them says so
  Limits applied;
  LimitsControl limits(*state_, [&applied](const Limits& l) { applied = l; });
  ConfigFile none;
  limits.load(*make_config(none, "", {}));
  commands_->set_limits(&limits);
  auto& shown = run("limits");
  ASSERT_EQ(code(shown), "ok");
  EXPECT_EQ(shown->value().find("upload_rate")->get_string("source"), "default");
  auto& set = run("limits", obj({{"upload", "1M"}, {"reset", false}}));
  ASSERT_EQ(code(set), "ok") << message(set);
  EXPECT_EQ(set->value().find("upload_rate")->get_int("value"), 1 << 20);
  EXPECT_EQ(applied.upload_rate.value, 1u << 20);
  EXPECT_EQ(code(run("limits", obj({{"upload", "fast"}}))), "bad_request");
  EXPECT_EQ(code(run("limits", obj({{"uplaod", "1M"}}))), "bad_request");
  EXPECT_TRUE(tracker_.calls.empty());
}

TEST_F(CommandsTest, CommandsNeedASession) {
  for (const char* cmd : {"create_group", "join_group", "leave_group", "list_requests"}) {
    auto& a = run(cmd, obj({{"group", "g"}}));
    EXPECT_EQ(code(a), "not_logged_in") << cmd;
    EXPECT_EQ(message(a), "not logged in; run 'gsctl login USER' first");
  }
  EXPECT_EQ(code(run("list_groups")), "not_logged_in");
  EXPECT_EQ(code(run("accept_request", obj({{"group", "g"}, {"user", "bob"}}))), "not_logged_in");
  EXPECT_EQ(code(run("logout")), "not_logged_in");
  EXPECT_TRUE(tracker_.calls.empty());
}

TEST_F(CommandsTest, CreateUserGoesToTheTracker) {
  auto& a = run("create_user", obj({{"user", "alice"}, {"password", "pw"}}));
  EXPECT_FALSE(a.has_value());
  auto call = tracker_.take();
  EXPECT_EQ(call.op, "create_user");
  EXPECT_EQ(call.str("user"), "alice");
  EXPECT_EQ(call.str("password"), "pw");
  call.done(make_error("user_exists", "user 'alice' already exists"));
  EXPECT_EQ(code(a), "user_exists");
  EXPECT_EQ(message(a), "user 'alice' already exists");
}

TEST_F(CommandsTest, LoginStoresTokenNotPassword) {
  auto& a = run("login", obj({{"user", "alice"}, {"password", "pw-secret"}}));
  ASSERT_FALSE(a.has_value());  // answered when the tracker is
  auto call = tracker_.take();
  EXPECT_EQ(call.op, "login");
  EXPECT_EQ(call.str("user"), "alice");
  EXPECT_EQ(call.str("password"), "pw-secret");
  EXPECT_EQ(call.str("seat"), state_->seat());
  EXPECT_EQ(call.field("port")->as_int(), 7411);
  // A second login while the first is in flight is refused.
  EXPECT_EQ(code(run("login", obj({{"user", "bob"}, {"password", "x"}}))), "already_logged_in");

  call.done(ok_answer({{"token", kToken}}));
  ASSERT_EQ(code(a), "ok");
  EXPECT_EQ(a->value().get_string("user"), "alice");
  ASSERT_TRUE(state_->session().has_value());
  EXPECT_EQ(state_->session()->user, "alice");
  EXPECT_EQ(state_->session()->token, kToken);
  EXPECT_EQ(run("status")->value().get_string("user"), "alice");

  auto& again = run("login", obj({{"user", "bob"}, {"password", "x"}}));
  EXPECT_EQ(code(again), "already_logged_in");
  EXPECT_EQ(message(again), "already logged in as 'alice'; log out first");
}

TEST_F(CommandsTest, LoginRefusedOrMalformedLeavesNoSession) {
  auto& wrong = run("login", obj({{"user", "alice"}, {"password", "bad"}}));
  tracker_.take().done(make_error("wrong_password", "wrong password"));
  EXPECT_EQ(code(wrong), "wrong_password");
  EXPECT_EQ(session_->phase(), Session::Phase::none);

  auto& no_token = run("login", obj({{"user", "alice"}, {"password", "pw"}}));
  tracker_.take().done(ok_answer({{"token", "has a space"}}));
  EXPECT_EQ(code(no_token), "tracker_unreachable");
  EXPECT_EQ(session_->phase(), Session::Phase::none);
  EXPECT_FALSE(state_->session().has_value());
}

TEST_F(CommandsTest, SessionCommandsCarryTheToken) {
  login_alice();
  auto& a = run("accept_request", obj({{"group", "g"}, {"user", "bob"}}));
  auto call = tracker_.take();
  EXPECT_EQ(call.op, "accept_request");
  EXPECT_EQ(call.fields.front().first, "token");
  EXPECT_EQ(call.str("token"), kToken);
  EXPECT_EQ(call.str("group"), "g");
  EXPECT_EQ(call.str("user"), "bob");
  call.done(make_error("not_owner", "only the owner of 'g' can do that"));
  EXPECT_EQ(code(a), "not_owner");
  EXPECT_TRUE(session_->user().has_value());  // other errors leave the session alone

  auto& b = run("create_group", obj({{"group", "g"}}));
  tracker_.take().done(ok_answer());
  ASSERT_EQ(code(b), "ok");
  EXPECT_TRUE(b->value().is_null());
}

TEST_F(CommandsTest, ResultsAreCheckedAndReshaped) {
  login_alice();
  Json groups = Json::array();
  groups.push_back(obj({{"group", "g"}, {"owner", "alice"}, {"members", 2}, {"junk", "dropped"}}));
  auto& a = run("list_groups");
  tracker_.take().done(ok_answer({{"groups", groups}}));
  ASSERT_EQ(code(a), "ok");
  EXPECT_EQ(a->value().dump(), R"([{"group":"g","owner":"alice","members":2}])");

  Json bad = Json::array();
  bad.push_back(obj({{"group", "g"}, {"owner", 5}, {"members", 2}}));
  auto& b = run("list_groups");
  tracker_.take().done(ok_answer({{"groups", bad}}));
  EXPECT_EQ(code(b), "tracker_unreachable");

  auto& c = run("list_requests", obj({{"group", "g"}}));
  Json reqs = Json::array();
  reqs.push_back(obj({{"user", "bob"}}));
  tracker_.take().done(ok_answer({{"requests", reqs}}));
  ASSERT_EQ(code(c), "ok");
  EXPECT_EQ(c->value().dump(), R"([{"user":"bob"}])");

  auto& d = run("list_requests", obj({{"group", "g"}}));
  tracker_.take().done(ok_answer());
  EXPECT_EQ(code(d), "tracker_unreachable");

  auto& e = run("leave_group", obj({{"group", "g"}}));
  tracker_.take().done(ok_answer({{"deleted", false}, {"new_owner", "bob"}}));
  ASSERT_EQ(code(e), "ok");
  EXPECT_EQ(e->value().dump(), R"({"deleted":false,"new_owner":"bob"})");

  auto& f = run("leave_group", obj({{"group", "g"}}));
  tracker_.take().done(ok_answer({{"deleted", true}, {"new_owner", nullptr}}));
  ASSERT_EQ(code(f), "ok");
  EXPECT_EQ(f->value().dump(), R"({"deleted":true,"new_owner":null})");
}

// Names the tracker sends back are checked like names from anyone else: a
// traversal or a control character is left out of the list, never shown.
TEST_F(CommandsTest, ListFilesLeavesOutNamesNoClientCouldUse) {
  login_alice();
  const auto file = [](const std::string& name) {
    return obj({{"name", name}, {"size", 10}, {"file_id", std::string(64, 'f')}, {"peers", 1}});
  };
  Json files = Json::array();
  for (const char* name : {"good.bin", "../etc/passwd", "a/b", "..", "evil\x1b[2J", "new\nline"}) {
    files.push_back(file(name));
  }
  auto& a = run("list_files", obj({{"group", "g"}}));
  tracker_.take().done(ok_answer({{"files", files}}));
  ASSERT_EQ(code(a), "ok") << message(a);
  ASSERT_EQ(a->value().size(), 1u) << a->value().dump();
  EXPECT_EQ(a->value().as_array()[0].get_string("name"), "good.bin");
}

TEST_F(CommandsTest, LogoutForgetsAtOnceEvenWhenTheTrackerIsAway) {
  login_alice();
  auto& a = run("logout");
  EXPECT_FALSE(a.has_value());
  // Forgotten before the tracker answers.
  EXPECT_TRUE(run("status")->value().find("user")->is_null());
  EXPECT_FALSE(state_->session().has_value());
  auto call = tracker_.take();
  EXPECT_EQ(call.op, "logout");
  EXPECT_EQ(call.str("token"), kToken);
  call.done(make_error("tracker_unreachable", "no tracker answered within 10 s"));
  EXPECT_EQ(code(a), "tracker_unreachable");
  EXPECT_NE(message(a).find("logged out here"), std::string::npos);
  EXPECT_EQ(code(run("create_group", obj({{"group", "g"}}))), "not_logged_in");
}

TEST_F(CommandsTest, LogoutAnsweredByTheTracker) {
  login_alice();
  auto& a = run("logout");
  tracker_.take().done(ok_answer());
  ASSERT_EQ(code(a), "ok");
  EXPECT_TRUE(a->value().is_null());
}

TEST_F(CommandsTest, TrackerEndingTheSessionForgetsIt) {
  login_alice();
  auto& a = run("list_groups");
  tracker_.take().done(make_error("not_logged_in", "no such session"));
  EXPECT_EQ(code(a), "not_logged_in");
  EXPECT_FALSE(session_->user().has_value());
  EXPECT_FALSE(state_->session().has_value());
}

TEST_F(CommandsTest, StaleAnswerDoesNotForgetANewerSession) {
  login_alice();
  auto& a = run("list_groups");
  auto old_call = tracker_.take();
  // Log out and in again before the old request's answer arrives.
  run("logout");
  tracker_.take().done(ok_answer());
  auto& l = run("login", obj({{"user", "alice"}, {"password", "pw"}}));
  tracker_.take().done(ok_answer({{"token", std::string(64, 'b')}}));
  ASSERT_EQ(code(l), "ok");
  old_call.done(make_error("session_expired", "expired"));
  EXPECT_EQ(code(a), "session_expired");
  EXPECT_EQ(session_->user(), "alice");
  EXPECT_EQ(state_->session()->token, std::string(64, 'b'));
}

TEST_F(CommandsTest, HeartbeatOnlyWhenLoggedInAndLinked) {
  session_->on_heartbeat_timer();
  EXPECT_TRUE(tracker_.calls.empty());
  login_alice();
  tracker_.ready = false;
  session_->on_heartbeat_timer();
  EXPECT_TRUE(tracker_.calls.empty());
  tracker_.ready = true;
  session_->on_heartbeat_timer();
  session_->on_heartbeat_timer();  // one at a time
  ASSERT_EQ(tracker_.calls.size(), 1u);
  auto hb = tracker_.take();
  EXPECT_EQ(hb.op, "heartbeat");
  EXPECT_EQ(hb.str("token"), kToken);
  hb.done(ok_answer());
  session_->on_heartbeat_timer();
  auto hb2 = tracker_.take();
  hb2.done(make_error("session_expired", "the session has expired"));
  EXPECT_FALSE(session_->user().has_value());
  EXPECT_FALSE(state_->session().has_value());
}

TEST_F(CommandsTest, StoredSessionIsResumedOnEveryLink) {
  login_alice();
  open();  // a restarted daemon
  EXPECT_EQ(session_->user(), "alice");
  EXPECT_TRUE(tracker_.calls.empty());
  session_->on_link_up();
  auto resume = tracker_.take();
  EXPECT_EQ(resume.op, "resume");
  EXPECT_EQ(resume.priority, TrackerApi::Priority::first);
  EXPECT_EQ(resume.str("token"), kToken);
  EXPECT_EQ(resume.str("seat"), state_->seat());
  EXPECT_EQ(resume.field("port")->as_int(), 7411);
  // A tracker that cannot be reached keeps the session for the next link.
  resume.done(make_error("tracker_unreachable", "link broke"));
  EXPECT_EQ(session_->user(), "alice");

  session_->on_link_up();
  tracker_.take().done(ok_answer({{"user", "alice"}}));
  EXPECT_EQ(session_->user(), "alice");

  // A later login elsewhere replaced it: forget.
  session_->on_link_up();
  tracker_.take().done(make_error("logged_in_elsewhere", "replaced by a later login"));
  EXPECT_FALSE(session_->user().has_value());
  EXPECT_FALSE(state_->session().has_value());
  session_->on_link_up();  // nothing to resume now
  EXPECT_TRUE(tracker_.calls.empty());
}

TEST_F(CommandsTest, ExpiredSessionOnResumeIsForgottenAcrossRestarts) {
  login_alice();
  open();
  session_->on_link_up();
  tracker_.take().done(make_error("session_expired", "expired"));
  EXPECT_FALSE(session_->user().has_value());
  open();
  EXPECT_FALSE(session_->user().has_value());
}

}  // namespace
}  // namespace gs::daemon
