// Where each transfer limit comes from (daemon/limits.h) and how the
// `limits` request changes the runtime overrides.
#include <gtest/gtest.h>

#include "daemon_config_text.h"
#include "daemon/limits.h"

namespace gs::daemon {
namespace {

Json args(const std::string& text) {
  auto j = Json::parse(text);
  EXPECT_TRUE(j.ok()) << text;
  return *j;
}

TEST(Limits, DefaultThenConfigThenRuntime) {
  const DaemonConfig none = from_text("");
  Limits l = effective_limits(none, {});
  EXPECT_EQ(l.upload_rate, (Limit{0, LimitSource::default_value, 0}));
  EXPECT_EQ(l.max_peers.source, LimitSource::default_value);

  const DaemonConfig file = from_text("[daemon]\nmax_upload_rate = 1000\nmax_download_rate = 0\n");
  l = effective_limits(file, {});
  EXPECT_EQ(l.upload_rate, (Limit{1000, LimitSource::config, 1000}));
  // Set in the file, even to the default value: the file's.
  EXPECT_EQ(l.download_rate, (Limit{0, LimitSource::config, 0}));
  EXPECT_EQ(l.max_peers.source, LimitSource::default_value);

  LimitOverrides o;
  o.upload_rate = 5000;
  o.max_peers = 0;
  l = effective_limits(file, o);
  EXPECT_EQ(l.upload_rate, (Limit{5000, LimitSource::runtime, 1000}));
  EXPECT_EQ(l.max_peers, (Limit{0, LimitSource::runtime, 0}));
  EXPECT_EQ(l.download_rate.source, LimitSource::config);
}

// A reload that changes the file's value does not undo the override; the
// new file value shows beside it and applies once the override is cleared.
TEST(Limits, ReloadDoesNotClobberARuntimeOverride) {
  LimitOverrides o;
  o.upload_rate = 5000;
  const Limits before = effective_limits(from_text("[daemon]\nmax_upload_rate = 1000\n"), o);
  const Limits after = effective_limits(from_text("[daemon]\nmax_upload_rate = 2000\n"), o);
  EXPECT_EQ(before.upload_rate.value, 5000u);
  EXPECT_EQ(after.upload_rate, (Limit{5000, LimitSource::runtime, 2000}));
  auto cleared = apply_limit_args(o, args(R"({"upload":"default"})"));
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(effective_limits(from_text("[daemon]\nmax_upload_rate = 2000\n"), *cleared).upload_rate,
            (Limit{2000, LimitSource::config, 2000}));
}

TEST(Limits, RequestArgsSetClearAndReset) {
  LimitOverrides o;
  auto r = apply_limit_args(o, args(R"({"upload":"10M","download":"500K","peers":"40"})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->upload_rate, uint64_t{10} << 20);
  EXPECT_EQ(r->download_rate, uint64_t{500} << 10);
  EXPECT_EQ(r->max_peers, 40u);
  // Numbers work too (scripts speaking the protocol), and 0 is a value, not "unset".
  r = apply_limit_args(*r, args(R"({"upload":0,"peers":7})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->upload_rate, 0u);
  EXPECT_EQ(r->max_peers, 7u);
  // Absent leaves alone; "default" clears one.
  r = apply_limit_args(*r, args(R"({"download":"default"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->download_rate);
  EXPECT_EQ(r->upload_rate, 0u);
  // reset clears all first, then the others apply.
  r = apply_limit_args(*r, args(R"({"reset":true,"peers":"3"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (LimitOverrides{std::nullopt, std::nullopt, 3}));
  r = apply_limit_args(*r, args(R"({"reset":false})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->max_peers, 3u);
}

TEST(Limits, BadArgsAreRefusedNamingTheArgument) {
  for (const char* bad : {R"({"upload":"fast"})", R"({"upload":-1})", R"({"upload":1.5})",
                          R"({"download":"10MB"})", R"({"peers":"-3"})", R"({"peers":"1M"})",
                          R"({"peers":100001})", R"({"reset":"yes"})", R"({"upload":"2000G"})"}) {
    auto r = apply_limit_args({}, args(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "bad_request") << bad;
    const std::string name = std::string(bad).substr(2, std::string(bad).find('"', 2) - 2);
    EXPECT_NE(r.error().message.find("'" + name + "'"), std::string::npos) << r.error().message;
  }
}

TEST(Limits, OverridesReadBackFromTheStateFile) {
  EXPECT_EQ(override_meta_text(std::nullopt), "");
  EXPECT_EQ(override_meta_text(uint64_t{0}), "0");
  EXPECT_EQ(parse_override_meta(override_meta_text(uint64_t{1} << 30)), uint64_t{1} << 30);
  EXPECT_FALSE(parse_override_meta(""));
  EXPECT_FALSE(parse_override_meta("12x"));
  EXPECT_EQ(parse_override_meta("0"), 0u);
}

TEST(Limits, JsonNamesValueSourceAndConfig) {
  LimitOverrides o;
  o.download_rate = 2048;
  const Json j = limits_json(effective_limits(from_text("[daemon]\nmax_upload_rate = 1000\n"), o));
  EXPECT_EQ(j.dump(), R"({"upload_rate":{"value":1000,"source":"config","config":1000},)"
                      R"("download_rate":{"value":2048,"source":"runtime","config":0},)"
                      R"("max_peers":{"value":0,"source":"default","config":0}})");
}

}  // namespace
}  // namespace gs::daemon
