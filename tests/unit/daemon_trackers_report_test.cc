// The rows of `gsctl trackers` from probe results made by hand: who counts
// as the primary, "behind", old trackers, bad answers, the link's row.
#include <gtest/gtest.h>

#include "daemon/trackers_report.h"

namespace gs::daemon {
namespace {

Json parse(std::string_view text) {
  auto j = Json::parse(text);
  EXPECT_TRUE(j.ok()) << text;
  return j.ok() ? *j : Json();
}

TrackerProbeResult answered(uint16_t port, std::string_view hello, std::string_view cluster) {
  TrackerProbeResult r;
  r.endpoint = Endpoint{"127.0.0.1", port};
  r.greeted = true;
  r.hello = parse(hello);
  r.cluster = cluster.empty() ? Json() : parse(cluster);
  return r;
}

TrackerProbeResult failed(uint16_t port, std::string error) {
  TrackerProbeResult r;
  r.endpoint = Endpoint{"127.0.0.1", port};
  r.error = std::move(error);
  return r;
}

constexpr const char* kHello =
    R"({"hello":"gs-tracker","version":1,"tracker":1,"role":"backup","epoch":3})";

TEST(TrackersReport, OneRowPerTrackerWithEveryField) {
  const std::vector<TrackerProbeResult> results = {
      answered(
          7410, kHello,
          R"({"id":1,"ok":true,"tracker":1,"role":"backup","epoch":3,"primary":2,"commit":117,"last":118})"),
      answered(
          7411, kHello,
          R"({"id":1,"ok":true,"tracker":2,"role":"primary","epoch":3,"primary":2,"commit":118,"last":120,
                   "trackers":[]})"),
      failed(7412, "connection error: Connection refused"),
  };
  const Json rows = trackers_report(results, 1);
  EXPECT_EQ(rows, parse(R"([
    {"index":1,"address":"127.0.0.1:7410","reachable":true,"error":null,"role":"backup","epoch":3,"primary":2,
     "commit":117,"last":118,"behind":2,"link":false},
    {"index":2,"address":"127.0.0.1:7411","reachable":true,"error":null,"role":"primary","epoch":3,"primary":2,
     "commit":118,"last":120,"behind":0,"link":true},
    {"index":3,"address":"127.0.0.1:7412","reachable":false,"error":"connection error: Connection refused",
     "role":null,"epoch":null,"primary":null,"commit":null,"last":null,"behind":null,"link":false}
  ])"))
      << rows.dump_pretty();
}

TEST(TrackersReport, NoPrimaryAnsweredMeansNobodyIsBehind) {
  const std::vector<TrackerProbeResult> results = {
      answered(7410, kHello,
               R"({"id":1,"ok":true,"role":"backup","epoch":3,"primary":null,"last":118})"),
      failed(7411, "could not connect within 2 s"),
  };
  const Json rows = trackers_report(results, std::nullopt);
  EXPECT_TRUE(rows.as_array()[0].find("behind")->is_null());
  EXPECT_TRUE(rows.as_array()[0].find("primary")->is_null());
  EXPECT_EQ(rows.as_array()[0].get_bool("link"), false);
}

TEST(TrackersReport, TwoPrimariesTheNewerEpochCounts) {
  // A primary that was paused still says so until it hears of the new epoch.
  const std::vector<TrackerProbeResult> results = {
      answered(7410, kHello, R"({"id":1,"ok":true,"role":"primary","epoch":2,"last":90})"),
      answered(7411, kHello, R"({"id":1,"ok":true,"role":"primary","epoch":3,"last":100})"),
  };
  const Json rows = trackers_report(results, 1);
  EXPECT_EQ(rows.as_array()[0].get_int("behind"), 10);
  EXPECT_EQ(rows.as_array()[1].get_int("behind"), 0);
}

TEST(TrackersReport, AnOldTrackerIsAPrimaryThatSaysNoMore) {
  TrackerProbeResult old;
  old.endpoint = Endpoint{"127.0.0.1", 7410};
  old.greeted = true;
  old.hello = parse(R"({"hello":"gs-tracker","version":1,"tracker":1})");
  const Json rows = trackers_report({old}, 0);
  EXPECT_EQ(
      rows,
      parse(
          R"([{"index":1,"address":"127.0.0.1:7410","reachable":true,"error":null,"role":"primary",
                             "epoch":null,"primary":null,"commit":null,"last":null,"behind":null,"link":true}])"))
      << rows.dump_pretty();
}

TEST(TrackersReport, MalformedAnswersAreSaidToBe) {
  for (const char* cluster :
       {R"({"ok":true,"role":7,"last":1})", R"({"ok":true,"role":"backup","last":-1})",
        R"({"ok":true,"role":"backup","epoch":"3"})", R"({"ok":true,"primary":"1"})",
        R"({"ok":true,"primary":0})"}) {
    const Json rows = trackers_report({answered(7410, kHello, cluster)}, std::nullopt);
    const Json& row = rows.as_array()[0];
    EXPECT_EQ(row.get_bool("reachable"), true) << cluster;
    EXPECT_EQ(row.get_string("error"), "malformed cluster answer") << cluster;
  }
  const Json rows =
      trackers_report({answered(7410, R"({"hello":"gs-tracker","role":5})", "")}, std::nullopt);
  EXPECT_EQ(rows.as_array()[0].get_string("error").value_or("").rfind("malformed hello", 0), 0u);
}

TEST(TrackersReport, ErrorTextIsMadeSafeForATerminal) {
  const Json rows =
      trackers_report({failed(7410, "bad\x1b[2J" + std::string(1000, 'x'))}, std::nullopt);
  const std::string error = rows.as_array()[0].get_string("error").value_or("");
  EXPECT_EQ(error.find('\x1b'), std::string::npos);
  EXPECT_LT(error.size(), 400u);
}

}  // namespace
}  // namespace gs::daemon
