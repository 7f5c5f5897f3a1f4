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

}  // namespace
}  // namespace gs
