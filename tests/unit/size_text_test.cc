// lib/size_text: the one spelling of byte counts for people (gsd's reasons
// and STATUS=, gsctl's tables).
#include "size_text.h"

#include <gtest/gtest.h>

namespace gs {
namespace {

TEST(SizeText, BytesThenOneDecimalInTheLargestUnitUnder1024) {
  EXPECT_EQ(size_text(0), "0 B");
  EXPECT_EQ(size_text(1023), "1023 B");
  EXPECT_EQ(size_text(1024), "1.0 KiB");
  EXPECT_EQ(size_text(1024 * 1024 - 1), "1.0 MiB");  // not "1024.0 KiB"
  EXPECT_EQ(size_text(3 * 1024 * 1024 / 2), "1.5 MiB");
  EXPECT_EQ(size_text(uint64_t{5} << 40), "5.0 TiB");
  EXPECT_EQ(size_text(UINT64_MAX), "16.0 EiB");
}

}  // namespace
}  // namespace gs
