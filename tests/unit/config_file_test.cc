#include "config_file.h"

#include <gtest/gtest.h>

#include "sandbox.h"

namespace gs {
namespace {

TEST(ConfigFile, ReadsTypedKeysAndKeepsDefaults) {
  auto cf = ConfigFile::parse("[a]\nname = \"x\"\ncount = 7\nflag = true\n", "t.toml");
  ASSERT_TRUE(cf.ok()) << cf.error().message;
  std::string name = "default";
  int64_t count = 1;
  bool flag = false;
  std::string absent = "kept";
  ASSERT_TRUE(cf->get("a.name", name).ok());
  ASSERT_TRUE(cf->get("a.count", count, 0, 10).ok());
  ASSERT_TRUE(cf->get("a.flag", flag).ok());
  ASSERT_TRUE(cf->get("a.absent", absent).ok());
  EXPECT_EQ(name, "x");
  EXPECT_EQ(count, 7);
  EXPECT_TRUE(flag);
  EXPECT_EQ(absent, "kept");
  EXPECT_TRUE(cf->check_unknown().ok());
}

TEST(ConfigFile, WrongTypeNamesFileLineAndKey) {
  auto cf = ConfigFile::parse("[a]\n\ncount = \"seven\"\n", "gsd.toml");
  ASSERT_TRUE(cf.ok());
  int64_t count = 0;
  auto s = cf->get("a.count", count, 0, 10);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "gsd.toml:3: key 'a.count': expected an integer, got a string");
}

TEST(ConfigFile, OutOfRange) {
  auto cf = ConfigFile::parse("[a]\ncount = 11\n", "f.toml");
  ASSERT_TRUE(cf.ok());
  int64_t count = 0;
  auto s = cf->get("a.count", count, 0, 10);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("f.toml:2: key 'a.count': 11 is out of range"), std::string::npos);
}

TEST(ConfigFile, UnknownKeysAndSections) {
  auto cf = ConfigFile::parse("[a]\nname = \"x\"\ntypo = 1\n", "f.toml");
  ASSERT_TRUE(cf.ok());
  std::string name;
  ASSERT_TRUE(cf->get("a.name", name).ok());
  auto s = cf->check_unknown();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "f.toml:3: key 'a.typo': unknown key");

  auto cf2 = ConfigFile::parse("[zzz]\nx = 1\n", "f.toml");
  ASSERT_TRUE(cf2.ok());
  auto s2 = cf2->check_unknown();
  ASSERT_FALSE(s2.ok());
  EXPECT_NE(s2.error().message.find("'zzz'"), std::string::npos);
}

TEST(ConfigFile, SyntaxErrorNamesLineAndColumn) {
  auto cf = ConfigFile::parse("[a]\nname = \n", "bad.toml");
  ASSERT_FALSE(cf.ok());
  EXPECT_EQ(cf.error().message.rfind("bad.toml:2:", 0), 0u) << cf.error().message;
}

// A refused reload must point at the key too, not only the line.
TEST(ConfigFile, SyntaxErrorNamesTheKeyOfItsLine) {
  auto cf = ConfigFile::parse("[a]\nname = \"x\"\n\n[daemon]\nmax_peers = = 3\n", "bad.toml");
  ASSERT_FALSE(cf.ok());
  EXPECT_EQ(cf.error().message.rfind("bad.toml:5:", 0), 0u) << cf.error().message;
  EXPECT_NE(cf.error().message.find("key 'daemon.max_peers': "), std::string::npos)
      << cf.error().message;
  EXPECT_EQ(key_on_line("top = 1\n[t]\n  k = [\n", 3), "t.k");
  EXPECT_EQ(key_on_line("top = 1\n", 1), "top");
  EXPECT_EQ(key_on_line("[t]\n# k = 1\n", 2), "");
  EXPECT_EQ(key_on_line("[t\n", 1), "");
  EXPECT_EQ(key_on_line("x = 1\n", 7), "");
}

TEST(ConfigFile, LoadMissingFile) {
  test::Sandbox sb;
  auto cf = ConfigFile::load(sb.path("missing.toml"));
  ASSERT_FALSE(cf.ok());
  EXPECT_NE(cf.error().message.find("missing.toml"), std::string::npos);
}

TEST(ConfigFile, HasSaysWhetherAKeyIsSetWithoutAskingForIt) {
  auto cf = ConfigFile::parse("[a]\nflag = false\n", "t.toml");
  ASSERT_TRUE(cf.ok()) << cf.error().message;
  EXPECT_TRUE(cf->has("a.flag"));
  EXPECT_FALSE(cf->has("a.other"));
  EXPECT_FALSE(cf->check_unknown().ok()) << "has() is not get(): the key is still unknown";
  EXPECT_FALSE(ConfigFile().has("a.flag"));
}

TEST(ConfigFile, EmptyConfigHasNoUnknownKeys) {
  ConfigFile cf;
  std::string v = "d";
  ASSERT_TRUE(cf.get("x.y", v).ok());
  EXPECT_EQ(v, "d");
  EXPECT_TRUE(cf.check_unknown().ok());
}

}  // namespace
}  // namespace gs
