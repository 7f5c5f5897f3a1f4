// FramedConn over a real socket pair: frames in order, payloads landing
// straight from the socket in a buffer the handler chose (payload_buffer),
// pausing, the read timeout, and how a link ends.
#include "framed_conn.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "frame.h"
#include "test_loop.h"

namespace gs {
namespace {

struct Received {
  std::string payload;
  bool landed = false;  // it was in the handler's buffer
};

class FramedConnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    writer_fd_ = fds[0];
    ASSERT_EQ(fcntl(writer_fd_, F_SETFL, O_NONBLOCK), 0);
    FramedConn::Handlers h;
    h.on_frame = [this](FramedConn&, std::string_view p) {
      const bool in_landing = p.data() >= landing_.data() && p.data() < landing_.data() + landing_.size();
      got_.push_back({std::string(p), in_landing});
    };
    h.on_close = [this](FramedConn&, const std::string& reason) { closed_ = reason; };
    h.payload_buffer = [this](FramedConn&, size_t size, std::string_view head) -> char* {
      heads_.emplace_back(head);
      // Only payloads that start with 'P' and fit.
      if (head.empty() || head[0] != 'P' || size > landing_.size()) return nullptr;
      return landing_.data();
    };
    conn_ = FramedConn::accept(loop_.base(), fds[1], 1 << 20, "test", std::move(h));
    ASSERT_NE(conn_, nullptr);
  }
  void TearDown() override {
    if (closed_.empty()) conn_->close("test over");
    loop_.drain();
    if (writer_fd_ >= 0) ::close(writer_fd_);
  }
  // Non-blocking writes with loop turns in between: the reader runs on this
  // same thread, so a full socket buffer must not block.
  void write_all(const std::string& bytes) {
    size_t done = 0;
    for (int turns = 0; done < bytes.size() && turns < 100000; ++turns) {
      const ssize_t n = ::write(writer_fd_, bytes.data() + done, bytes.size() - done);
      if (n > 0) done += static_cast<size_t>(n);
      else ASSERT_EQ(errno, EAGAIN);
      loop_.drain();
    }
    ASSERT_EQ(done, bytes.size());
  }

  test::TestLoop loop_;
  int writer_fd_ = -1;
  FramedConn* conn_ = nullptr;
  std::vector<char> landing_ = std::vector<char>(300'000);
  std::vector<Received> got_;
  std::vector<std::string> heads_;
  std::string closed_;
};

std::string patterned(size_t size, char first) {
  std::string s(size, 'x');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + i % 26);
  s[0] = first;
  return s;
}

TEST_F(FramedConnTest, ClaimedPayloadsLandInTheHandlersBufferOthersDoNot) {
  const std::string big = patterned(250'000, 'P');
  std::string bytes = encode_frame("hello") + encode_frame(big) + encode_frame("") + encode_frame("P") +
                      encode_frame(std::string(400'000, 'P'));  // too big for the buffer
  write_all(bytes);
  ASSERT_TRUE(loop_.run_until([&] { return got_.size() == 5; }));
  EXPECT_EQ(got_[0].payload, "hello");
  EXPECT_FALSE(got_[0].landed);
  EXPECT_EQ(got_[1].payload, big);
  EXPECT_TRUE(got_[1].landed);
  EXPECT_EQ(got_[2].payload, "");
  // Whole within one read of a frame's start: delivered where it was read.
  EXPECT_EQ(got_[3].payload, "P");
  EXPECT_FALSE(got_[3].landed);
  EXPECT_EQ(got_[4].payload, std::string(400'000, 'P'));
  EXPECT_FALSE(got_[4].landed);
  // Asked once for each frame that was not complete at its first read, with
  // its first kPayloadHeadSize bytes.
  ASSERT_EQ(heads_.size(), 2u);
  EXPECT_EQ(heads_[0], big.substr(0, FramedConn::kPayloadHeadSize));
  EXPECT_EQ(heads_[1], std::string(FramedConn::kPayloadHeadSize, 'P'));
  EXPECT_TRUE(closed_.empty());
}

TEST_F(FramedConnTest, BackToBackPayloadsEachLandWhole) {
  // All in the socket at once: the link must not read the next payload into
  // its own buffer before it has asked where that one goes.
  std::vector<std::string> payloads;
  std::string bytes;
  for (int i = 0; i < 4; ++i) {
    payloads.push_back(patterned(200'000 + static_cast<size_t>(i), 'P'));
    bytes += encode_frame(payloads.back());
  }
  write_all(bytes);
  ASSERT_TRUE(loop_.run_until([&] { return got_.size() == payloads.size(); }));
  for (size_t i = 0; i < payloads.size(); ++i) {
    EXPECT_EQ(got_[i].payload, payloads[i]) << i;
    EXPECT_TRUE(got_[i].landed) << i;
  }
  EXPECT_EQ(heads_.size(), payloads.size());
}

TEST_F(FramedConnTest, NothingIsReadWhileReadingIsOff) {
  conn_->set_reading(false);
  write_all(encode_frame("one") + encode_frame("two"));
  EXPECT_FALSE(loop_.run_until([&] { return !got_.empty(); }, 0.2));
  conn_->set_reading(true);
  ASSERT_TRUE(loop_.run_until([&] { return got_.size() == 2; }));
  EXPECT_EQ(got_[0].payload, "one");
  EXPECT_EQ(got_[1].payload, "two");
}

TEST_F(FramedConnTest, SilenceBeyondTheReadTimeoutCloses) {
  conn_->set_read_timeout(1);
  write_all(encode_frame("still here"));
  ASSERT_TRUE(loop_.run_until([&] { return !closed_.empty(); }, 5));
  EXPECT_EQ(closed_, "read timeout");
  EXPECT_EQ(got_.size(), 1u);
}

TEST_F(FramedConnTest, PeerClosingMidFrameIsReported) {
  const std::string frame = encode_frame(patterned(100'000, 'P'));
  write_all(frame.substr(0, 50'000));
  ::close(writer_fd_);
  writer_fd_ = -1;
  ASSERT_TRUE(loop_.run_until([&] { return !closed_.empty(); }));
  EXPECT_EQ(closed_, "connection closed by peer");
  EXPECT_TRUE(got_.empty());
}

TEST_F(FramedConnTest, OversizedFrameCloses) {
  write_all(frame_header(2u << 20) + "xyz");
  ASSERT_TRUE(loop_.run_until([&] { return !closed_.empty(); }));
  EXPECT_EQ(closed_, "frame of 2097152 bytes exceeds the limit of 1048576 bytes");
  EXPECT_TRUE(got_.empty());
}

TEST_F(FramedConnTest, FrameArrivingByteByByteLandsWhole) {
  std::string payload = "P" + std::string(70'000, 'q');
  const std::string bytes = encode_frame(payload);
  for (size_t i = 0; i < bytes.size(); i += 997) write_all(bytes.substr(i, 997));
  ASSERT_TRUE(loop_.run_until([&] { return got_.size() == 1; }));
  EXPECT_EQ(got_[0].payload, payload);
  EXPECT_TRUE(got_[0].landed);
  EXPECT_EQ(heads_.size(), 1u);  // asked once, when its first bytes were in
}

}  // namespace
}  // namespace gs
