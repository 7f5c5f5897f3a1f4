#include "crypto.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace gs {
namespace {

TEST(Sha256, KnownVectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalMatchesOneShotAndResetsAfterFinish) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 7));
  Sha256 h;
  // Uneven parts, across the 64-byte block size.
  size_t at = 0;
  for (size_t part : {1, 63, 64, 65, 1000, 33000}) {
    h.update(data.data() + at, part);
    at += part;
  }
  h.update(std::string_view(data).substr(at));
  EXPECT_EQ(h.finish(), sha256(data));
  h.update("abc");
  EXPECT_EQ(to_hex(h.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(RandomBytes, SizesAndNoRepeats) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(1).size(), 1u);
  // Above getrandom's 256-byte single-call guarantee.
  EXPECT_EQ(random_bytes(100000).size(), 100000u);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random_bytes(32));
  EXPECT_EQ(seen.size(), 100u);
}

TEST(RandomU64, NoRepeats) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random_u64());
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Hex, RoundTripAndErrors) {
  const std::string bytes("\x00\x01\xab\xff", 4);
  EXPECT_EQ(to_hex(bytes), "0001abff");
  EXPECT_EQ(*from_hex("0001ABff"), bytes);
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
}

TEST(EqualConstantTime, Basics) {
  EXPECT_TRUE(equal_constant_time("secret", "secret"));
  EXPECT_FALSE(equal_constant_time("secret", "secreT"));
  EXPECT_FALSE(equal_constant_time("secret", "secret2"));
  EXPECT_TRUE(equal_constant_time("", ""));
}

}  // namespace
}  // namespace gs
