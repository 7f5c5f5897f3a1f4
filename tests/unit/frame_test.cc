#include "frame.h"

#include <gtest/gtest.h>

namespace gs {
namespace {

TEST(Frame, RoundTrip) {
  const std::string wire = encode_frame("hello");
  ASSERT_EQ(wire.size(), 9u);
  auto f = decode_frame(wire, 100);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->payload, "hello");
  EXPECT_EQ(f->consumed, 9u);
}

TEST(Frame, EmptyPayload) {
  auto f = decode_frame(encode_frame(""), 100);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->payload, "");
  EXPECT_EQ(f->consumed, 4u);
}

TEST(Frame, NeedsMoreBytes) {
  const std::string wire = encode_frame("hello");
  for (size_t n = 0; n < wire.size(); ++n) {
    auto f = decode_frame(std::string_view(wire).substr(0, n), 100);
    ASSERT_TRUE(f.ok()) << n;
    EXPECT_EQ(f->consumed, 0u) << n;
  }
}

TEST(Frame, TwoFramesBackToBack) {
  const std::string wire = encode_frame("ab") + encode_frame("cde");
  auto f1 = decode_frame(wire, 100);
  ASSERT_TRUE(f1.ok());
  EXPECT_EQ(f1->payload, "ab");
  auto f2 = decode_frame(std::string_view(wire).substr(f1->consumed), 100);
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(f2->payload, "cde");
}

TEST(Frame, OversizedHeaderIsAnErrorBeforeAnyPayloadArrives) {
  const std::string header = frame_header(101);
  auto f = decode_frame(header, 100);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, "frame_too_large");
  // The classic garbage case: ASCII text read as a length.
  auto g = decode_frame("GET / HTTP/1.1\r\n", 1 << 20);
  ASSERT_FALSE(g.ok());
}

TEST(Frame, BigEndianHeader) {
  EXPECT_EQ(frame_header(0x01020304), std::string("\x01\x02\x03\x04", 4));
}

}  // namespace
}  // namespace gs
