// What a SIGHUP applies and what waits for a restart (daemon/config_reload.h).
#include <gtest/gtest.h>

#include <set>

#include "daemon_config_text.h"
#include "daemon/config_reload.h"

namespace gs::daemon {
namespace {

std::vector<std::string> keys(const std::vector<ReloadPlan::Change>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.key);
  return out;
}

TEST(ConfigReload, SameFileChangesNothing) {
  const DaemonConfig a =
      from_text("[daemon]\nmax_upload_rate = 1000\nlisten = \"127.0.0.1:7410\"\n");
  const ReloadPlan plan = plan_reload(a, a);
  EXPECT_TRUE(plan.applied.empty());
  EXPECT_TRUE(plan.kept.empty());
  EXPECT_EQ(plan.next.max_upload_rate, 1000u);
}

TEST(ConfigReload, RatesLimitsTimeoutsAndLogLevelApply) {
  const DaemonConfig a = from_text("[daemon]\nmax_upload_rate = 1000\n");
  const DaemonConfig b = from_text(
      "[daemon]\nmax_upload_rate = 4000\nmax_download_rate = 2000\nmax_peers = 9\nlog_level = "
      "\"debug\"\n"
      "heartbeat_seconds = 7\ntracker_timeout_seconds = 20\nmax_peer_connections_per_address = 3\n"
      "max_pending_requests_per_peer = 16\nmax_peers_per_download = 4\n");
  const ReloadPlan plan = plan_reload(a, b);
  EXPECT_TRUE(plan.kept.empty());
  EXPECT_EQ(keys(plan.applied),
            (std::vector<std::string>{
                "daemon.log_level", "daemon.heartbeat_seconds", "daemon.tracker_timeout_seconds",
                "daemon.max_upload_rate", "daemon.max_download_rate", "daemon.max_peers",
                "daemon.max_peer_connections_per_address", "daemon.max_pending_requests_per_peer",
                "daemon.max_peers_per_download"}));
  EXPECT_EQ(plan.applied[3].from, "1000");
  EXPECT_EQ(plan.applied[3].to, "4000");
  EXPECT_EQ(plan.next.max_upload_rate, 4000u);
  EXPECT_EQ(plan.next.max_download_rate, 2000u);
  EXPECT_EQ(plan.next.max_peers, 9);
  EXPECT_EQ(plan.next.log_level, LogLevel::debug);
  EXPECT_EQ(plan.next.heartbeat_seconds, 7);
  EXPECT_EQ(plan.next.tracker_timeout_seconds, 20);
  EXPECT_EQ(plan.next.max_peer_connections_per_address, 3);
  EXPECT_EQ(plan.next.max_pending_requests_per_peer, 16);
  EXPECT_EQ(plan.next.max_peers_per_download, 4);
}

TEST(ConfigReload, StartupKeysAreKeptAndReported) {
  const DaemonConfig a = from_text(
      "[daemon]\nlisten = \"127.0.0.1:7410\"\nstate_dir = \"/a\"\nsocket = \"/a.sock\"\ntrackers = "
      "\"/t1\"\n"
      "tls = true\nwrite_path = \"auto\"\n");
  const DaemonConfig b = from_text(
      "[daemon]\nlisten = \"127.0.0.1:7411\"\nstate_dir = \"/b\"\nsocket = \"/b.sock\"\ntrackers = "
      "\"/t2\"\n"
      "tls = false\nwrite_path = \"direct\"\nmax_upload_rate = 5\n");
  const ReloadPlan plan = plan_reload(a, b);
  EXPECT_EQ(keys(plan.kept),
            (std::vector<std::string>{"daemon.state_dir", "daemon.socket", "daemon.listen",
                                      "daemon.trackers", "daemon.tls", "daemon.write_path"}));
  EXPECT_EQ(keys(plan.applied), (std::vector<std::string>{"daemon.max_upload_rate"}));
  // The running values stay, the reloadable one moves.
  EXPECT_EQ(plan.next.listen.str(), "127.0.0.1:7410");
  EXPECT_EQ(plan.next.state_dir, "/a");
  EXPECT_EQ(plan.next.socket, "/a.sock");
  EXPECT_EQ(plan.next.trackers_file, "/t1");
  EXPECT_TRUE(plan.next.tls);
  EXPECT_EQ(plan.next.write_path, WritePathSetting::automatic);
  EXPECT_EQ(plan.next.max_upload_rate, 5u);
  EXPECT_EQ(
      kept_line(plan.kept[2]),
      "daemon.listen needs a restart, kept 127.0.0.1:7410 (the file now says 127.0.0.1:7411)");
}

// Each key is compared once, and the keys the reload rules name are there
// (a key missing from config_values would be neither applied nor reported).
TEST(ConfigReload, EveryKeyIsClassified) {
  const DaemonConfig c = from_text("");
  std::set<std::string> seen;
  for (const ConfigValue& v : config_values(c)) EXPECT_TRUE(seen.insert(v.key).second) << v.key;
  for (const char* key :
       {"daemon.log_level", "daemon.max_upload_rate", "daemon.max_download_rate",
        "daemon.max_peers", "daemon.listen", "daemon.state_dir", "daemon.socket", "daemon.tls"}) {
    EXPECT_TRUE(seen.count(key)) << key;
  }
}

}  // namespace
}  // namespace gs::daemon
