#include "tracker/tracker_service.h"

#include <memory>

#include <gtest/gtest.h>

#include "crypto.h"
#include "log.h"
#include "sandbox.h"
#include "tracker_fake_clock.h"

namespace gs::tracker {
namespace {

using test::FakeClock;

constexpr const char* kSeatA = "a1a1a1a1";
constexpr const char* kSeatB = "b2b2b2b2";

class TrackerService : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::open(sb_.path("tracker.db"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    restart();
  }

  static ServiceConfig config() {
    ServiceConfig c;
    c.session_ttl = Seconds(20);
    c.kdf.log2_n = 10;  // fast: tests hash many passwords
    c.login_limit.failures_before_delay = 3;
    c.login_limit.delay = Seconds(30);
    c.address_limit.failures_before_delay = 4;
    c.address_limit.delay = Seconds(30);
    return c;
  }

  // A new Service over the same store: what a tracker restart looks like.
  void restart(ServiceConfig c = config()) { service_ = std::make_unique<Service>(*store_, clock_, c); }

  Json call(Json::Object request, const RequestContext& context = {}) {
    request.emplace_back("id", ++id_);
    Json answer = service_->handle(Json(std::move(request)), context);
    EXPECT_EQ(answer.get_int("id"), id_) << answer.dump();
    return answer;
  }

  void ok(Json::Object request) {
    const Json a = call(std::move(request));
    EXPECT_EQ(a.get_bool("ok"), true) << a.dump();
  }

  void create_user(const std::string& user, const std::string& password = "pw") {
    ok({{"op", "create_user"}, {"user", user}, {"password", password}});
  }

  Json login_answer(const std::string& user, const std::string& seat, const std::string& password = "pw") {
    return call({{"op", "login"}, {"user", user}, {"password", password}, {"seat", seat}});
  }

  // A login that comes from a daemon on `host`.
  Json login_from(const std::string& host, const std::string& user, const std::string& password,
                  const std::string& seat = kSeatA) {
    return call({{"op", "login"}, {"user", user}, {"password", password}, {"seat", seat}},
                RequestContext{host, ""});
  }

  // Creates the user if needed and logs in; returns the token.
  std::string user(const std::string& name, const std::string& seat) {
    if (!store_->password_hash(name)->has_value()) create_user(name);
    const Json a = login_answer(name, seat);
    EXPECT_EQ(a.get_bool("ok"), true) << a.dump();
    return a.get_string("token").value_or("");
  }

  Json with_token(const std::string& op, const std::string& token, Json::Object more = {}) {
    Json::Object r{{"op", op}, {"token", token}};
    for (auto& f : more) r.push_back(std::move(f));
    return call(std::move(r));
  }

  test::Sandbox sb_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Service> service_;
  int64_t id_ = 0;
};

// The answer is an error with this code and a message containing `fragment`.
::testing::AssertionResult is_error(const Json& a, const std::string& code, const std::string& fragment = "") {
  if (a.get_bool("ok") != false) return ::testing::AssertionFailure() << "not an error: " << a.dump();
  if (a.get_string("error") != code) return ::testing::AssertionFailure() << "expected " << code << ": " << a.dump();
  const auto msg = a.get_string("message");
  if (!msg || msg->empty()) return ::testing::AssertionFailure() << "no message: " << a.dump();
  if (msg->find(fragment) == std::string::npos) {
    return ::testing::AssertionFailure() << "message lacks '" << fragment << "': " << a.dump();
  }
  return ::testing::AssertionSuccess();
}

// --- accounts ---------------------------------------------------------------

TEST_F(TrackerService, CreateUserOnceOnly) {
  create_user("alice");
  EXPECT_TRUE(is_error(call({{"op", "create_user"}, {"user", "alice"}, {"password", "x"}}), "user_exists",
                       "user 'alice' already exists"));
}

TEST_F(TrackerService, PasswordsAreStoredAsScryptHashes) {
  create_user("alice", "correct horse");
  const auto stored = store_->password_hash("alice");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->rfind("scrypt$10$", 0), 0u) << **stored;
  EXPECT_EQ((*stored)->find("correct horse"), std::string::npos);
}

TEST_F(TrackerService, LoginRefusals) {
  create_user("alice");
  EXPECT_TRUE(is_error(login_answer("bob", kSeatA), "unknown_user", "no such user 'bob'"));
  EXPECT_TRUE(is_error(login_answer("alice", kSeatA, "nope"), "wrong_password", "wrong password for user 'alice'"));
}

TEST_F(TrackerService, LoginGivesATokenOnlyItsHashIsStored) {
  const std::string token = user("alice", kSeatA);
  ASSERT_EQ(token.size(), 64u);
  EXPECT_TRUE(from_hex(token).ok());
  EXPECT_FALSE(store_->session_by_token(token)->has_value());
  const auto s = store_->session_by_token(to_hex(sha256(token)));
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->user, "alice");
  EXPECT_EQ((*s)->seat, kSeatA);
  ok({{"op", "heartbeat"}, {"token", token}});
}

TEST_F(TrackerService, PasswordsAndTokensAreNeverLogged) {
  log_init("test", LogLevel::debug);
  ::testing::internal::CaptureStderr();
  create_user("alice", "s3cret-pw");
  login_answer("alice", kSeatA, "wrong-s3cret");
  const std::string token = login_answer("alice", kSeatA, "s3cret-pw").get_string("token").value_or("");
  ASSERT_EQ(token.size(), 64u);
  with_token("create_group", token, {{"group", "g"}});
  const std::string log = ::testing::internal::GetCapturedStderr();
  log_init("test", LogLevel::info);
  EXPECT_NE(log.find("alice"), std::string::npos) << "expected some log lines";
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << log;
  EXPECT_EQ(log.find(token), std::string::npos) << log;
}

// --- sessions ---------------------------------------------------------------

TEST_F(TrackerService, OneLiveSessionPerUser) {
  const std::string a = user("alice", kSeatA);
  EXPECT_TRUE(is_error(login_answer("alice", kSeatB), "logged_in_elsewhere",
                       "user 'alice' is logged in on another daemon; log out there first (or wait up to 20 s"));
  // The refused login left the first session alone.
  ok({{"op", "heartbeat"}, {"token", a}});
  ok({{"op", "logout"}, {"token", a}});
  const std::string b = user("alice", kSeatB);
  EXPECT_TRUE(is_error(with_token("heartbeat", a), "not_logged_in"));
  ok({{"op", "heartbeat"}, {"token", b}});
}

TEST_F(TrackerService, SameSeatLoginReplacesItsOwnSession) {
  const std::string first = user("alice", kSeatA);
  const std::string second = user("alice", kSeatA);
  EXPECT_NE(first, second);
  EXPECT_TRUE(is_error(with_token("heartbeat", first), "not_logged_in"));
  ok({{"op", "heartbeat"}, {"token", second}});
}

TEST_F(TrackerService, HeartbeatsKeepASessionLiveAndSilenceEndsIt) {
  const std::string a = user("alice", kSeatA);
  for (int i = 0; i < 5; ++i) {
    clock_.advance(Seconds(15));
    ok({{"op", "heartbeat"}, {"token", a}});
  }
  EXPECT_TRUE(is_error(login_answer("alice", kSeatB), "logged_in_elsewhere"));
  clock_.advance(Seconds(21));
  EXPECT_TRUE(is_error(with_token("heartbeat", a), "session_expired"));
  EXPECT_TRUE(is_error(with_token("list_groups", a), "session_expired"));
  // Quiet past the TTL: another daemon may take over.
  const std::string b = user("alice", kSeatB);
  EXPECT_TRUE(is_error(with_token("heartbeat", a), "not_logged_in"));
  EXPECT_TRUE(is_error(call({{"op", "resume"}, {"token", a}, {"seat", kSeatA}}), "session_expired"));
  ok({{"op", "heartbeat"}, {"token", b}});
}

TEST_F(TrackerService, AnyTokenOpCountsAsWordFromTheDaemon) {
  const std::string a = user("alice", kSeatA);
  for (int i = 0; i < 5; ++i) {
    clock_.advance(Seconds(15));
    with_token("list_groups", a);
  }
  EXPECT_TRUE(is_error(login_answer("alice", kSeatB), "logged_in_elsewhere"));
}

TEST_F(TrackerService, ResumeRevivesAQuietSessionNobodyReplaced) {
  const std::string a = user("alice", kSeatA);
  clock_.advance(Seconds(60));
  EXPECT_TRUE(is_error(with_token("heartbeat", a), "session_expired"));
  const Json r = call({{"op", "resume"}, {"token", a}, {"seat", kSeatA}});
  EXPECT_EQ(r.get_bool("ok"), true) << r.dump();
  EXPECT_EQ(r.get_string("user"), "alice");
  ok({{"op", "heartbeat"}, {"token", a}});
  EXPECT_TRUE(is_error(login_answer("alice", kSeatB), "logged_in_elsewhere"));
}

TEST_F(TrackerService, ResumeFromAnotherSeat) {
  const std::string a = user("alice", kSeatA);
  EXPECT_TRUE(is_error(call({{"op", "resume"}, {"token", a}, {"seat", kSeatB}}), "logged_in_elsewhere"));
  clock_.advance(Seconds(60));
  EXPECT_TRUE(is_error(call({{"op", "resume"}, {"token", a}, {"seat", kSeatB}}), "session_expired"));
}

TEST_F(TrackerService, SessionsSurviveARestartWithAGracePeriod) {
  const std::string a = user("alice", kSeatA);
  clock_.advance(Seconds(100));  // long quiet: expired before the restart
  restart();
  // Right after start nobody has been heard from, so every session counts
  // as live: its daemon may just be reconnecting.
  EXPECT_TRUE(is_error(login_answer("alice", kSeatB), "logged_in_elsewhere"));
  const Json r = call({{"op", "resume"}, {"token", a}, {"seat", kSeatA}});
  EXPECT_EQ(r.get_string("user"), "alice") << r.dump();
  ok({{"op", "heartbeat"}, {"token", a}});
}

TEST_F(TrackerService, AfterTheGracePeriodADeadDaemonsSessionEnds) {
  user("alice", kSeatA);
  restart();
  clock_.advance(Seconds(19));
  EXPECT_TRUE(is_error(login_answer("alice", kSeatB), "logged_in_elsewhere"));
  clock_.advance(Seconds(2));
  user("alice", kSeatB);
}

TEST_F(TrackerService, LogoutOfAnUnknownTokenIsFine) {
  ok({{"op", "logout"}, {"token", std::string(64, 'a')}});
  const std::string a = user("alice", kSeatA);
  ok({{"op", "logout"}, {"token", a}});
  ok({{"op", "logout"}, {"token", a}});
}

TEST_F(TrackerService, EveryTokenOpWantsASession) {
  const std::string unknown(64, '0');
  for (const char* op : {"heartbeat", "create_group", "join_group", "leave_group", "list_requests",
                         "accept_request", "reject_request", "list_groups"}) {
    EXPECT_TRUE(is_error(with_token(op, unknown, {{"group", "g"}, {"user", "bob"}}), "not_logged_in", "not logged in"))
        << op;
  }
}

// --- login rate limiting ----------------------------------------------------

TEST_F(TrackerService, RepeatedWrongPasswordsAreRateLimited) {
  create_user("alice", "right");
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(is_error(login_answer("alice", kSeatA, "wrong"), "wrong_password"));
  }
  // Even the right password waits now.
  EXPECT_TRUE(is_error(login_answer("alice", kSeatA, "right"), "rate_limited", "try again in 30 s"));
  clock_.advance(Seconds(12));
  EXPECT_TRUE(is_error(login_answer("alice", kSeatA, "right"), "rate_limited", "try again in 18 s"));
  // Other accounts are unaffected.
  user("bob", kSeatB);
  clock_.advance(Seconds(18));
  EXPECT_EQ(login_answer("alice", kSeatA, "right").get_bool("ok"), true);
  // The success cleared the count.
  EXPECT_TRUE(is_error(login_answer("alice", kSeatA, "wrong"), "wrong_password"));
}

// A reload (set_config) changes the login throttle of a running service:
// the failures counted so far stay, the new delay and count apply.
TEST_F(TrackerService, AReloadedLoginLimitAppliesToTheCountSoFar) {
  create_user("alice", "right");
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(is_error(login_answer("alice", kSeatA, "wrong"), "wrong_password"));
  }
  ServiceConfig c = config();
  c.login_limit.failures_before_delay = 2;
  c.login_limit.delay = Seconds(5);
  service_->set_config(c);
  EXPECT_TRUE(is_error(login_answer("alice", kSeatA, "right"), "rate_limited", "try again in 5 s"));
  clock_.advance(Seconds(5));
  EXPECT_EQ(login_answer("alice", kSeatA, "right").get_bool("ok"), true);
}

constexpr const char* kHostA = "192.0.2.7";
constexpr const char* kHostB = "192.0.2.8";

TEST_F(TrackerService, OneAddressGuessingOverManyAccountsIsRateLimited) {
  for (const char* u : {"u1", "u2", "u3", "u4", "u5"}) create_user(u, "right");
  // One wrong guess per account: no account reaches its own limit (3)...
  for (const char* u : {"u1", "u2", "u3", "u4"}) {
    EXPECT_TRUE(is_error(login_from(kHostA, u, "wrong"), "wrong_password")) << u;
  }
  // ...but the address has reached its limit (4), for every account, even
  // with the right password.
  EXPECT_TRUE(is_error(login_from(kHostA, "u5", "right"), "rate_limited",
                       "too many wrong passwords from this address (192.0.2.7), for all its users; try again in 30 s"));
  EXPECT_TRUE(is_error(login_from(kHostA, "nobody", "x"), "rate_limited", "address (192.0.2.7)"));
  // Another address is not held back.
  EXPECT_EQ(login_from(kHostB, "u5", "right", kSeatB).get_bool("ok"), true);
  clock_.advance(Seconds(30));
  EXPECT_EQ(login_from(kHostA, "u1", "right").get_bool("ok"), true);
}

TEST_F(TrackerService, ARightPasswordDoesNotClearTheAddressCount) {
  for (const char* u : {"u1", "u2", "u3", "u4", "mine"}) create_user(u, "right");
  for (const char* u : {"u1", "u2", "u3"}) EXPECT_TRUE(is_error(login_from(kHostA, u, "wrong"), "wrong_password"));
  // The guesser's own account, logged into between guesses, wipes nothing.
  EXPECT_EQ(login_from(kHostA, "mine", "right").get_bool("ok"), true);
  EXPECT_TRUE(is_error(login_from(kHostA, "u4", "wrong"), "wrong_password"));
  EXPECT_TRUE(is_error(login_from(kHostA, "u4", "right"), "rate_limited", "address (192.0.2.7)"));
}

TEST_F(TrackerService, UnknownUsersCountForTheAddress) {
  create_user("alice", "right");
  for (const char* u : {"n1", "n2", "n3", "n4"}) EXPECT_TRUE(is_error(login_from(kHostA, u, "x"), "unknown_user"));
  EXPECT_TRUE(is_error(login_from(kHostA, "alice", "right"), "rate_limited", "address (192.0.2.7)"));
}

TEST_F(TrackerService, TheLongerOfTheTwoWaitsIsGiven) {
  ServiceConfig c = config();
  c.address_limit.delay = Seconds(60);
  restart(c);
  create_user("alice", "right");
  create_user("bob", "right");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(is_error(login_from(kHostA, "alice", "wrong"), "wrong_password"));
  // alice's account waits 30 s; the address, now at 4, 60 s.
  EXPECT_TRUE(is_error(login_from(kHostA, "bob", "wrong"), "wrong_password"));
  EXPECT_TRUE(is_error(login_from(kHostA, "alice", "right"), "rate_limited",
                       "(192.0.2.7), for all its users; try again in 60 s"));
  // From elsewhere only the account's wait holds.
  EXPECT_TRUE(is_error(login_from(kHostB, "alice", "right"), "rate_limited",
                       "for user 'alice'; try again in 30 s"));
  clock_.advance(Seconds(30));
  EXPECT_EQ(login_from(kHostB, "alice", "right").get_bool("ok"), true);
}

// --- groups -----------------------------------------------------------------

TEST_F(TrackerService, CreateGroup) {
  const std::string a = user("alice", kSeatA);
  const std::string b = user("bob", kSeatB);
  ok({{"op", "create_group"}, {"token", a}, {"group", "g"}});
  EXPECT_TRUE(is_error(with_token("create_group", b, {{"group", "g"}}), "group_exists", "group 'g' already exists"));
  const Json groups = with_token("list_groups", b);
  EXPECT_EQ(groups, Json::parse(R"({"id":)" + std::to_string(id_) +
                                R"(,"ok":true,"groups":[{"group":"g","owner":"alice","members":1}]})")
                        .value());
}

TEST_F(TrackerService, JoinGroup) {
  const std::string a = user("alice", kSeatA);
  const std::string b = user("bob", kSeatB);
  EXPECT_TRUE(is_error(with_token("join_group", b, {{"group", "g"}}), "no_such_group", "no such group 'g'"));
  ok({{"op", "create_group"}, {"token", a}, {"group", "g"}});
  EXPECT_TRUE(is_error(with_token("join_group", a, {{"group", "g"}}), "already_member",
                       "you are already a member of 'g'"));
  ok({{"op", "join_group"}, {"token", b}, {"group", "g"}});
  EXPECT_TRUE(is_error(with_token("join_group", b, {{"group", "g"}}), "request_pending",
                       "your request to join 'g' is already pending"));
  ok({{"op", "accept_request"}, {"token", a}, {"group", "g"}, {"user", "bob"}});
  EXPECT_TRUE(is_error(with_token("join_group", b, {{"group", "g"}}), "already_member"));
}

// A write retried with its request id (a client that lost its link, or
// whose tracker failed over) gets its first answer and is applied once; the
// same write without an id, or with another, is a new write.
TEST_F(TrackerService, WritesRetriedWithTheirRequestIdAreAppliedOnce) {
  const std::string a = user("alice", kSeatA);
  const std::string b = user("bob", kSeatB);
  const Json::Object create{{"op", "create_group"}, {"token", a}, {"group", "g"}, {"rid", "00aa00aa00aa00aa"}};
  ok(create);
  ok(create);
  EXPECT_TRUE(is_error(call({{"op", "create_group"}, {"token", a}, {"group", "g"}, {"rid", "00aa00aa00aa00ab"}}),
                       "group_exists"));
  const Json::Object join{{"op", "join_group"}, {"token", b}, {"group", "g"}, {"rid", "11bb11bb11bb11bb"}};
  ok(join);
  ok(join);
  const Json::Object accept{{"op", "accept_request"}, {"token", a}, {"group", "g"}, {"user", "bob"},
                            {"rid", "22cc22cc22cc22cc"}};
  ok(accept);
  ok(accept);
  const Json::Object leave{{"op", "leave_group"}, {"token", b}, {"group", "g"}, {"rid", "33dd33dd33dd33dd"}};
  const Json first = call(leave);
  const Json again = call(leave);
  EXPECT_EQ(first.get_bool("ok"), true) << first.dump();
  EXPECT_EQ(again.get_bool("deleted"), first.get_bool("deleted")) << again.dump();
  EXPECT_TRUE(is_error(with_token("leave_group", b, {{"group", "g"}}), "not_member"));
  // A created user retried is not "user_exists".
  const Json::Object newuser{{"op", "create_user"}, {"user", "carol"}, {"password", "pw"},
                             {"rid", "44ee44ee44ee44ee"}};
  ok(newuser);
  ok(newuser);
  EXPECT_TRUE(is_error(call({{"op", "create_group"}, {"token", a}, {"group", "h"}, {"rid", "zz"}}), "bad_request",
                       "'rid'"));
}

TEST_F(TrackerService, ListAcceptRejectRequests) {
  const std::string a = user("alice", kSeatA);
  const std::string b = user("bob", kSeatB);
  const std::string c = user("carol", "c3c3");
  for (const char* op : {"list_requests", "accept_request", "reject_request"}) {
    EXPECT_TRUE(is_error(with_token(op, a, {{"group", "g"}, {"user", "bob"}}), "no_such_group", "no such group 'g'"))
        << op;
  }
  ok({{"op", "create_group"}, {"token", a}, {"group", "g"}});
  ok({{"op", "join_group"}, {"token", c}, {"group", "g"}});
  ok({{"op", "join_group"}, {"token", b}, {"group", "g"}});
  for (const char* op : {"list_requests", "accept_request", "reject_request"}) {
    EXPECT_TRUE(is_error(with_token(op, b, {{"group", "g"}, {"user", "carol"}}), "not_owner",
                         "only the owner of 'g' can do that (the owner is 'alice')"))
        << op;
  }
  const Json list = with_token("list_requests", a, {{"group", "g"}});
  ASSERT_TRUE(list.find("requests"));
  EXPECT_EQ(*list.find("requests"), Json(Json::Array{Json::Object{{"user", "carol"}}, Json::Object{{"user", "bob"}}}));

  ok({{"op", "accept_request"}, {"token", a}, {"group", "g"}, {"user", "bob"}});
  ok({{"op", "reject_request"}, {"token", a}, {"group", "g"}, {"user", "carol"}});
  for (const char* op : {"accept_request", "reject_request"}) {
    EXPECT_TRUE(is_error(with_token(op, a, {{"group", "g"}, {"user", "carol"}}), "no_such_request",
                         "no pending request from 'carol' for 'g'"))
        << op;
  }
  EXPECT_EQ(*with_token("list_requests", a, {{"group", "g"}}).find("requests"), Json::array());
  // A rejected user may ask again.
  ok({{"op", "join_group"}, {"token", c}, {"group", "g"}});
}

TEST_F(TrackerService, LeaveGroupRefusals) {
  const std::string a = user("alice", kSeatA);
  const std::string b = user("bob", kSeatB);
  EXPECT_TRUE(is_error(with_token("leave_group", a, {{"group", "g"}}), "no_such_group", "no such group 'g'"));
  ok({{"op", "create_group"}, {"token", a}, {"group", "g"}});
  EXPECT_TRUE(is_error(with_token("leave_group", b, {{"group", "g"}}), "not_member", "you are not a member of 'g'"));
  ok({{"op", "join_group"}, {"token", b}, {"group", "g"}});  // pending is not a member
  EXPECT_TRUE(is_error(with_token("leave_group", b, {{"group", "g"}}), "not_member"));
}

TEST_F(TrackerService, OwnerLeavingHandsOverToTheLongestStandingMember) {
  const std::string a = user("alice", kSeatA);
  const std::string b = user("bob", kSeatB);
  const std::string c = user("carol", "c3c3");
  ok({{"op", "create_group"}, {"token", a}, {"group", "g"}});
  ok({{"op", "join_group"}, {"token", c}, {"group", "g"}});  // carol asks first,
  ok({{"op", "join_group"}, {"token", b}, {"group", "g"}});
  ok({{"op", "accept_request"}, {"token", a}, {"group", "g"}, {"user", "bob"}});  // bob is accepted first
  ok({{"op", "accept_request"}, {"token", a}, {"group", "g"}, {"user", "carol"}});

  Json out = with_token("leave_group", a, {{"group", "g"}});
  EXPECT_EQ(out.get_bool("ok"), true) << out.dump();
  EXPECT_EQ(out.get_bool("deleted"), false);
  EXPECT_EQ(out.get_string("new_owner"), "bob");
  EXPECT_TRUE(is_error(with_token("list_requests", a, {{"group", "g"}}), "not_owner", "the owner is 'bob'"));
  ok({{"op", "list_requests"}, {"token", b}, {"group", "g"}});

  // A plain member leaving changes no owner.
  out = with_token("leave_group", c, {{"group", "g"}});
  EXPECT_EQ(out.get_bool("deleted"), false);
  ASSERT_TRUE(out.find("new_owner"));
  EXPECT_TRUE(out.find("new_owner")->is_null());
}

TEST_F(TrackerService, LastMemberLeavingDeletesTheGroupAndItsRequests) {
  const std::string a = user("alice", kSeatA);
  const std::string b = user("bob", kSeatB);
  const std::string c = user("carol", "c3c3");
  ok({{"op", "create_group"}, {"token", a}, {"group", "g"}});
  ok({{"op", "join_group"}, {"token", b}, {"group", "g"}});
  const Json out = with_token("leave_group", a, {{"group", "g"}});
  EXPECT_EQ(out.get_bool("deleted"), true) << out.dump();
  EXPECT_TRUE(out.find("new_owner") && out.find("new_owner")->is_null());
  EXPECT_EQ(*with_token("list_groups", b).find("groups"), Json::array());
  ok({{"op", "create_group"}, {"token", c}, {"group", "g"}});
  EXPECT_EQ(*with_token("list_requests", c, {{"group", "g"}}).find("requests"), Json::array());
}

// --- malformed requests -----------------------------------------------------

TEST_F(TrackerService, EnvelopeProblemsAreBadRequests) {
  EXPECT_TRUE(is_error(service_->handle(Json(5)), "bad_request", "JSON object"));
  EXPECT_TRUE(is_error(service_->handle(Json::Array{}), "bad_request"));
  Json a = service_->handle(Json::Object{{"op", "list_groups"}});
  EXPECT_TRUE(is_error(a, "bad_request", "'id'"));
  EXPECT_TRUE(a.find("id") && a.find("id")->is_null());
  EXPECT_TRUE(is_error(service_->handle(Json::Object{{"id", "1"}, {"op", "list_groups"}}), "bad_request", "'id'"));
  EXPECT_TRUE(is_error(service_->handle(Json::Object{{"id", 1.5}, {"op", "list_groups"}}), "bad_request", "'id'"));
  EXPECT_TRUE(is_error(call({}), "bad_request", "missing field 'op'"));
  EXPECT_TRUE(is_error(call({{"op", 7}}), "bad_request", "field 'op' must be a string"));
  EXPECT_TRUE(is_error(call({{"op", "fly"}}), "bad_request", "unknown op 'fly'"));
  const Json weird = call({{"op", "\x1b[2J"}});
  EXPECT_TRUE(is_error(weird, "bad_request", "unknown op"));
  EXPECT_EQ(weird.get_string("message")->find('\x1b'), std::string::npos);
}

struct FieldCase {
  const char* op;
  std::vector<const char*> fields;
};

TEST_F(TrackerService, EveryMissingOrMistypedFieldIsNamed) {
  const std::string token = user("alice", kSeatA);
  const std::vector<FieldCase> cases = {
      {"create_user", {"user", "password"}},
      {"login", {"user", "password", "seat"}},
      {"resume", {"token", "seat"}},
      {"logout", {"token"}},
      {"heartbeat", {"token"}},
      {"create_group", {"token", "group"}},
      {"join_group", {"token", "group"}},
      {"leave_group", {"token", "group"}},
      {"list_requests", {"token", "group"}},
      {"accept_request", {"token", "group", "user"}},
      {"reject_request", {"token", "group", "user"}},
      {"list_groups", {"token"}},
  };
  auto good = [&](const std::string& field) -> Json {
    if (field == "token") return token;
    if (field == "seat") return kSeatA;
    if (field == "password") return "pw";
    return "someone";
  };
  for (const auto& c : cases) {
    for (const std::string missing : c.fields) {
      for (const Json& bad : {Json(), Json(5), Json(true), Json(Json::Array{"x"}), Json(Json::Object{{"a", 1}})}) {
        Json::Object r{{"op", c.op}};
        for (const std::string f : c.fields) {
          if (f != missing) r.emplace_back(f, good(f));
        }
        if (!bad.is_null()) r.emplace_back(missing, bad);  // null here means: leave it out
        const Json a = call(std::move(r));
        EXPECT_TRUE(is_error(a, "bad_request", "'" + missing + "'")) << c.op << " " << missing << " " << bad.dump();
      }
    }
  }
}

TEST_F(TrackerService, FieldValuesAreValidated) {
  const std::string token = user("alice", kSeatA);
  EXPECT_TRUE(is_error(call({{"op", "create_user"}, {"user", "bad name"}, {"password", "pw"}}), "bad_request",
                       "not a valid user name"));
  EXPECT_TRUE(is_error(call({{"op", "create_user"}, {"user", std::string(65, 'a')}, {"password", "pw"}}),
                       "bad_request", "'user'"));
  EXPECT_TRUE(is_error(call({{"op", "create_user"}, {"user", ".hidden"}, {"password", "pw"}}), "bad_request"));
  EXPECT_TRUE(is_error(call({{"op", "create_user"}, {"user", "bob"}, {"password", ""}}), "bad_request", "'password'"));
  EXPECT_TRUE(is_error(call({{"op", "create_user"}, {"user", "bob"}, {"password", std::string(1025, 'p')}}),
                       "bad_request", "'password'"));
  EXPECT_TRUE(is_error(login_answer("alice", "not-hex"), "bad_request", "'seat'"));
  EXPECT_TRUE(is_error(login_answer("alice", ""), "bad_request", "'seat'"));
  EXPECT_TRUE(is_error(login_answer("alice", std::string(129, 'a')), "bad_request", "'seat'"));
  EXPECT_TRUE(is_error(with_token("heartbeat", "abc"), "bad_request", "'token'"));
  EXPECT_TRUE(is_error(with_token("heartbeat", std::string(64, 'G')), "bad_request", "'token'"));
  EXPECT_TRUE(is_error(with_token("create_group", token, {{"group", "-g"}}), "bad_request", "not a valid group name"));
  EXPECT_TRUE(is_error(with_token("accept_request", token, {{"group", "g"}, {"user", "a/b"}}), "bad_request",
                       "not a valid user name"));
  // The longest valid name and password are fine.
  ok({{"op", "create_user"}, {"user", std::string(64, 'n')}, {"password", std::string(1024, 'p')}});
}

TEST_F(TrackerService, UnknownExtraFieldsAreIgnored) {
  const std::string token = user("alice", kSeatA);
  ok({{"op", "list_groups"}, {"token", token}, {"future_field", Json::Object{{"x", 1}}}});
}

}  // namespace
}  // namespace gs::tracker
