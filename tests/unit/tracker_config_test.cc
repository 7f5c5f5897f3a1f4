#include "tracker/config.h"

#include <gtest/gtest.h>

#include "sandbox.h"

namespace gs::tracker {
namespace {

TEST(TrackerConfig, EmptyFileGivesTheDefaults) {
  auto c = parse_tracker_config("", "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->log_level, LogLevel::info);
  EXPECT_EQ(c->session_ttl_seconds, 20);
  EXPECT_EQ(c->kdf_log2_n, 15);
  EXPECT_EQ(c->max_connections, 4096);
  EXPECT_EQ(c->handshake_timeout_seconds, 10);
  EXPECT_EQ(c->idle_timeout_seconds, 120);
  EXPECT_EQ(c->login_failures_before_delay, 5);
  EXPECT_EQ(c->login_delay_seconds, 30);
  EXPECT_EQ(c->login_address_failures_before_delay, 50);
  EXPECT_EQ(c->login_address_delay_seconds, 30);
  EXPECT_EQ(c->login_addresses_tracked, 10000);
  EXPECT_EQ(c->cluster_timeout_ms, 1500);
  EXPECT_EQ(c->replica_log_keep, 10000);
  EXPECT_EQ(c->max_connections_per_address, 64);
  EXPECT_EQ(c->max_peers_per_answer, 50);
}

TEST(TrackerConfig, EveryKeyIsRead) {
  auto c = parse_tracker_config(R"([tracker]
log_level = "debug"
session_ttl_seconds = 3
kdf_log2_n = 10
max_connections = 7
handshake_timeout_seconds = 2
idle_timeout_seconds = 9
login_failures_before_delay = 4
login_delay_seconds = 0
login_address_failures_before_delay = 6
login_address_delay_seconds = 2
login_addresses_tracked = 100
cluster_timeout_ms = 700
replica_log_keep = 20
max_connections_per_address = 3
max_peers_per_answer = 200
)",
                                "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->log_level, LogLevel::debug);
  EXPECT_EQ(c->session_ttl_seconds, 3);
  EXPECT_EQ(c->kdf_log2_n, 10);
  EXPECT_EQ(c->max_connections, 7);
  EXPECT_EQ(c->handshake_timeout_seconds, 2);
  EXPECT_EQ(c->idle_timeout_seconds, 9);
  EXPECT_EQ(c->login_failures_before_delay, 4);
  EXPECT_EQ(c->login_delay_seconds, 0);
  EXPECT_EQ(c->login_address_failures_before_delay, 6);
  EXPECT_EQ(c->login_address_delay_seconds, 2);
  EXPECT_EQ(c->login_addresses_tracked, 100);
  EXPECT_EQ(c->cluster_timeout_ms, 700);
  EXPECT_EQ(c->replica_log_keep, 20);
  EXPECT_EQ(c->max_connections_per_address, 3);
  EXPECT_EQ(c->max_peers_per_answer, 200);
}

void expect_error(std::string_view text, const std::string& fragment) {
  auto c = parse_tracker_config(text, "t.toml");
  ASSERT_FALSE(c.ok()) << text;
  EXPECT_NE(c.error().message.find(fragment), std::string::npos) << c.error().message;
}

TEST(TrackerConfig, ErrorsNameFileLineAndKey) {
  expect_error("[tracker]\n\nsession_tll_seconds = 5\n", "t.toml:3: key 'tracker.session_tll_seconds': unknown key");
  expect_error("[tracker]\nkdf_log2_n = 40\n", "t.toml:2: key 'tracker.kdf_log2_n': 40 is out of range (10 to 20)");
  expect_error("[tracker]\nlogin_address_failures_before_delay = 10001\n",
               "t.toml:2: key 'tracker.login_address_failures_before_delay': 10001 is out of range (1 to 10000)");
  expect_error("[tracker]\nlogin_addresses_tracked = 0\n",
               "t.toml:2: key 'tracker.login_addresses_tracked': 0 is out of range (1 to 10000000)");
  expect_error("[tracker]\nmax_connections = \"many\"\n", "t.toml:2: key 'tracker.max_connections': expected an integer");
  expect_error("[tracker]\nsession_ttl_seconds = 0\n", "t.toml:2: key 'tracker.session_ttl_seconds'");
  expect_error("[tracker]\n# x\nlog_level = \"loud\"\n", "t.toml:3: key 'tracker.log_level': \"loud\" is not a log level");
  expect_error("[tracker]\nlog_level = 3\n", "t.toml:2: key 'tracker.log_level': expected a string");
  expect_error("[daemon]\nx = 1\n", "key 'daemon': unknown key");
  expect_error("[tracker\n", "t.toml:1:");
  expect_error("[tracker]\ncluster_timeout_ms = 50\n", "t.toml:2: key 'tracker.cluster_timeout_ms': 50 is out of range");
  expect_error("[tracker]\nreplica_log_keep = 0\n", "t.toml:2: key 'tracker.replica_log_keep'");
  expect_error("[tracker]\n\nmax_connections_per_address = 0\n",
               "t.toml:3: key 'tracker.max_connections_per_address': 0 is out of range (1 to 1000000)");
  expect_error("[tracker]\nmax_peers_per_answer = 201\n",
               "t.toml:2: key 'tracker.max_peers_per_answer': 201 is out of range (1 to 200)");
  expect_error("[tracker]\nmax_peers_per_answer = 0\n",
               "t.toml:2: key 'tracker.max_peers_per_answer': 0 is out of range (1 to 200)");
  expect_error("[tracker]\nmax_connections_per_address = true\n",
               "t.toml:2: key 'tracker.max_connections_per_address': expected an integer");
}

TEST(TrackerConfig, TheExampleFileIsValidAndAllDefaults) {
  auto c = load_tracker_config(std::string(GS_TEST_ASSETS) + "/../../etc/gs-tracker.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->session_ttl_seconds, 20);
}

TEST(TrackerConfig, MissingFileIsAnError) {
  test::Sandbox sb;
  auto c = load_tracker_config(sb.path("none.toml"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("none.toml"), std::string::npos);
}

}  // namespace
}  // namespace gs::tracker
