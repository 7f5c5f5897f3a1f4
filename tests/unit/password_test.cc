#include "password.h"

#include <gtest/gtest.h>

#include "crypto.h"

namespace gs {
namespace {

const KdfParams kFast{10, 8, 1};  // tests need speed, not strength

TEST(Password, VerifiesTheRightPasswordOnly) {
  auto h = hash_password("correct horse", kFast);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(verify_password("correct horse", *h));
  EXPECT_FALSE(verify_password("correct hors", *h));
  EXPECT_FALSE(verify_password("", *h));
}

TEST(Password, StoredFormNeverContainsThePassword) {
  auto h = hash_password("hunter2hunter2", kFast);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->find("hunter2"), std::string::npos);
  EXPECT_EQ(h->rfind("scrypt$10$8$1$", 0), 0u);
}

TEST(Password, SaltedSoSamePasswordHashesDifferently) {
  auto a = hash_password("same", kFast);
  auto b = hash_password("same", kFast);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(verify_password("same", *a));
  EXPECT_TRUE(verify_password("same", *b));
}

TEST(Password, DefaultParamsAreSlow) {
  KdfParams d;
  EXPECT_GE(d.log2_n, 14);
}

TEST(Password, MalformedStoredHashesAreRejectedNotCrashing) {
  for (const char* bad : {"", "scrypt", "scrypt$10$8$1$zz$00", "bcrypt$10$8$1$00$00",
                          "scrypt$99$8$1$00$00", "scrypt$10$8$1$00$0011", "scrypt$-1$8$1$00$00",
                          "scrypt$10$8$1$$", "scrypt$10$8$1$00$00$extra"}) {
    EXPECT_FALSE(verify_password("x", bad)) << bad;
  }
}

TEST(Crypto, HexRoundTripAndErrors) {
  EXPECT_EQ(to_hex(std::string("\x00\xff\x10", 3)), "00ff10");
  auto b = from_hex("00FF10");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(from_hex("abc").ok());
  EXPECT_FALSE(from_hex("zz").ok());
}

TEST(Crypto, Sha256KnownAnswerAndStreaming) {
  EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 s;
  s.update("a");
  s.update("bc");
  EXPECT_EQ(s.finish(), sha256("abc"));
  s.update("abc");  // reusable after finish
  EXPECT_EQ(s.finish(), sha256("abc"));
}

TEST(Crypto, RandomBytesDiffer) {
  EXPECT_EQ(random_bytes(32).size(), 32u);
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(Crypto, ConstantTimeEquality) {
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "abcd"));
}

}  // namespace
}  // namespace gs
