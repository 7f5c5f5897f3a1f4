// The Service inside a cluster (replication.h): only the primary serves,
// writes go to the cluster, answers wait for their commit. The cluster here
// is a fake that the test steers; the real one is tested end to end
// (tests/e2e/test_cluster.py) and its state machine by the simulation.
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sandbox.h"
#include "tracker/tracker_service.h"
#include "tracker_fake_clock.h"

namespace gs::tracker {
namespace {

class FakeCluster final : public Replication {
 public:
  explicit FakeCluster(Store& store) : store_(store) {}

  bool serving() override { return serving_; }
  std::optional<int> primary() const override { return primary_; }
  Result<Applied> write(const Write& w) override {
    if (!serving_) return make_error("not_primary", "not the primary");
    writes_.emplace_back(write_name(w.op));
    return store_.apply(w);
  }
  void after_commit(std::function<void(bool)> release) override {
    if (hold_) {
      held_.push_back(std::move(release));
    } else {
      release(serving_);
    }
  }
  Json::Object status() const override { return Json::Object{{"tracker", 2}, {"role", "backup"}}; }
  Json::Object hello_fields() const override { return {}; }
  Status receive(int, std::string_view) override { return Ok{}; }
  int count() const override { return 3; }
  int self() const override { return 2; }

  void release_all(bool committed) {
    auto held = std::move(held_);
    held_.clear();
    for (auto& r : held) r(committed);
  }

  Store& store_;
  bool serving_ = true;
  std::optional<int> primary_ = 2;
  bool hold_ = false;
  std::deque<std::function<void(bool)>> held_;
  std::vector<std::string> writes_;
};

class TrackerServiceCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::open(sb_.path("tracker.db"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    cluster_ = std::make_unique<FakeCluster>(*store_);
    ServiceConfig c;
    c.kdf.log2_n = 10;
    service_ = std::make_unique<Service>(*store_, clock_, c, nullptr, cluster_.get());
  }

  // Every answer the service gave, parsed, in the order given.
  std::vector<Json>& answers() { return answers_; }

  bool send(Json::Object request) {
    request.emplace_back("id", ++id_);
    return service_->handle(Json(std::move(request)), {}, [this](std::string text) {
      answers_.push_back(Json::parse(text).value());
    });
  }

  Json call(Json::Object request) {
    const size_t before = answers_.size();
    send(std::move(request));
    EXPECT_EQ(answers_.size(), before + 1) << "no answer at once";
    return answers_.empty() ? Json() : answers_.back();
  }

  test::Sandbox sb_;
  test::FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<FakeCluster> cluster_;
  std::unique_ptr<Service> service_;
  std::vector<Json> answers_;
  int64_t id_ = 0;
};

TEST_F(TrackerServiceCluster, ABackupAnswersEveryRequestWithNotPrimaryNamingThePrimary) {
  cluster_->serving_ = false;
  cluster_->primary_ = 3;
  const Json a = call({{"op", "create_user"}, {"user", "alice"}, {"password", "pw"}});
  EXPECT_EQ(a.get_bool("ok"), false);
  EXPECT_EQ(a.get_string("error"), "not_primary");
  EXPECT_EQ(a.get_int("primary"), 3);
  EXPECT_EQ(a.get_int("id"), id_);
  EXPECT_TRUE(cluster_->writes_.empty());
  EXPECT_FALSE(store_->password_hash("alice")->has_value());

  cluster_->primary_.reset();
  const Json b = call({{"op", "list_groups"}, {"token", std::string(64, 'a')}});
  EXPECT_EQ(b.get_string("error"), "not_primary");
  ASSERT_NE(b.find("primary"), nullptr);
  EXPECT_TRUE(b.find("primary")->is_null());
}

TEST_F(TrackerServiceCluster, EveryTrackerAnswersTheClusterOp) {
  cluster_->serving_ = false;
  const Json a = call({{"op", "cluster"}});
  EXPECT_EQ(a.get_bool("ok"), true) << a.dump();
  EXPECT_EQ(a.get_int("tracker"), 2);
  EXPECT_EQ(a.get_string("role"), "backup");
}

TEST_F(TrackerServiceCluster, WritesGoThroughTheClusterAndAnswersWaitForTheCommit) {
  cluster_->hold_ = true;
  // Without a worker pool, create_user's key derivation runs inline.
  send({{"op", "create_user"}, {"user", "alice"}, {"password", "pw"}});
  EXPECT_TRUE(answers().empty()) << "answered before the commit";
  EXPECT_EQ(cluster_->writes_, std::vector<std::string>{"add_user"});
  EXPECT_TRUE(store_->password_hash("alice")->has_value());
  // A request behind it waits too: it saw the uncommitted write.
  send({{"op", "login"}, {"user", "alice"}, {"password", "pw"}, {"seat", "a1a1a1a1"}});
  EXPECT_TRUE(answers().empty());
  cluster_->release_all(true);
  ASSERT_EQ(answers().size(), 2u);
  EXPECT_EQ(answers()[0].get_bool("ok"), true) << answers()[0].dump();
  EXPECT_EQ(answers()[1].get_bool("ok"), true) << answers()[1].dump();
  EXPECT_TRUE(answers()[1].get_string("token").has_value());
}

TEST_F(TrackerServiceCluster, AnAnswerHeldWhenThePrimaryStepsDownBecomesNotPrimary) {
  cluster_->hold_ = true;
  send({{"op", "create_user"}, {"user", "alice"}, {"password", "pw"}, {"rid", std::string(32, 'c')}});
  ASSERT_TRUE(answers().empty());
  cluster_->serving_ = false;
  cluster_->primary_ = 1;
  cluster_->release_all(false);
  ASSERT_EQ(answers().size(), 1u);
  EXPECT_EQ(answers()[0].get_string("error"), "not_primary") << answers()[0].dump();
  EXPECT_EQ(answers()[0].get_int("primary"), 1);
  EXPECT_EQ(answers()[0].get_int("id"), 1);
}

TEST_F(TrackerServiceCluster, AWriteRefusedByTheClusterIsNotPrimary) {
  // Stepped down between the request's checks and its write (a login's key
  // derivation runs meanwhile): the write is refused, and the client told.
  ASSERT_EQ(call({{"op", "create_user"}, {"user", "alice"}, {"password", "pw"}}).get_bool("ok"), true);
  // serving() says yes for the check, write() no.
  struct Flip final : Replication {
    bool serving() override { return true; }
    std::optional<int> primary() const override { return 3; }
    Result<Applied> write(const Write&) override { return make_error("not_primary", "stepped down"); }
    void after_commit(std::function<void(bool)> r) override { r(true); }
    Json::Object status() const override { return {}; }
    Json::Object hello_fields() const override { return {}; }
    Status receive(int, std::string_view) override { return Ok{}; }
    int count() const override { return 3; }
    int self() const override { return 2; }
  } flip;
  ServiceConfig c;
  c.kdf.log2_n = 10;
  Service service(*store_, clock_, c, nullptr, &flip);
  const Json a = service.handle(Json(Json::Object{
      {"id", 9}, {"op", "login"}, {"user", "alice"}, {"password", "pw"}, {"seat", "a1a1a1a1"}}));
  EXPECT_EQ(a.get_string("error"), "not_primary") << a.dump();
  EXPECT_EQ(a.get_int("primary"), 3);
  EXPECT_FALSE(store_->session_of_user("alice")->has_value());
}

TEST_F(TrackerServiceCluster, ANewPrimaryGivesEverySessionAGracePeriod) {
  ASSERT_EQ(call({{"op", "create_user"}, {"user", "alice"}, {"password", "pw"}}).get_bool("ok"), true);
  const Json login =
      call({{"op", "login"}, {"user", "alice"}, {"password", "pw"}, {"seat", "a1a1a1a1"}});
  const std::string token = login.get_string("token").value_or("");
  // A long time as a backup: the session went quiet here.
  clock_.advance(Seconds(100));
  EXPECT_EQ(call({{"op", "heartbeat"}, {"token", token}}).get_string("error"), "session_expired");
  service_->became_primary();
  EXPECT_EQ(call({{"op", "heartbeat"}, {"token", token}}).get_bool("ok"), true);
}

TEST_F(TrackerServiceCluster, TheFirstPrimaryMakesTheClusterKeyAndLaterOnesSignWithIt) {
  EXPECT_EQ(service_->cluster_key(), nullptr);
  service_->became_primary();
  const Identity* key = service_->cluster_key();
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(cluster_->writes_, std::vector<std::string>{"set_cluster_key"});
  const std::string pub = key->public_key();
  // A later primary (a new Service over the same replicated state) finds it.
  ServiceConfig c;
  c.kdf.log2_n = 10;
  Service later(*store_, clock_, c, nullptr, cluster_.get());
  later.became_primary();
  ASSERT_NE(later.cluster_key(), nullptr);
  EXPECT_EQ(later.cluster_key()->public_key(), pub);
  EXPECT_EQ(cluster_->writes_.size(), 1u);
}

TEST_F(TrackerServiceCluster, AClusterKeyThatCannotBeWrittenYetIsTriedAgainLater) {
  cluster_->serving_ = false;  // stepped down at once: the write is refused
  service_->became_primary();
  EXPECT_EQ(service_->cluster_key(), nullptr);
  cluster_->serving_ = true;
  service_->became_primary();
  EXPECT_NE(service_->cluster_key(), nullptr);
}

}  // namespace
}  // namespace gs::tracker
