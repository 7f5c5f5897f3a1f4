// Rates as people type them (lib/rate_text.h).
#include "rate_text.h"

#include <gtest/gtest.h>

namespace gs {
namespace {

TEST(RateText, ParsesBytesAndBinarySuffixes) {
  EXPECT_EQ(parse_rate("0"), 0u);
  EXPECT_EQ(parse_rate("2048"), 2048u);
  EXPECT_EQ(parse_rate("500K"), 500u * 1024);
  EXPECT_EQ(parse_rate("500k"), 500u * 1024);
  EXPECT_EQ(parse_rate("10M"), 10u << 20);
  EXPECT_EQ(parse_rate("1G"), 1u << 30);
  EXPECT_EQ(parse_rate("1.5M"), 3u << 19);
  EXPECT_EQ(parse_rate("0.5K"), 512u);
}

TEST(RateText, RefusesWhatIsNotPlainlyARate) {
  for (const char* bad : {"", "K", "-1", "1.5", "1.M", ".5M", "10MB", "10MiB", "10 M", " 10", "1e6",
                          "ten", "10M/s", "1T", "2000G", "99999999999999999999"}) {
    EXPECT_FALSE(parse_rate(bad).has_value()) << bad;
  }
  EXPECT_EQ(parse_rate("1024G"), kMaxRate);  // the top of the range is still a rate
}

TEST(RateText, TextReadsBackExactly) {
  EXPECT_EQ(rate_text(0), "0");
  EXPECT_EQ(rate_text(1000), "1000");
  EXPECT_EQ(rate_text(512 * 1024), "512K");
  EXPECT_EQ(rate_text(10u << 20), "10M");
  EXPECT_EQ(rate_text(3u << 19), "1536K");
  EXPECT_EQ(rate_text(2u << 30), "2G");
  for (uint64_t v :
       {uint64_t{1}, uint64_t{1023}, uint64_t{1025}, uint64_t{3} << 19, uint64_t{7} << 30}) {
    EXPECT_EQ(parse_rate(rate_text(v)), v) << v;
  }
}

}  // namespace
}  // namespace gs
