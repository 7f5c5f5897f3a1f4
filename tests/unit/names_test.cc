#include "names.h"

#include <gtest/gtest.h>

#include <string>

namespace gs {
namespace {

TEST(Names, Valid) {
  const std::string longest(64, 'a');
  for (const std::string& ok : {std::string("a"), std::string("alice"), std::string("Bob_2"),
                                std::string("x.y-z"), std::string("0"), longest}) {
    EXPECT_TRUE(valid_name(ok)) << ok;
  }
}

TEST(Names, Invalid) {
  const std::string too_long(65, 'a');
  for (const std::string& bad : {std::string(), too_long, std::string("-x"), std::string(".x"),
                                 std::string("a b"), std::string("a/b"), std::string("a\nb"),
                                 std::string("é"), std::string("a\0b", 3)}) {
    EXPECT_FALSE(valid_name(bad)) << bad;
  }
}

TEST(Names, Passwords) {
  EXPECT_TRUE(valid_password("x"));
  EXPECT_TRUE(valid_password(std::string(1024, 'p')));
  EXPECT_FALSE(valid_password(""));
  EXPECT_FALSE(valid_password(std::string(1025, 'p')));
}

TEST(Names, FileNames) {
  for (const std::string& ok :
       {std::string("a"), std::string("a.bin"), std::string("with space"), std::string(".hidden"),
        std::string("..."), std::string("-"), std::string("caf\xc3\xa9"), std::string("a\x80" "b"),
        std::string("~"), std::string("a\\b"), std::string(kMaxFileNameLength, 'n')}) {
    EXPECT_TRUE(valid_file_name(ok)) << ok;
    EXPECT_EQ(file_name_problem(ok), "") << ok;
  }
  for (const std::string& bad : {std::string(), std::string("."), std::string(".."), std::string("/"),
                                 std::string("a/b"), std::string("../x"), std::string("x/.."),
                                 std::string("a\0b", 3), std::string("a\nb"), std::string("\t"),
                                 std::string("a\rb"), std::string("\x1b[2J"), std::string("a\x7f"),
                                 std::string("\x01"), std::string("\x1f"),
                                 std::string(kMaxFileNameLength + 1, 'n')}) {
    EXPECT_FALSE(valid_file_name(bad)) << bad;
    EXPECT_NE(file_name_problem(bad), "") << bad;
  }
}

TEST(Names, FileNameProblemsSayWhatIsWrong) {
  EXPECT_EQ(file_name_problem(""), "file name is empty");
  EXPECT_EQ(file_name_problem(std::string(256, 'n')), "file name is longer than 255 bytes");
  EXPECT_EQ(file_name_problem(".."), "file name is '..', which names a directory");
  EXPECT_EQ(file_name_problem("."), "file name is '.', which names a directory");
  EXPECT_EQ(file_name_problem("../x"), "file name contains '/'");
  EXPECT_EQ(file_name_problem("a/b"), "file name contains '/'");
  EXPECT_EQ(file_name_problem("a\nb"), "file name contains a control character (0x0a)");
  EXPECT_EQ(file_name_problem("\x1b[2J"), "file name contains a control character (0x1b)");
  EXPECT_EQ(file_name_problem("del\x7f"), "file name contains a control character (0x7f)");
  EXPECT_EQ(file_name_problem(std::string("a\0b", 3)), "file name contains a NUL byte (0x00)");
  // The name itself is never in the message: it may hold anything.
  EXPECT_EQ(file_name_problem("secret\n").find("secret"), std::string::npos);
}

TEST(Names, PathProblems) {
  EXPECT_EQ(path_problem("/home/a/b c/../d.bin"), "");
  EXPECT_EQ(path_problem("/tmp/caf\xc3\xa9"), "");
  EXPECT_EQ(path_problem("/tmp/a\nb"), "path contains a control character (0x0a)");
  EXPECT_EQ(path_problem("/tmp/\x1b", "destination"), "destination contains a control character (0x1b)");
  EXPECT_EQ(path_problem(std::string("/a\0b", 3)), "path contains a NUL byte (0x00)");
}

}  // namespace
}  // namespace gs
