// Names and paths as gsd's control requests bring them: the argument checks
// (traversal, control characters) and where a download lands (resolve_dest).
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "daemon/command_args.h"
#include "daemon/downloads.h"
#include "names.h"
#include "sandbox.h"

namespace gs::daemon {
namespace {

Json args_with(const std::string& key, const std::string& value) {
  Json j = Json::object();
  j[key] = value;
  return j;
}

TEST(FileNameArg, RefusesTraversalAndControlCharactersSayingWhy) {
  for (const auto& [bad, problem] : std::vector<std::pair<std::string, std::string>>{
           {"../x", "file name contains '/'"},
           {"a/b", "file name contains '/'"},
           {"..", "file name is '..', which names a directory"},
           {"", "file name is empty"},
           {"a\nb", "file name contains a control character (0x0a)"},
           {"\x1b]0;title\x07", "file name contains a control character (0x1b)"},
           {std::string("a\0b", 3), "file name contains a NUL byte (0x00)"}}) {
    auto r = file_name_arg(args_with("name", bad), "name");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "bad_request");
    EXPECT_NE(r.error().message.find("argument 'name' is not a valid file name: " + problem), std::string::npos)
        << r.error().message;
    // Not echoed: whatever it holds stays out of the answer.
    for (char c : r.error().message) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << r.error().message;
  }
  for (const char* good : {"a.bin", "...", ".hidden", "caf\xc3\xa9", "with space"}) {
    EXPECT_TRUE(file_name_arg(args_with("name", good), "name").ok()) << good;
  }
}

TEST(AbsolutePathArg, RefusesControlCharacters) {
  auto r = absolute_path_arg(args_with("dest", "/tmp/a\nb"), "dest", "destination");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_request");
  EXPECT_EQ(r.error().message, "the destination contains a control character (0x0a)");
  r = absolute_path_arg(args_with("path", std::string("/tmp/a\0b", 8)), "path", "path");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "the path contains a NUL byte (0x00)");
  EXPECT_FALSE(absolute_path_arg(args_with("path", "rel/a"), "path", "path").ok());
  EXPECT_TRUE(absolute_path_arg(args_with("path", "/tmp/../x"), "path", "path").ok());
}

class ResolveDest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(sb_.path("out").c_str(), 0700), 0);
    ASSERT_EQ(::symlink(sb_.path("out").c_str(), sb_.path("link").c_str()), 0);
  }
  test::Sandbox sb_;
};

TEST_F(ResolveDest, ADirectoryGetsTheNameAndTheDirectoryIsResolvedOnce) {
  EXPECT_EQ(*resolve_dest(sb_.path("out"), "f.bin"), sb_.path("out/f.bin"));
  EXPECT_EQ(*resolve_dest(sb_.path("out/"), "f.bin"), sb_.path("out/f.bin"));
  EXPECT_EQ(*resolve_dest(sb_.path("out/g.bin"), "f.bin"), sb_.path("out/g.bin"));
  // Links and ".." in the directory part are resolved now: what is recorded
  // has none, so a link found there later was put there by someone else.
  EXPECT_EQ(*resolve_dest(sb_.path("link"), "f.bin"), sb_.path("out/f.bin"));
  EXPECT_EQ(*resolve_dest(sb_.path("link/g.bin"), "f.bin"), sb_.path("out/g.bin"));
  EXPECT_EQ(*resolve_dest(sb_.path("out/../out/g.bin"), "f.bin"), sb_.path("out/g.bin"));
}

TEST_F(ResolveDest, TheLastPartIsAFileNameLikeAnyOther) {
  for (const std::string& bad : {sb_.path("out/a\nb"), sb_.path("out/\x1b[2J")}) {
    auto r = resolve_dest(bad, "f.bin");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "bad_request");
    EXPECT_NE(r.error().message.find("control character"), std::string::npos) << r.error().message;
  }
  auto r = resolve_dest(sb_.path("out"), "a\nb");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("control character (0x0a)"), std::string::npos);
  r = resolve_dest(sb_.path("out"), "../x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("file name contains '/'"), std::string::npos);
  r = resolve_dest(sb_.path("nope/.."), "f.bin");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(resolve_dest("relative", "f.bin").ok());
}

}  // namespace
}  // namespace gs::daemon
