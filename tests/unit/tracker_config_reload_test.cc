// What a SIGHUP applies to gs-tracker (tracker/config_reload.h).
#include <gtest/gtest.h>

#include "tracker/config_reload.h"

namespace gs::tracker {
namespace {

TrackerConfig from_text(const std::string& text) {
  auto c = parse_tracker_config(text, "gs-tracker.toml");
  EXPECT_TRUE(c.ok()) << c.error().message;
  return *c;
}

std::vector<std::string> keys(const std::vector<TrackerReloadPlan::Change>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.key);
  return out;
}

TEST(TrackerConfigReload, ServiceKeysApplyStartupKeysAreKept) {
  const TrackerConfig a = from_text("");
  const TrackerConfig b = from_text(
      "[tracker]\nticket_ttl_seconds = 60\nsession_ttl_seconds = 40\nmax_peers_per_answer = 7\n"
      "log_level = \"debug\"\nmax_connections_per_address = 3\nlogin_delay_seconds = 5\n"
      "tls = false\nmax_connections = 10\ncluster_timeout_ms = 3000\nreplica_log_keep = 5\n"
      "login_addresses_tracked = 9\n");
  const TrackerReloadPlan plan = plan_tracker_reload(a, b);
  EXPECT_EQ(
      keys(plan.applied),
      (std::vector<std::string>{"tracker.log_level", "tracker.session_ttl_seconds",
                                "tracker.ticket_ttl_seconds", "tracker.max_connections_per_address",
                                "tracker.max_peers_per_answer", "tracker.login_delay_seconds"}));
  EXPECT_EQ(keys(plan.kept),
            (std::vector<std::string>{"tracker.tls", "tracker.max_connections",
                                      "tracker.login_addresses_tracked",
                                      "tracker.cluster_timeout_ms", "tracker.replica_log_keep"}));
  EXPECT_EQ(plan.next.ticket_ttl_seconds, 60);
  EXPECT_EQ(plan.next.session_ttl_seconds, 40);
  EXPECT_EQ(plan.next.max_peers_per_answer, 7);
  EXPECT_EQ(plan.next.log_level, LogLevel::debug);
  EXPECT_TRUE(plan.next.tls);
  EXPECT_EQ(plan.next.max_connections, a.max_connections);
  EXPECT_EQ(plan.next.cluster_timeout_ms, a.cluster_timeout_ms);
  EXPECT_EQ(plan.next.replica_log_keep, a.replica_log_keep);
  EXPECT_EQ(plan.next.login_addresses_tracked, a.login_addresses_tracked);
}

TEST(TrackerConfigReload, NothingChangedNothingSaid) {
  const TrackerConfig a = from_text("[tracker]\nticket_ttl_seconds = 60\n");
  const TrackerReloadPlan plan = plan_tracker_reload(a, a);
  EXPECT_TRUE(plan.applied.empty());
  EXPECT_TRUE(plan.kept.empty());
}

}  // namespace
}  // namespace gs::tracker
