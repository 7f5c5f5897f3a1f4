// PeerClient against a minimal fake serving peer on 127.0.0.1 (port 0), on a
// real libevent loop: handshake and bitfield, pipelined requests, and every
// kind of misbehaviour closing the link.
#include "daemon/peer_client.h"

#include <memory>

#include <gtest/gtest.h>

#include "daemon_download_fakes.h"

namespace gs::daemon {
namespace {

constexpr uint32_t kPiece = 16384;

struct EventBaseDeleter {
  void operator()(event_base* b) const { event_base_free(b); }
};

class Recorder : public PeerClient::Owner {
 public:
  void on_peer_ready(PeerClient& p) override {
    ready = true;
    has = p.has().count();
  }
  void on_peer_have(PeerClient&, PieceIndex) override { ++haves; }
  void on_peer_piece(PeerClient&, PieceIndex piece, std::string_view data, PieceBuffer) override {
    pieces.emplace_back(piece, std::string(data));
  }
  void on_peer_reject(PeerClient&, PieceIndex piece) override { rejects.push_back(piece); }
  void on_peer_closed(PeerClient&, const std::string& why) override {
    closed = true;
    reason = why;
  }

  bool ready = false;
  size_t has = 0;
  int haves = 0;
  std::vector<std::pair<PieceIndex, std::string>> pieces;
  std::vector<PieceIndex> rejects;
  bool closed = false;
  std::string reason;
};

class PeerClientTest : public ::testing::Test {
 protected:
  void SetUp() override { content_ = test::make_content(5 * kPiece + 321); }

  void start(test::FakeSeed::Mode mode, bool same_seat = false, bool other_file = false) {
    seed_ = std::make_unique<test::FakeSeed>(base_.get(), content_, kPiece, mode);
    ASSERT_NE(seed_->port(), 0);
    meta_ = seed_->meta();
    PeerClient::Params p;
    p.key = 7;
    p.user = "bob";
    p.addr = "127.0.0.1:" + std::to_string(seed_->port());
    p.file_id = meta_.file_id;
    if (other_file) p.file_id[0] ^= 1;
    p.seat.fill(same_seat ? 0x5e : 0x11);  // the fake seed's seat is all 0x5e
    p.meta = &meta_;
    client_ = std::make_unique<PeerClient>(rec_, p);
    auto sa = resolve(Endpoint{"127.0.0.1", seed_->port()});
    ASSERT_TRUE(sa.ok());
    ASSERT_TRUE(client_->start(base_.get(), *sa).ok());
  }

  bool run(const std::function<bool()>& done, double seconds = 10) { return test::run_until(base_.get(), done, seconds); }

  std::unique_ptr<event_base, EventBaseDeleter> base_{event_base_new()};
  std::string content_;
  FileMeta meta_;
  Recorder rec_;
  std::unique_ptr<test::FakeSeed> seed_;
  std::unique_ptr<PeerClient> client_;
};

TEST_F(PeerClientTest, HandshakeBitfieldAndPipelinedPieces) {
  start(test::FakeSeed::Mode::honest);
  ASSERT_TRUE(run([&] { return rec_.ready || rec_.closed; })) << "no bitfield";
  ASSERT_TRUE(rec_.ready) << rec_.reason;
  EXPECT_EQ(rec_.has, meta_.piece_count());
  const auto now = DownloadClock::now();
  for (PieceIndex p : all_pieces(meta_.piece_count())) client_->request(p, now);
  EXPECT_EQ(client_->outstanding(), meta_.piece_count());
  ASSERT_TRUE(run([&] { return rec_.pieces.size() == meta_.piece_count() || rec_.closed; }));
  ASSERT_FALSE(rec_.closed) << rec_.reason;
  for (const auto& [piece, data] : rec_.pieces) {
    EXPECT_EQ(data, content_.substr(meta_.piece_offset(piece), meta_.piece_length(piece))) << piece;
  }
  EXPECT_EQ(client_->outstanding(), 0u);
  EXPECT_EQ(client_->bytes_received(), content_.size());
  EXPECT_GT(client_->pipeline().depth(), PipelineDepth::kStart);  // slow start grew it
}

TEST_F(PeerClientTest, CorruptPieceIsDeliveredForTheOwnerToJudge) {
  // The client checks the wire, not the hash: a corrupt piece reaches the
  // owner, which verifies it and strikes the peer (see the download test).
  start(test::FakeSeed::Mode::corrupt);
  ASSERT_TRUE(run([&] { return rec_.ready || rec_.closed; }));
  client_->request(2_piece, DownloadClock::now());
  ASSERT_TRUE(run([&] { return !rec_.pieces.empty() || rec_.closed; }));
  ASSERT_EQ(rec_.pieces.size(), 1u);
  EXPECT_NE(sha256(rec_.pieces[0].second), meta_.piece_hash(2_piece));
  EXPECT_FALSE(rec_.closed);
}

TEST_F(PeerClientTest, GarbageHandshakeCloses) {
  start(test::FakeSeed::Mode::garbage);
  ASSERT_TRUE(run([&] { return rec_.closed; }));
  EXPECT_FALSE(rec_.ready);
  EXPECT_NE(rec_.reason.find("handshake"), std::string::npos) << rec_.reason;
}

TEST_F(PeerClientTest, WrongLengthPieceCloses) {
  start(test::FakeSeed::Mode::wrong_length);
  ASSERT_TRUE(run([&] { return rec_.ready || rec_.closed; }));
  client_->request(1_piece, DownloadClock::now());
  ASSERT_TRUE(run([&] { return rec_.closed; }));
  EXPECT_TRUE(rec_.pieces.empty());
  EXPECT_NE(rec_.reason.find("expected"), std::string::npos) << rec_.reason;
}

TEST_F(PeerClientTest, UnrequestedPieceCloses) {
  start(test::FakeSeed::Mode::unrequested);
  ASSERT_TRUE(run([&] { return rec_.closed; }));
  EXPECT_TRUE(rec_.pieces.empty());
  EXPECT_NE(rec_.reason.find("never requested"), std::string::npos) << rec_.reason;
}

TEST_F(PeerClientTest, OurOwnSeatCloses) {
  start(test::FakeSeed::Mode::honest, /*same_seat=*/true);
  ASSERT_TRUE(run([&] { return rec_.closed; }));
  EXPECT_EQ(rec_.reason, "connected to ourselves");
}

TEST_F(PeerClientTest, OtherFileCloses) {
  start(test::FakeSeed::Mode::honest, false, /*other_file=*/true);
  ASSERT_TRUE(run([&] { return rec_.closed; }));
  EXPECT_FALSE(rec_.ready);
}

TEST_F(PeerClientTest, SilentPeerRequestsExpireAndLateAnswersAreTolerated) {
  start(test::FakeSeed::Mode::silent);
  ASSERT_TRUE(run([&] { return rec_.ready || rec_.closed; }));
  const auto t0 = DownloadClock::now();
  client_->request(0_piece, t0);
  client_->request(3_piece, t0);
  ASSERT_TRUE(run([&] { return seed_->requests() == 2; }));
  EXPECT_TRUE(client_->expire(t0 + std::chrono::seconds(1), std::chrono::seconds(15)).empty());
  const auto expired = client_->expire(t0 + std::chrono::seconds(16), std::chrono::seconds(15));
  EXPECT_EQ(expired, (std::vector<PieceIndex>{0_piece, 3_piece}));
  EXPECT_EQ(client_->outstanding(), 0u);
  EXPECT_EQ(client_->timeouts_in_row(), 1);
  EXPECT_LT(client_->pipeline().depth(), PipelineDepth::kStart + 1);
}

TEST_F(PeerClientTest, NothingListensReportsClosed) {
  // A port that was free a moment ago: the connect fails and the owner hears of it.
  uint16_t port = 0;
  {
    auto l = Listener::open(base_.get(), Endpoint{"127.0.0.1", 0}, [](evutil_socket_t fd, const std::string&) {
      evutil_closesocket(fd);
    });
    ASSERT_TRUE(l.ok());
    port = (*l)->port();
    delete *l;
  }
  meta_ = test::meta_of(content_, kPiece);
  PeerClient::Params p;
  p.key = 1;
  p.user = "bob";
  p.addr = "127.0.0.1:" + std::to_string(port);
  p.file_id = meta_.file_id;
  p.meta = &meta_;
  client_ = std::make_unique<PeerClient>(rec_, p);
  auto sa = resolve(Endpoint{"127.0.0.1", port});
  ASSERT_TRUE(sa.ok());
  if (!client_->start(base_.get(), *sa).ok()) return;  // refused at once: also fine
  ASSERT_TRUE(run([&] { return rec_.closed; }));
  EXPECT_FALSE(rec_.ready);
}

}  // namespace
}  // namespace gs::daemon
