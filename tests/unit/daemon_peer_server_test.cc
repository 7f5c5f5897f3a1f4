// The peer server over real loopback sockets and a real event loop: a test
// client speaks the peer wire to it and checks every byte it gets back.
#include "daemon/peer_server.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <event2/buffer.h>
#include <gtest/gtest.h>

#include "daemon/share_store.h"
#include "file_hasher.h"
#include "frame.h"
#include "sandbox.h"
#include "test_loop.h"

namespace gs::daemon {
namespace {

using Clock = std::chrono::steady_clock;

const Seat kServerSeat = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

// Deterministic bytes that differ from piece to piece.
std::string content(size_t size, unsigned seed = 1) {
  std::string s(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// One peer wire client: records every frame it gets and how the link ended.
class Client {
 public:
  Client(event_base* base, uint16_t port) {
    auto addr = resolve(Endpoint{"127.0.0.1", port});
    EXPECT_TRUE(addr.ok());
    FramedConn::Handlers h;
    h.on_frame = [this](FramedConn&, std::string_view p) { frames.emplace_back(p); };
    h.on_close = [this](FramedConn&, const CloseReason& reason) {
      closed = reason.text;
      link = nullptr;
    };
    link = FramedConn::connect(base, *addr, kPeerMaxFrame, "server", std::move(h));
    EXPECT_NE(link, nullptr);
  }
  ~Client() {
    if (link) link->close("test over");
  }
  void send(std::string_view payload) {
    if (link) link->send(payload);
  }
  void handshake(const Sha256Digest& id) {
    Handshake h;
    h.file_id = id;
    h.seat = Seat{9};
    send(encode_handshake(h));
  }
  std::optional<std::string> next() {
    if (frames.empty()) return std::nullopt;
    std::string f = std::move(frames.front());
    frames.pop_front();
    return f;
  }

  FramedConn* link = nullptr;
  std::deque<std::string> frames;
  std::optional<std::string> closed;
};

class PeerServerTest : public ::testing::Test {
 protected:
  PeerServerTest() : base_(loop_.base()) {
  }
  ~PeerServerTest() override {
    clients_.clear();
    server_.reset();
    loop_.drain();
  }

  void start(PeerServer::Options o = {}) {
    o.listen = Endpoint{"127.0.0.1", 0};
    o.seat = kServerSeat;
    auto s = PeerServer::open(base_, o, registry_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    server_ = std::move(*s);
    server_->set_serving(true);
  }

  // Shares a file of `size` bytes in pieces of kMinPieceSize, complete, with
  // the share's stat check.
  void share(size_t size, unsigned seed = 1) {
    path_ = sb_.write("shared.bin", content(size, seed));
    auto m = hash_file(path_, kMinPieceSize, 1);
    ASSERT_TRUE(m.ok()) << m.error().message;
    meta_ = *m;
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    Servable s;
    s.group = "g";
    s.name = "shared.bin";
    s.meta = &meta_;
    s.path = path_;
    s.check_intact = [path = path_, stamp = FileStamp::of(st)] { return check_stamp(path, stamp); };
    s.check_opened = [stamp = FileStamp::of(st)](int fd) { return check_stamp_fd(fd, stamp); };
    s.on_broken = [this](const Error& e) {
      broken_.push_back(e.message);
      registry_.remove(meta_.file_id);
    };
    registry_.add(meta_.file_id, std::move(s));
  }

  Client& connect() {
    clients_.push_back(std::make_unique<Client>(base_, server_->port()));
    return *clients_.back();
  }

  bool run_until(const std::function<bool()>& done, double seconds = 10) { return loop_.run_until(done, seconds); }

  // The next frame, waiting for it; nullopt when the link closed or time ran out.
  std::optional<std::string> next(Client& c, double seconds = 10) {
    run_until([&] { return !c.frames.empty() || c.closed; }, seconds);
    return c.next();
  }

  // Handshakes for the shared file and checks the answer and the bitfield.
  Bitfield open_file(Client& c) {
    c.handshake(meta_.file_id);
    auto hs = next(c);
    EXPECT_TRUE(hs.has_value());
    if (!hs) return Bitfield(0);
    auto h = decode_handshake(*hs);
    EXPECT_TRUE(h.ok());
    if (!h) return Bitfield(0);
    EXPECT_EQ(h->file_id, meta_.file_id);
    EXPECT_EQ(h->seat, kServerSeat);
    EXPECT_TRUE(h->ticket.empty());
    auto bf = next(c);
    EXPECT_TRUE(bf.has_value());
    if (!bf) return Bitfield(0);
    auto m = decode_peer_message(*bf, meta_.piece_count());
    EXPECT_TRUE(m.ok());
    if (!m) return Bitfield(0);
    EXPECT_EQ(m->type, PeerMessage::Type::bitfield);
    return m->bits;
  }

  // The next message, decoded.
  std::optional<PeerMessage> message(Client& c, std::string& keep) {
    auto f = next(c);
    if (!f) return std::nullopt;
    keep = std::move(*f);
    auto m = decode_peer_message(keep, meta_.piece_count());
    EXPECT_TRUE(m.ok());
    if (!m) return std::nullopt;
    return *m;
  }

  void expect_piece(Client& c, PieceIndex piece) {
    std::string keep;
    auto m = message(c, keep);
    ASSERT_TRUE(m.has_value()) << "no answer for piece " << piece << (c.closed ? "; closed: " + *c.closed : "");
    ASSERT_EQ(m->type, PeerMessage::Type::piece);
    EXPECT_EQ(m->piece, piece);
    EXPECT_EQ(m->data.size(), meta_.piece_length(piece));
    EXPECT_EQ(sha256(m->data), meta_.piece_hash(piece)) << "piece " << piece;
  }

  void expect(Client& c, PeerMessage::Type type, PieceIndex piece) {
    std::string keep;
    auto m = message(c, keep);
    ASSERT_TRUE(m.has_value()) << (c.closed ? "closed: " + *c.closed : "no message");
    EXPECT_EQ(m->type, type);
    EXPECT_EQ(m->piece, piece);
  }

  bool closed_soon(Client& c) { return run_until([&] { return c.closed.has_value(); }); }

  test::Sandbox sb_;
  test::TestLoop loop_;  // frees the base once the destructor body has reset what uses it
  event_base* base_;
  ServeRegistry registry_;
  std::unique_ptr<PeerServer> server_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::string path_;
  FileMeta meta_;
  std::vector<std::string> broken_;
};

TEST_F(PeerServerTest, ServesEveryPieceOfAShare) {
  start();
  share(3 * kMinPieceSize + 1234);
  Client& c = connect();
  Bitfield bits = open_file(c);
  ASSERT_EQ(bits.size(), 4u);
  EXPECT_TRUE(bits.all());
  for (PieceIndex p : {3_piece, 0_piece, 2_piece, 1_piece}) {
    c.send(encode_request(p));
    expect_piece(c, p);
  }
  c.send(encode_keep_alive());
  c.send(encode_request(1_piece));
  expect_piece(c, 1_piece);
  EXPECT_FALSE(c.closed.has_value());
  const uint64_t piece_bytes = meta_.size + meta_.piece_length(1_piece);
  EXPECT_GE(server_->uploaded_bytes(), piece_bytes);
  EXPECT_LT(server_->uploaded_bytes(), piece_bytes + 1000);
  ASSERT_EQ(server_->peers().size(), 1u);
  EXPECT_EQ(server_->peers()[0].file_id, meta_.file_id_hex());
}

TEST_F(PeerServerTest, PipelinedRequestsAllArriveInOrderAndCancelDropsOne) {
  start();
  share(40 * kMinPieceSize);
  Client& c = connect();
  open_file(c);
  // All in one write: the server reads them in one go while its output is
  // already full after two pieces, so the cancel finds piece 39 still waiting.
  for (PieceIndex p : all_pieces(40)) c.send(encode_request(p));
  c.send(encode_cancel(39_piece));
  c.send(encode_request(5_piece));  // a duplicate of one still waiting: ignored
  for (PieceIndex p : all_pieces(39)) {
    expect_piece(c, p);
    if (HasFatalFailure()) return;
  }
  run_until([] { return false; }, 0.3);
  EXPECT_TRUE(c.frames.empty()) << "the cancelled piece (or a duplicate) was sent";
}

TEST_F(PeerServerTest, PartialDownloadRejectsMissingPiecesAndSendsHave) {
  start();
  path_ = sb_.write("partial.bin", content(4 * kMinPieceSize));
  auto m = hash_file(path_, kMinPieceSize, 1);
  ASSERT_TRUE(m.ok());
  meta_ = *m;
  Bitfield have(4);
  have.set(0_piece);
  have.set(2_piece);
  registry_.add(meta_.file_id, Servable{"g", "partial.bin", &meta_, path_, &have, nullptr, nullptr});
  Client& c = connect();
  Bitfield bits = open_file(c);
  EXPECT_EQ(bits, have);
  c.send(encode_request(1_piece));
  expect(c, PeerMessage::Type::reject, 1_piece);
  c.send(encode_request(2_piece));
  expect_piece(c, 2_piece);

  have.set(1_piece);
  registry_.piece_added(meta_.file_id, 1_piece);
  expect(c, PeerMessage::Type::have, 1_piece);
  c.send(encode_request(1_piece));
  expect_piece(c, 1_piece);
}

TEST_F(PeerServerTest, UnknownFileIdIsClosed) {
  start();
  share(1000);
  Client& c = connect();
  Sha256Digest other = meta_.file_id;
  other[0] ^= 1;
  c.handshake(other);
  EXPECT_TRUE(closed_soon(c));
  EXPECT_TRUE(c.frames.empty());
}

TEST_F(PeerServerTest, BadHandshakeIsClosed) {
  start();
  share(1000);
  Client& c = connect();
  c.send("gs-peer but not really");
  EXPECT_TRUE(closed_soon(c));
  EXPECT_TRUE(c.frames.empty());
}

TEST_F(PeerServerTest, MalformedMessagesCloseThePeer) {
  start();
  share(2 * kMinPieceSize);
  const std::vector<std::string> bad = {
      std::string("\x07", 1),                      // unknown type
      std::string("\x03\x00\x00", 3),              // truncated request
      encode_request(2_piece),                           // piece out of range
      std::string("\x04\x00\x00\x00\x00xyz", 8),   // a piece nobody asked for
  };
  for (const std::string& payload : bad) {
    Client& c = connect();
    open_file(c);
    c.send(payload);
    EXPECT_TRUE(closed_soon(c));
  }
  // The server itself is fine.
  Client& c = connect();
  open_file(c);
  c.send(encode_request(1_piece));
  expect_piece(c, 1_piece);
}

TEST_F(PeerServerTest, OversizedFrameIsClosed) {
  start();
  share(1000);
  Client& c = connect();
  open_file(c);
  // The server refuses it from its header, before the payload.
  c.send(std::string(kPeerMaxFrame + 1, 'x'));
  EXPECT_TRUE(closed_soon(c));
}

TEST_F(PeerServerTest, ChangedFileIsNeverServedAgain) {
  start();
  share(3 * kMinPieceSize);
  Client& c = connect();
  open_file(c);
  c.send(encode_request(0_piece));
  expect_piece(c, 0_piece);

  // Same size, other bytes: an edit in place.
  sb_.write("shared.bin", content(3 * kMinPieceSize, 2));
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  timespec times[2] = {{0, UTIME_OMIT}, {st.st_mtim.tv_sec + 10, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path_.c_str(), times, 0), 0);

  c.send(encode_request(1_piece));
  std::string keep;
  auto m = message(c, keep);
  if (m) {
    EXPECT_EQ(m->type, PeerMessage::Type::reject);
  }
  EXPECT_TRUE(closed_soon(c));
  ASSERT_EQ(broken_.size(), 1u);
  EXPECT_EQ(broken_[0], "file changed since it was shared");
  EXPECT_EQ(registry_.find(meta_.file_id), nullptr);

  Client& again = connect();
  again.handshake(meta_.file_id);
  EXPECT_TRUE(closed_soon(again));
  EXPECT_TRUE(again.frames.empty());
}

TEST_F(PeerServerTest, DeletedFileIsBroken) {
  start();
  share(2 * kMinPieceSize);
  Client& c = connect();
  open_file(c);
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  c.send(encode_request(1_piece));
  EXPECT_TRUE(closed_soon(c));
  ASSERT_EQ(broken_.size(), 1u);
  EXPECT_EQ(broken_[0], "file is gone");
  for (const auto& f : c.frames) {
    auto m = decode_peer_message(f, meta_.piece_count());
    ASSERT_TRUE(m.ok());
    EXPECT_NE(m->type, PeerMessage::Type::piece);
  }
}

// Swapped between the check by name and the open (simulated: no name check
// at all): a link is not opened, another file is opened but not served.
TEST_F(PeerServerTest, AFileSwappedAfterItsCheckIsNotServed) {
  start();
  share(2 * kMinPieceSize);
  Servable s = *registry_.find(meta_.file_id);
  s.check_intact = nullptr;
  registry_.add(meta_.file_id, s);
  const std::string original = sb_.path("original.bin");
  ASSERT_EQ(::rename(path_.c_str(), original.c_str()), 0);
  ASSERT_EQ(::symlink(original.c_str(), path_.c_str()), 0);
  Client& c = connect();
  open_file(c);
  c.send(encode_request(0_piece));
  std::string keep;
  auto m = message(c, keep);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, PeerMessage::Type::reject) << "served through a symbolic link";
  EXPECT_TRUE(broken_.empty());

  // The same bytes in another file: opened by name, refused by identity.
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  sb_.write("shared.bin", content(2 * kMinPieceSize, 1));
  c.send(encode_request(1_piece));
  auto m2 = message(c, keep);
  if (m2) {
    EXPECT_EQ(m2->type, PeerMessage::Type::reject);
  }
  ASSERT_EQ(broken_.size(), 1u);
  EXPECT_EQ(broken_[0], "file changed since it was shared");
}

TEST_F(PeerServerTest, NotServingClosesEveryoneAndRefusesNew) {
  start();
  share(kMinPieceSize);
  Client& c = connect();
  open_file(c);
  server_->set_serving(false);
  EXPECT_TRUE(closed_soon(c));
  Client& d = connect();
  d.handshake(meta_.file_id);
  EXPECT_TRUE(closed_soon(d));
  EXPECT_TRUE(d.frames.empty());
  server_->set_serving(true);
  Client& e = connect();
  open_file(e);
  e.send(encode_request(0_piece));
  expect_piece(e, 0_piece);
}

TEST_F(PeerServerTest, RemovedFromRegistryClosesItsPeers) {
  start();
  share(kMinPieceSize);
  Client& c = connect();
  open_file(c);
  registry_.remove(meta_.file_id);
  EXPECT_TRUE(closed_soon(c));
}

TEST_F(PeerServerTest, SilentPeerIsClosedAfterTheHandshakeTimeout) {
  PeerServer::Options o;
  o.handshake_timeout_seconds = 1;
  start(o);
  share(1000);
  Client& c = connect();
  const auto t0 = Clock::now();
  EXPECT_TRUE(run_until([&] { return c.closed.has_value(); }, 5));
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(900));
}

TEST_F(PeerServerTest, CorruptHookFlipsOneByte) {
  PeerServer::Options o;
  o.corrupt_uploads = true;
  start(o);
  share(2 * kMinPieceSize + 7);
  Client& c = connect();
  open_file(c);
  const std::string original = content(2 * kMinPieceSize + 7);
  for (PieceIndex p : all_pieces(3)) {
    c.send(encode_request(p));
    std::string keep;
    auto m = message(c, keep);
    ASSERT_TRUE(m.has_value());
    ASSERT_EQ(m->type, PeerMessage::Type::piece);
    ASSERT_EQ(m->data.size(), meta_.piece_length(p));
    EXPECT_NE(sha256(m->data), meta_.piece_hash(p));
    size_t differ = 0;
    for (size_t i = 0; i < m->data.size(); ++i) differ += m->data[i] != original[meta_.piece_offset(p) + i];
    EXPECT_EQ(differ, 1u);
  }
}

TEST_F(PeerServerTest, UploadRateIsLimited) {
  PeerServer::Options o;
  o.max_upload_rate = 256 * 1024;
  o.spread_when_capped = false;  // every piece listed, as the requests below assume
  start(o);
  share(32 * kMinPieceSize);  // 512 KiB: about two seconds at the limit
  Client& c = connect();
  open_file(c);
  const auto t0 = Clock::now();
  for (PieceIndex p : all_pieces(32)) c.send(encode_request(p));
  for (PieceIndex p : all_pieces(32)) {
    expect_piece(c, p);
    if (HasFatalFailure()) return;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_GT(seconds, 1.5);
  EXPECT_LT(seconds, 6.0);
}

// A reload or `gsctl limits` changes the rate under an open connection: a
// limit that comes later, one raised, and one lifted all apply to it at once.
TEST_F(PeerServerTest, UploadRateChangesApplyToAnOpenConnection) {
  PeerServer::Options o;
  o.spread_when_capped = false;  // every piece listed, as the requests below assume
  start(o);                      // unlimited: no rate-limit group yet
  share(64 * kMinPieceSize);     // 1 MiB
  Client& c = connect();
  open_file(c);
  const auto fetch = [&](uint32_t from, uint32_t to) {
    const auto t0 = Clock::now();
    for (uint32_t p = from; p < to; ++p) c.send(encode_request(PieceIndex{p}));
    for (uint32_t p = from; p < to; ++p) {
      expect_piece(c, PieceIndex{p});
      if (HasFatalFailure()) return -1.0;
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  EXPECT_LT(fetch(0, 8), 1.0);  // 128 KiB, unlimited
  ASSERT_TRUE(server_->set_max_upload_rate(128 * 1024));
  EXPECT_EQ(server_->max_upload_rate(), 128u * 1024);
  const double capped = fetch(8, 24);  // 256 KiB at 128 KiB/s: about two seconds
  EXPECT_GT(capped, 1.5);
  ASSERT_TRUE(server_->set_max_upload_rate(4 * 1024 * 1024));
  const double raised = fetch(24, 48);  // 384 KiB at 4 MiB/s
  EXPECT_LT(raised, 0.6);
  ASSERT_TRUE(server_->set_max_upload_rate(0));
  EXPECT_LT(fetch(48, 64), 0.5);
  EXPECT_FALSE(c.closed.has_value());
}

// What a spread client has heard: the pieces advertised to it (BITFIELD and
// HAVEs) and the pieces it received, in order.
struct Heard {
  std::set<PieceIndex> told;
  std::vector<PieceIndex> got;
};

// A capped seeder tells each peer of a few pieces nobody else was offered,
// one more for each request, and of everything once every piece went out:
// two peers that ask only for what they are told get each piece once.
TEST_F(PeerServerTest, CappedSeederSpreadsPiecesUntilEachWentOutOnce) {
  PeerServer::Options o;
  o.max_upload_rate = 64 * 1024 * 1024;  // capped, but not slow
  start(o);
  constexpr uint32_t kPieces = 24;
  share(kPieces * kMinPieceSize);
  Client& a = connect();
  Client& b = connect();
  std::map<Client*, Heard> heard;
  for (Client* c : {&a, &b}) {
    const Bitfield bits = open_file(*c);
    EXPECT_EQ(bits.count(), PieceSpreaderOptions{}.offers_ahead);
    for (PieceIndex p : all_pieces(kPieces)) {
      if (bits.get(p)) heard[c].told.insert(p);
    }
  }
  for (PieceIndex p : heard[&a].told) {
    EXPECT_FALSE(heard[&b].told.count(p)) << "piece " << p << " offered to both";
  }

  std::map<Client*, std::set<PieceIndex>> asked;
  const auto everything_told = [&] {
    return heard[&a].told.size() == kPieces && heard[&b].told.size() == kPieces;
  };
  for (int round = 0; round < 200 && !everything_told(); ++round) {
    for (Client* c : {&a, &b}) {
      for (PieceIndex p : heard[c].told) {
        if (asked[c].insert(p).second) c->send(encode_request(p));
      }
    }
    run_until([&] { return !a.frames.empty() || !b.frames.empty(); }, 5);
    for (Client* c : {&a, &b}) {
      for (auto f = c->next(); f; f = c->next()) {
        auto m = decode_peer_message(*f, kPieces);
        ASSERT_TRUE(m.ok());
        if (m->type == PeerMessage::Type::have) {
          EXPECT_TRUE(heard[c].told.insert(m->piece).second) << "told twice about " << m->piece;
        } else if (m->type == PeerMessage::Type::piece) {
          heard[c].got.push_back(m->piece);
        }
      }
    }
  }
  ASSERT_TRUE(everything_told());
  std::multiset<PieceIndex> sent(heard[&a].got.begin(), heard[&a].got.end());
  sent.insert(heard[&b].got.begin(), heard[&b].got.end());
  // Every piece went out, and none twice (those asked for after the round
  // ended may still be on their way: none was asked for).
  EXPECT_EQ(sent.size(), kPieces);
  EXPECT_EQ(std::set<PieceIndex>(sent.begin(), sent.end()).size(), kPieces);
}

// A downloader that comes back holding most of the file (killed and
// restarted) asks for none of the pieces it already has. Once it sits idle
// on its offers, it is told every piece, so the few it lacks arrive within
// seconds and hold nothing back from the next peer. Before, it got four fresh
// offers per idle second, and a 40-piece file kept it waiting about ten.
TEST_F(PeerServerTest, ReturningPeerGetsThePiecesItLacksSoon) {
  PeerServer::Options o;
  o.max_upload_rate = 64 * 1024 * 1024;
  start(o);
  constexpr uint32_t kPieces = 40;
  share(kPieces * kMinPieceSize);
  const std::set<PieceIndex> lacks = {3_piece, 17_piece, 31_piece};
  Client& a = connect();
  const auto t0 = Clock::now();
  const Bitfield first = open_file(a);
  std::set<PieceIndex> told;
  std::set<PieceIndex> asked;
  std::set<PieceIndex> got;
  const auto ask_for_what_it_lacks = [&] {
    for (PieceIndex p : lacks) {
      if (told.count(p) && asked.insert(p).second) a.send(encode_request(p));
    }
  };
  for (PieceIndex p : all_pieces(kPieces)) {
    if (first.get(p)) told.insert(p);
  }
  ask_for_what_it_lacks();
  const auto have_all = [&] {
    return std::all_of(lacks.begin(), lacks.end(), [&](PieceIndex p) { return got.count(p) != 0; });
  };
  while (!have_all() && !a.closed && Clock::now() - t0 < std::chrono::seconds(8)) {
    run_until([&] { return !a.frames.empty() || a.closed; }, 1);
    for (auto f = a.next(); f; f = a.next()) {
      auto m = decode_peer_message(*f, kPieces);
      ASSERT_TRUE(m.ok());
      if (m->type == PeerMessage::Type::have) told.insert(m->piece);
      if (m->type == PeerMessage::Type::piece) got.insert(m->piece);
    }
    ask_for_what_it_lacks();
  }
  ASSERT_TRUE(have_all()) << "told of " << told.size() << " pieces";
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 4.0);
  EXPECT_EQ(told.size(), kPieces);
  // It claims nothing: the next peer gets its full set of offers.
  Client& b = connect();
  EXPECT_EQ(open_file(b).count(), PieceSpreaderOptions{}.offers_ahead);
}

TEST_F(PeerServerTest, EmptyFileHasNoPieces) {
  start();
  share(0);
  Client& c = connect();
  Bitfield bits = open_file(c);
  EXPECT_EQ(bits.size(), 0u);
  c.send(encode_request(0_piece));
  EXPECT_TRUE(closed_soon(c));
}

TEST_F(PeerServerTest, PortInUseIsAClearError) {
  start();
  PeerServer::Options o;
  o.listen = Endpoint{"127.0.0.1", server_->port()};
  ServeRegistry other;
  auto s = PeerServer::open(base_, o, other);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("peer port"), std::string::npos);
}

TEST_F(PeerServerTest, ConnectionsOverThePerAddressLimitAreClosedAtOnce) {
  PeerServer::Options o;
  o.max_connections_per_address = 2;
  start(o);
  share(3 * kMinPieceSize);
  Client& a = connect();
  Client& b = connect();
  open_file(a);
  open_file(b);
  Client& c = connect();
  c.handshake(meta_.file_id);
  EXPECT_TRUE(run_until([&] { return c.closed.has_value(); }));
  EXPECT_TRUE(c.frames.empty());
  EXPECT_FALSE(a.closed);
  EXPECT_FALSE(b.closed);
  // One leaves: there is room for one more.
  a.link->close("done");
  a.link = nullptr;
  EXPECT_TRUE(run_until([&] { return server_->peers().size() == 1; }));
  Client& d = connect();
  open_file(d);
  EXPECT_FALSE(d.closed);
}

TEST_F(PeerServerTest, APeerQueueingMoreRequestsThanTheLimitIsClosed) {
  PeerServer::Options o;
  o.max_pending_requests = 8;
  start(o);
  share(24 * kMinPieceSize);
  // Within the limit (two pieces go into the output, the rest wait): served.
  Client& a = connect();
  open_file(a);
  for (uint32_t i = 0; i < 10; ++i) a.send(encode_request(PieceIndex(i)));
  for (uint32_t i = 0; i < 10; ++i) expect_piece(a, PieceIndex(i));
  EXPECT_FALSE(a.closed);
  // Over it: closed.
  Client& b = connect();
  open_file(b);
  for (uint32_t i = 0; i < 24; ++i) b.send(encode_request(PieceIndex(i)));
  EXPECT_TRUE(run_until([&] { return b.closed.has_value(); }));
  EXPECT_FALSE(a.closed);
}

}  // namespace
}  // namespace gs::daemon
