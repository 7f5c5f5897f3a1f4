// `gsctl limits` overrides kept in gsd.db and applied over the config
// (daemon/limits_control.h).
#include <gtest/gtest.h>

#include "daemon_config_text.h"
#include "daemon/limits_control.h"
#include "sandbox.h"

namespace gs::daemon {
namespace {

Json args(const std::string& text) { return *Json::parse(text); }

TEST(LimitsControl, OverridesOutliveARestartAndAReload) {
  test::Sandbox sb;
  const std::string dir = sb.path("state");
  const DaemonConfig file = from_text("[daemon]\nmax_upload_rate = 1000\n");
  {
    auto state = State::open(dir);
    ASSERT_TRUE(state.ok()) << state.error().message;
    std::vector<Limits> applied;
    LimitsControl control(**state, [&applied](const Limits& l) { applied.push_back(l); });
    control.load(file);
    ASSERT_EQ(applied.size(), 1u);
    EXPECT_EQ(applied.back().upload_rate, (Limit{1000, LimitSource::config, 1000}));

    auto r = control.request(args(R"({"upload":"2M","peers":"12"})"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->dump(), limits_json(control.current()).dump());
    ASSERT_EQ(applied.size(), 2u);
    EXPECT_EQ(applied.back().upload_rate, (Limit{2u << 20, LimitSource::runtime, 1000}));
    EXPECT_EQ(applied.back().max_peers.value, 12u);

    // Showing changes nothing and applies nothing.
    ASSERT_TRUE(control.request(Json::object()).ok());
    EXPECT_EQ(applied.size(), 2u);

    // The file changes and is reloaded: the override stays in force.
    control.set_config(from_text("[daemon]\nmax_upload_rate = 3000\n"));
    EXPECT_EQ(control.current().upload_rate, (Limit{2u << 20, LimitSource::runtime, 3000}));
  }
  // A restart: the overrides come back from gsd.db.
  auto state = State::open(dir);
  ASSERT_TRUE(state.ok());
  Limits applied;
  LimitsControl control(**state, [&applied](const Limits& l) { applied = l; });
  control.load(file);
  EXPECT_EQ(applied.upload_rate, (Limit{2u << 20, LimitSource::runtime, 1000}));
  EXPECT_EQ(applied.max_peers, (Limit{12, LimitSource::runtime, 0}));

  // Cleared, and that is kept too.
  ASSERT_TRUE(control.request(args(R"({"reset":true})")).ok());
  EXPECT_EQ(applied.upload_rate, (Limit{1000, LimitSource::config, 1000}));
  LimitsControl again(**state, [](const Limits&) {});
  again.load(file);
  EXPECT_EQ(again.current().upload_rate.source, LimitSource::config);
  EXPECT_EQ(again.current().max_peers.source, LimitSource::default_value);
}

TEST(LimitsControl, ABadRequestChangesNothing) {
  test::Sandbox sb;
  auto state = State::open(sb.path("state"));
  ASSERT_TRUE(state.ok());
  int applied = 0;
  LimitsControl control(**state, [&applied](const Limits&) { ++applied; });
  control.load(from_text(""));
  auto r = control.request(args(R"({"upload":"1M","download":"lots"})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_request");
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(control.current().upload_rate.source, LimitSource::default_value);
  EXPECT_EQ((*state)->meta(std::string(kUploadRateMeta)), "");
}

}  // namespace
}  // namespace gs::daemon
