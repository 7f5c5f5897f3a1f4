#include "trackers_file.h"

#include <gtest/gtest.h>

#include "sandbox.h"

namespace gs {
namespace {

TEST(TrackersFile, BothFormsCommentsAndBlankLines) {
  auto t = parse_trackers(
      "# cluster\n"
      "127.0.0.1 7400\n"
      "\n"
      "  127.0.0.1:7401   # second\r\n"
      "[::1]:7402\n"
      "::1 7403\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->size(), 4u);
  EXPECT_EQ((*t)[0], (Endpoint{"127.0.0.1", 7400}));
  EXPECT_EQ((*t)[1], (Endpoint{"127.0.0.1", 7401}));
  EXPECT_EQ((*t)[2], (Endpoint{"::1", 7402}));
  EXPECT_EQ((*t)[3], (Endpoint{"::1", 7403}));
  EXPECT_EQ((*t)[2].str(), "[::1]:7402");
}

TEST(TrackersFile, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (const Case& c : {Case{"127.0.0.1 7400\nnonsense\n", "line 2"},
                        Case{"127.0.0.1 99999\n", "line 1"},
                        Case{"127.0.0.1 0\n", "line 1"},
                        Case{"127.0.0.1 7400 extra\n", "line 1"},
                        Case{"# only comments\n\n", "no trackers"},
                        Case{"", "no trackers"},
                        Case{"127.0.0.1:7400\n127.0.0.1 7400\n", "listed twice"},
                        Case{":7400\n", "line 1"}}) {
    auto t = parse_trackers(c.text);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_NE(t.error().message.find(c.expect), std::string::npos) << t.error().message;
  }
}

TEST(TrackersFile, KeysBesideTrackersArePinsAndBadOnesNameTheLine) {
  const std::string key(64, 'a');
  auto t = parse_trackers_file("127.0.0.1 7400 key=" + key + "\n127.0.0.1:7401\n127.0.0.1:7402\tkey=" + key +
                               "  # third\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->trackers.size(), 3u);
  ASSERT_EQ(t->keys.size(), 3u);
  EXPECT_EQ(t->trackers[0], (Endpoint{"127.0.0.1", 7400}));
  EXPECT_EQ(t->keys[0], std::string(32, '\xaa'));
  EXPECT_EQ(t->keys[1], "");
  EXPECT_EQ(t->keys[2], std::string(32, '\xaa'));
  auto bad = parse_trackers_file("127.0.0.1 7400\n127.0.0.1 7401 key=abc\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 2: a key is 64 hex digits"), std::string::npos) << bad.error().message;
}

TEST(TrackersFile, AClusterKeyLinePinsTheTicketKeyOnce) {
  const std::string key(64, 'b');
  auto t = parse_trackers_file("cluster_key=" + key + "  # signs tickets\n127.0.0.1 7400\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->cluster_key, std::string(32, '\xbb'));
  ASSERT_EQ(t->trackers.size(), 1u);
  EXPECT_EQ(parse_trackers_file("127.0.0.1 7400\n")->cluster_key, "");
  auto twice = parse_trackers_file("cluster_key=" + key + "\ncluster_key=" + key + "\n127.0.0.1 7400\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("line 2: a second cluster_key"), std::string::npos) << twice.error().message;
  auto bad = parse_trackers_file("127.0.0.1 7400\ncluster_key=xyz\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 2: cluster_key: "), std::string::npos) << bad.error().message;
}

TEST(TrackersFile, LoadNamesTheFile) {
  test::Sandbox sb;
  const std::string p = sb.write("trackers.txt", "bad line\n");
  auto t = load_trackers_file(p);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find(p + ": line 1"), std::string::npos) << t.error().message;
  auto missing = load_trackers_file(sb.path("nope.txt"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.txt"), std::string::npos);
}

TEST(Endpoint, Parse) {
  auto a = parse_endpoint("127.0.0.1:7400");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 7400);
  auto b = parse_endpoint("[::1]:1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_TRUE(parse_endpoint("127.0.0.1:0", /*allow_port_zero=*/true).ok());
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:0", "[::1]", "[::1]80",
                          "::1:80", "host:65536", "host:-1", "host:8x"}) {
    EXPECT_FALSE(parse_endpoint(bad).ok()) << bad;
  }
}

TEST(Endpoint, ResolveNumeric) {
  auto a = resolve(Endpoint{"127.0.0.1", 7400});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(sockaddr_to_string(a->get()), "127.0.0.1:7400");
  EXPECT_FALSE(resolve(Endpoint{"not a host name", 1}).ok());
}

}  // namespace
}  // namespace gs
