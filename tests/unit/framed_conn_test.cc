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

#include "file_source.h"
#include "frame.h"
#include "sandbox.h"
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
    h.on_close = [this](FramedConn&, const CloseReason& reason) {
      closed_ = reason.text;
      kind_ = reason.kind;
    };
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
  // What the far end received, reading until `size` bytes are in (or time
  // runs out), with loop turns in between so the link can send.
  std::string read_far_end(size_t size) {
    std::string got;
    char buf[65536];
    for (int turns = 0; got.size() < size && turns < 100000; ++turns) {
      loop_.drain();
      const ssize_t n = ::recv(writer_fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) got.append(buf, static_cast<size_t>(n));
      else if (n == 0) break;
    }
    return got;
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
  CloseKind kind_ = CloseKind::local;
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
  EXPECT_EQ(kind_, CloseKind::read_timeout);
  EXPECT_EQ(got_.size(), 1u);
}

TEST_F(FramedConnTest, PeerClosingMidFrameIsReported) {
  const std::string frame = encode_frame(patterned(100'000, 'P'));
  write_all(frame.substr(0, 50'000));
  ::close(writer_fd_);
  writer_fd_ = -1;
  ASSERT_TRUE(loop_.run_until([&] { return !closed_.empty(); }));
  EXPECT_EQ(closed_, "connection closed by peer");
  EXPECT_EQ(kind_, CloseKind::peer_closed);
  EXPECT_TRUE(got_.empty());
}

TEST_F(FramedConnTest, OversizedFrameCloses) {
  write_all(frame_header(2u << 20) + "xyz");
  ASSERT_TRUE(loop_.run_until([&] { return !closed_.empty(); }));
  EXPECT_EQ(closed_, "frame of 2097152 bytes exceeds the limit of 1048576 bytes");
  EXPECT_EQ(kind_, CloseKind::bad_frame);
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

TEST_F(FramedConnTest, SendFrameJoinsBytesAndFileRangesInOneFrame) {
  test::Sandbox sb;
  const std::string content = patterned(300'000, 'F');
  sb.write("data.bin", content);
  auto file = FileSource::open(sb.path("data.bin"), content.size());
  ASSERT_TRUE(file.ok()) << file.error().message;
  FileSource& f = **file;
  ASSERT_TRUE(conn_->send_frame({"head", FileRange{&f, 3, 200'000}, "|", FileRange{&f, 0, 0},
                                 FileRange{&f, 299'990, 10}}));
  ASSERT_TRUE(conn_->send("next"));
  file->reset();  // ranges already queued keep the file open
  const std::string payload = "head" + content.substr(3, 200'000) + "|" + content.substr(299'990, 10);
  const std::string want = encode_frame(payload) + encode_frame("next");
  EXPECT_EQ(read_far_end(want.size()), want);
  EXPECT_EQ(conn_->pending_output(), 0u);
}

TEST_F(FramedConnTest, DrainedRunsWhenTheOutputFallsToTheThreshold) {
  int drained = 0;
  // Handlers are fixed at accept: a second link over its own socket pair.
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  FramedConn::Handlers h;
  h.on_drained = [&](FramedConn&) { ++drained; };
  std::string closed;
  h.on_close = [&](FramedConn&, const CloseReason& r) { closed = r.text; };
  FramedConn* c = FramedConn::accept(loop_.base(), fds[1], 1 << 20, "drain", std::move(h));
  ASSERT_NE(c, nullptr);
  c->set_drain_threshold(1000);
  ASSERT_TRUE(c->send(std::string(500, 'a')));
  ASSERT_TRUE(loop_.run_until([&] { return drained > 0; }));
  c->close("done");
  EXPECT_EQ(closed, "done");
  ::close(fds[0]);
}

TEST_F(FramedConnTest, SendOnAClosingLinkIsRefused) {
  // Output queued: the link waits for it to go out before it closes (with
  // nothing queued it would close, and be gone, at once).
  ASSERT_TRUE(conn_->send("queued"));
  conn_->close_after_flush("flushing");
  EXPECT_FALSE(conn_->send("late"));
  const std::string expect = encode_frame("queued");
  EXPECT_EQ(read_far_end(expect.size()), expect);
  ASSERT_TRUE(loop_.run_until([&] { return !closed_.empty(); }));
  EXPECT_EQ(closed_, "flushing");
  EXPECT_EQ(kind_, CloseKind::local);
}

}  // namespace
}  // namespace gs
