// What a tracker says about the cluster in its hello and its not_primary
// refusals, decoded from hand-made answers, good and bad.
#include <gtest/gtest.h>

#include "daemon/tracker_view.h"

namespace gs::daemon {
namespace {

Json parse(std::string_view text) {
  auto j = Json::parse(text);
  EXPECT_TRUE(j.ok()) << text;
  return j.ok() ? *j : Json();
}

TEST(TrackerView, AnOldTrackerIsThePrimaryOfAClusterOfOne) {
  auto v = decode_hello_view(parse(R"({"hello":"gs-tracker","version":1,"tracker":1})"), 3);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->role, TrackerRole::primary);
  EXPECT_EQ(v->role_name, "primary");
  EXPECT_FALSE(v->cluster);
  EXPECT_FALSE(v->primary.has_value());
  EXPECT_FALSE(v->epoch.has_value());
}

TEST(TrackerView, RolesPrimaryAndEpoch) {
  auto v = decode_hello_view(
      parse(R"({"hello":"gs-tracker","role":"backup","primary":3,"epoch":9})"), 3);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->role, TrackerRole::backup);
  EXPECT_TRUE(v->cluster);
  EXPECT_EQ(v->primary, 2u);  // 0-based
  EXPECT_EQ(v->epoch, 9);
  EXPECT_EQ(describe_not_primary(*v), "backup of epoch 9, naming tracker 3 as the primary");

  v = decode_hello_view(parse(R"({"role":"recovering","primary":null,"epoch":0})"), 3);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->role, TrackerRole::recovering);
  EXPECT_FALSE(v->primary.has_value());
  EXPECT_EQ(describe_not_primary(*v), "recovering of epoch 0, knowing no primary");

  v = decode_hello_view(parse(R"({"role":"primary","primary":1,"epoch":4})"), 1);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->role, TrackerRole::primary);
  EXPECT_TRUE(v->cluster);

  // A tracker that has no epoch yet may say null.
  v = decode_hello_view(parse(R"({"role":"recovering","primary":null,"epoch":null})"), 3);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->epoch.has_value());

  // A role of a newer tracker is not the primary either.
  v = decode_hello_view(parse(R"({"role":"witness"})"), 2);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->role, TrackerRole::other);
  EXPECT_EQ(v->role_name, "witness");
}

TEST(TrackerView, APrimaryNotInOurFileIsUnknown) {
  // The trackers files differ: following the number would go to the wrong one.
  for (const char* text : {R"({"role":"backup","primary":0})", R"({"role":"backup","primary":4})",
                           R"({"role":"backup","primary":-1})"}) {
    auto v = decode_hello_view(parse(text), 3);
    ASSERT_TRUE(v.ok()) << text;
    EXPECT_FALSE(v->primary.has_value()) << text;
  }
}

TEST(TrackerView, WrongTypesAreProtocolErrors) {
  for (const char* text :
       {R"({"role":5})", R"({"role":""})", R"({"role":"Primary"})", R"({"role":"pri mary"})",
        R"({"role":"backup","primary":"2"})", R"({"role":"backup","primary":2.0})",
        R"({"role":"backup","epoch":"3"})", R"({"role":"backup","epoch":-1})"}) {
    auto v = decode_hello_view(parse(text), 3);
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_EQ(v.error().code, "protocol") << text;
  }
  // A role name is echoed into logs: no escape sequences, a sane length.
  EXPECT_FALSE(decode_hello_view(parse(R"({"role":"\u001b[2J"})"), 3).ok());
  EXPECT_FALSE(decode_hello_view(parse(R"({"role":")" + std::string(33, 'a') + R"("})"), 3).ok());
}

TEST(TrackerView, ThePrimaryOfANotPrimaryRefusal) {
  EXPECT_EQ(decode_primary(parse(R"({"error":"not_primary","primary":2})"), 2), 1u);
  EXPECT_FALSE(decode_primary(parse(R"({"error":"not_primary","primary":null})"), 2).has_value());
  EXPECT_FALSE(decode_primary(parse(R"({"error":"not_primary"})"), 2).has_value());
  EXPECT_FALSE(decode_primary(parse(R"({"error":"not_primary","primary":"1"})"), 2).has_value());
  EXPECT_FALSE(decode_primary(parse(R"({"error":"not_primary","primary":3})"), 2).has_value());
}

}  // namespace
}  // namespace gs::daemon
