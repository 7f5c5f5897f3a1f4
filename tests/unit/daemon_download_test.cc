// Whole downloads in process: a real loop, worker pool, state file and
// download store, fake serving peers on 127.0.0.1 and a tracker that answers
// by itself. Byte-identical results, corrupt peers, the five-failure rule,
// resume from a sparse partial file, pause and resume, refusals, a disk that
// fills up or fails.
#include "daemon/downloads.h"
#include "daemon/transfer_limits.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "daemon/state.h"
#include "daemon/write_paths.h"
#include "worker_pool.h"
#include "daemon_download_fakes.h"
#include "sandbox.h"

namespace gs::daemon {
namespace {

constexpr uint32_t kPiece = 16384;

struct EventBaseDeleter {
  void operator()(event_base* b) const { event_base_free(b); }
};

// Answers every request on the next loop turn, as a tracker would.
class AutoTracker : public TrackerApi {
 public:
  explicit AutoTracker(event_base* base) : base_(base) {}

  void request(std::string op, Fields, Done done, Priority) override {
    ops.push_back(op);
    Json answer = Json::object();
    if (op == "login") answer["token"] = std::string(64, 'a');
    if (op == "file_info") answer = file_info;
    auto* call = new std::pair<Done, Json>(std::move(done), std::move(answer));
    const timeval now{0, 0};
    event_base_once(base_, -1, EV_TIMEOUT, [](evutil_socket_t, short, void* arg) {
      std::unique_ptr<std::pair<Done, Json>> c(static_cast<std::pair<Done, Json>*>(arg));
      c->first(std::move(c->second));
    }, call, &now);
  }
  bool link_ready() const override { return true; }
  std::optional<std::string> current_tracker() const override { return "127.0.0.1:1"; }
  std::optional<size_t> current_tracker_index() const override { return 0; }

  size_t count(const std::string& op) const { return static_cast<size_t>(std::count(ops.begin(), ops.end(), op)); }

  Json file_info = Json::object();
  std::vector<std::string> ops;

 private:
  event_base* base_;
};

// The real disk calls, on a disk that fills up and fails at will: `room`
// more bytes of pieces may be written, then writes fail as on a full disk
// (each refused write writes nothing); `fail_syncs` makes every sync fail
// as on a failing device. The free space it reports is `room`, at most.
class FaultyDisk : public PartDisk {
 public:
  std::atomic<uint64_t> room{UINT64_MAX};
  std::atomic<bool> fail_syncs{false};
  // This disk holds a byte only once it is written (no preallocation):
  // what it reports as the partial file's allocation.
  std::atomic<uint64_t> written{0};

  Status write(PartFile& part, uint64_t offset, std::string_view data) override {
    uint64_t left = room.load();
    do {
      if (left < data.size()) {
        return make_error(std::string(kNoSpace), "cannot write the partial file: No space left on device");
      }
    } while (!room.compare_exchange_weak(left, left - data.size()));
    written += data.size();
    return real_part_disk().write(part, offset, data);
  }
  Status sync(int fd) override {
    if (fail_syncs) return make_error(std::string(kWriteFailed), "cannot sync the partial file: Input/output error");
    return real_part_disk().sync(fd);
  }
  Result<DiskUse> use(const std::string& dir, const std::string& part_path) override {
    auto u = real_part_disk().use(dir, part_path);
    if (u) {
      u->free = std::min<uint64_t>(u->free, room);
      u->part_allocated = std::min<uint64_t>(u->part_allocated, written);
    }
    return u;
  }
};

// A disk paused download looks and tries again quickly (the real
// defaults are seconds).
DownloadOptions quick_disk_retry() {
  DownloadOptions o;
  o.disk_retry_first = std::chrono::milliseconds(200);
  o.disk_retry_max = std::chrono::seconds(1);
  o.disk_probe_interval = std::chrono::milliseconds(50);
  return o;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class DownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = State::open(sb_.path("state"));
    ASSERT_TRUE(st.ok()) << st.error().message;
    state_ = std::move(*st);
    session_ = std::make_unique<Session>(*state_, tracker_, 7411);
    bool logged_in = false;
    session_->login("leech", "pw-secret", [&](Result<Json> r) { logged_in = r.ok(); });
    ASSERT_TRUE(test::run_until(base_.get(), [&] { return logged_in; }, 5));
    auto store = DownloadStore::open(state_->db_path());
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    content_ = test::make_content(24 * kPiece + 1234);
  }

  void make_downloads(DownloadOptions options = {}, PartDisk* disk = nullptr, WritePaths* write_paths = nullptr) {
    DownloadEnv env;
    env.disk = disk;
    env.write_paths = write_paths;
    env.base = base_.get();
    env.pool = &pool_;
    env.session = session_.get();
    env.store = store_.get();
    env.seat.fill(0x22);
    env.options = options;
    env.limits = limits_;
    downloads_ = std::make_unique<Downloads>(env);
    session_->add_observer([this](Session::Event e) {
      if (downloads_) downloads_->on_session_event(e);
    });
  }

  test::FakeSeed& seed(test::FakeSeed::Mode mode = test::FakeSeed::Mode::honest) {
    seeds_.push_back(std::make_unique<test::FakeSeed>(base_.get(), content_, kPiece, mode));
    return *seeds_.back();
  }

  // The tracker's file_info for content_, listing the seeds as s1, s2, ...
  void publish() {
    const FileMeta meta = test::meta_of(content_, kPiece);
    Json info = Json::object();
    info["name"] = "f.bin";
    info["size"] = meta.size;
    info["piece_size"] = meta.piece_size;
    info["hashes"] = meta.hashes_hex();
    info["file_id"] = meta.file_id_hex();
    Json peers = Json::array();
    for (size_t i = 0; i < seeds_.size(); ++i) {
      Json p = Json::object();
      p["user"] = "s" + std::to_string(i + 1);
      p["host"] = "127.0.0.1";
      p["port"] = seeds_[i]->port();
      peers.push_back(std::move(p));
    }
    info["peers"] = std::move(peers);
    tracker_.file_info = std::move(info);
  }

  Result<Json> add(const std::string& dest, bool force = false) {
    return downloads_->add(Downloads::Request{"g", "f.bin", dest, force}, tracker_.file_info);
  }

  Json entry() {
    const Json all = downloads_->show();
    for (const Json& e : all.as_array()) {
      if (e.get_string("name") == "f.bin") return e;
    }
    return Json();
  }
  std::string state() { return entry().get_string("state").value_or("none"); }
  bool finished() {
    const std::string s = state();
    return s == "complete" || s == "failed";
  }
  uint64_t source_bytes(const std::string& user) {
    const Json e = entry();
    const Json* sources = e.find("sources");
    if (!sources) return 0;
    for (const Json& s : sources->as_array()) {
      if (s.get_string("user") == user) return static_cast<uint64_t>(*s.get_int("bytes"));
    }
    return 0;
  }
  bool run(const std::function<bool()>& done, double seconds = 20) { return test::run_until(base_.get(), done, seconds); }
  // Runs the loop for `seconds` whatever happens.
  void idle(double seconds) { (void)run([] { return false; }, seconds); }
  std::string error() { return entry().get_string("error").value_or(""); }
  int64_t done_bytes() { return entry().get_int("done_bytes").value_or(-1); }
  // The download as gsd.db holds it (the only one).
  DownloadRecord stored() {
    auto all = store_->load_all();
    EXPECT_TRUE(all.ok() && all->size() == 1);
    return all.ok() && all->size() == 1 ? (*all)[0] : DownloadRecord{};
  }
  static size_t pieces_in(const DownloadRecord& r) {
    auto bits = Bitfield::from_bytes(r.have, r.meta.piece_count());
    return bits ? bits->count() : 0;
  }

  test::Sandbox sb_;
  std::unique_ptr<event_base, EventBaseDeleter> base_{event_base_new()};
  WorkerPool pool_{base_.get(), 2};
  AutoTracker tracker_{base_.get()};
  std::unique_ptr<State> state_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<DownloadStore> store_;
  std::vector<std::unique_ptr<test::FakeSeed>> seeds_;
  std::unique_ptr<Downloads> downloads_;
  TransferLimits* limits_ = nullptr;  // the daemon-wide limits, when a test sets them
  std::string content_;
};

TEST_F(DownloadTest, TwoSeedsByteIdentical) {
  make_downloads();
  seed();
  seed();
  publish();
  const std::string dest = sb_.path("out.bin");
  auto r = add(dest);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->get_string("dest"), dest);
  EXPECT_EQ(r->get_int("size"), static_cast<int64_t>(content_.size()));
  EXPECT_EQ(state(), "downloading");
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(dest), content_);
  EXPECT_NE(access((dest + ".gs-part").c_str(), F_OK), 0) << "the partial file is renamed away";
  const Json e = entry();
  EXPECT_EQ(e.get_int("done_bytes"), static_cast<int64_t>(content_.size()));
  // Only endgame duplicates may have come twice: a few pieces at most.
  EXPECT_LE(*e.get_int("refetched_bytes"), 4 * static_cast<int64_t>(kPiece));
  EXPECT_GT(source_bytes("s1"), 0u);
  EXPECT_GT(source_bytes("s2"), 0u);
  EXPECT_EQ(source_bytes("s1") + source_bytes("s2"), content_.size());
  EXPECT_GE(tracker_.count("announce"), 1u) << "partial seeding starts with the first piece";
  // The store says complete too.
  auto all = store_->load_all();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].state, "complete");
}

// max_peers counts the links of every download: at 1, three seeds are
// fetched from one at a time (honest ones: the first serves it all).
TEST_F(DownloadTest, ThePeerLimitOfAllDownloadsHolds) {
  TransferLimits limits([this] { return downloads_ ? downloads_->peer_links() : 0; });
  limits.set_max_peers(1);
  limits_ = &limits;
  make_downloads();
  seed();
  seed();
  seed();
  publish();
  ASSERT_TRUE(add(sb_.path("out.bin")).ok());
  size_t most = 0;
  ASSERT_TRUE(run([&] {
    most = std::max(most, downloads_->peer_links());
    return finished();
  })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(most, 1u);
  EXPECT_EQ(source_bytes("s1") + source_bytes("s2") + source_bytes("s3"), content_.size());
  EXPECT_EQ((source_bytes("s1") > 0) + (source_bytes("s2") > 0) + (source_bytes("s3") > 0), 1);
}

// max_download_rate paces the requests: the file takes about as long as the
// rate says, after the first second's worth.
TEST_F(DownloadTest, TheDownloadRateIsHeldAndLiftingItAppliesToTheRunningDownload) {
  TransferLimits limits;
  const uint64_t rate = content_.size() / 4;  // ~3 s for the file after the first second's worth
  limits.set_download_rate(rate, DownloadClock::now());
  limits_ = &limits;
  make_downloads();
  seed();
  publish();
  const auto t0 = DownloadClock::now();
  ASSERT_TRUE(add(sb_.path("out.bin")).ok());
  ASSERT_TRUE(run([&] { return done_bytes() >= static_cast<int64_t>(content_.size() / 2); }));
  const double half = std::chrono::duration<double>(DownloadClock::now() - t0).count();
  EXPECT_GT(half, 0.5);                               // ~0.9 s; unlimited, a few ms
  limits.set_download_rate(0, DownloadClock::now());  // lifted: the rest at once
  const auto t1 = DownloadClock::now();
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_LT(std::chrono::duration<double>(DownloadClock::now() - t1).count(), half);
  EXPECT_EQ(read_file(sb_.path("out.bin")), content_);
}

TEST_F(DownloadTest, CorruptSeedIsDroppedAndNeverCounted) {
  content_ = test::make_content(64 * kPiece);
  make_downloads();
  auto& bad = seed(test::FakeSeed::Mode::corrupt);  // user s1
  publish();
  const std::string dest = sb_.path("out.bin");
  ASSERT_TRUE(add(dest).ok());
  // Alone with the liar: it is asked, fails max_strikes times and is dropped
  // while the download goes on. Without the ban it would stay connected
  // (or one piece would fail five times and fail the download).
  ASSERT_TRUE(run([&] {
    return bad.requests() >= 3 && *entry().get_int("peers") == 0 && state() == "downloading";
  })) << entry().dump();
  seed();  // user s2, listed by the next refresh
  publish();
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(dest), content_);
  EXPECT_EQ(source_bytes("s1"), 0u) << "bytes of failed pieces never count";
  EXPECT_EQ(source_bytes("s2"), content_.size());
  EXPECT_GT(*entry().get_int("refetched_bytes"), 0);
  EXPECT_EQ(bad.connections(), 1u) << "a banned peer is not reconnected";
}

TEST_F(DownloadTest, StalledPeerLosesItsRequests) {
  DownloadOptions o;
  o.request_timeout = std::chrono::milliseconds(300);
  make_downloads(o);
  auto& stalled = seed(test::FakeSeed::Mode::silent);
  auto& honest = seed();
  honest.only_pieces = {0_piece, 1_piece, 2_piece};  // the rest only after the stalled peer gave up...
  publish();
  // ...so a second honest seed with everything joins through a later refresh.
  ASSERT_TRUE(add(sb_.path("out.bin")).ok());
  ASSERT_TRUE(run([&] { return stalled.requests() > 0; }));
  seed();
  publish();
  ASSERT_TRUE(run([&] { return finished(); }, 30)) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(sb_.path("out.bin")), content_);
  EXPECT_EQ(source_bytes("s1"), 0u);
}

TEST_F(DownloadTest, PieceFailingFiveTimesFailsTheDownload) {
  DownloadOptions o;
  o.max_strikes = 1000;  // keep the liar around so one piece can fail five times
  make_downloads(o);
  seed(test::FakeSeed::Mode::corrupt);
  publish();
  ASSERT_TRUE(add(sb_.path("out.bin")).ok());
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  EXPECT_EQ(state(), "failed");
  const auto error = entry().get_string("error").value_or("");
  EXPECT_NE(error.find("failed verification 5 times"), std::string::npos) << error;
  EXPECT_EQ(source_bytes("s1"), 0u);
  EXPECT_NE(access(sb_.path("out.bin").c_str(), F_OK), 0);
}

// Two liars, banned after max_strikes (3) bad copies each, may send six bad
// copies of one piece between them: that is two peers lying, not a bad
// piece, and the download goes on with the honest seed.
TEST_F(DownloadTest, TwoLiarsOnOnePieceDoNotFailTheDownload) {
  content_ = test::make_content(16 * kPiece);
  make_downloads();
  auto& a = seed(test::FakeSeed::Mode::corrupt);  // s1
  auto& b = seed(test::FakeSeed::Mode::corrupt);  // s2
  a.only_pieces = {3_piece};
  b.only_pieces = {3_piece};
  auto& honest = seed();  // s3
  honest.only_pieces = {0_piece};  // everything else later, once the liars are banned
  publish();
  const std::string dest = sb_.path("out.bin");
  ASSERT_TRUE(add(dest).ok());
  ASSERT_TRUE(run([&] { return a.requests() >= 3 && b.requests() >= 3 && *entry().get_int("peers") <= 1; }, 30))
      << entry().dump();
  ASSERT_EQ(state(), "downloading") << entry().dump();
  seed();  // s4, with everything
  publish();
  ASSERT_TRUE(run([&] { return finished(); }, 30)) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(dest), content_);
}

TEST_F(DownloadTest, ResumeRecoversPiecesWrittenAfterTheLastCommit) {
  auto& s = seed();
  publish();
  const FileMeta meta = test::meta_of(content_, kPiece);
  const std::string dest = sb_.path("out.bin");
  // As a killed daemon leaves it: pieces 0-1 committed, 2-3 written after
  // the last commit, piece 4 cut short.
  {
    auto part = PartFile::create(dest + ".gs-part", meta.size, true);
    ASSERT_TRUE(part.ok());
    const auto write = [&](PieceIndex p, size_t len) {
      ASSERT_TRUE(write_piece(**part, meta.piece_offset(p), std::string_view(content_).substr(meta.piece_offset(p), len)).ok());
    };
    write(0_piece, kPiece);
    write(1_piece, kPiece);
    auto st = stat_part((*part)->fd());
    ASSERT_TRUE(st.ok());
    DownloadRecord rec;
    rec.user = "leech";
    rec.group = "g";
    rec.name = "f.bin";
    rec.dest = dest;
    rec.part_path = dest + ".gs-part";
    rec.meta = meta;
    Bitfield have(meta.piece_count());
    have.set(0_piece);
    have.set(1_piece);
    rec.have = have.to_bytes();
    rec.state = "downloading";
    rec.received_bytes = 4 * kPiece;
    rec.part_size = st->size;
    rec.part_mtime_ns = st->mtime_ns - 1;
    ASSERT_TRUE(store_->insert(rec).ok());
    write(2_piece, kPiece);
    write(3_piece, kPiece);
    write(4_piece, kPiece / 2);
  }
  make_downloads();
  ASSERT_TRUE(downloads_->load().ok());
  EXPECT_EQ(state(), "paused") << "nothing starts before the session is ready";
  downloads_->on_session_event(Session::Event::ready);
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(dest), content_);
  // Pieces 0-3 came from the disk; everything else, piece 4 included, from the seed.
  EXPECT_EQ(s.requests(), meta.piece_count() - 4);
  EXPECT_EQ(*entry().get_int("refetched_bytes"), static_cast<int64_t>(kPiece)) << "piece 4 was lost";
}

TEST_F(DownloadTest, TruncatedPartialFileIsRefetched) {
  auto& s = seed();
  publish();
  const FileMeta meta = test::meta_of(content_, kPiece);
  const std::string dest = sb_.path("out.bin");
  {
    auto part = PartFile::create(dest + ".gs-part", meta.size, true);
    ASSERT_TRUE(part.ok());
    for (PieceIndex p : all_pieces(6)) {
      ASSERT_TRUE(write_piece(**part, meta.piece_offset(p), std::string_view(content_).substr(meta.piece_offset(p), kPiece)).ok());
    }
    auto st = stat_part((*part)->fd());
    ASSERT_TRUE(st.ok());
    DownloadRecord rec;
    rec.user = "leech";
    rec.group = "g";
    rec.name = "f.bin";
    rec.dest = dest;
    rec.part_path = dest + ".gs-part";
    rec.meta = meta;
    Bitfield have(meta.piece_count());
    for (PieceIndex p : all_pieces(6)) have.set(p);
    rec.have = have.to_bytes();
    rec.state = "downloading";
    rec.part_size = st->size;
    rec.part_mtime_ns = st->mtime_ns;
    ASSERT_TRUE(store_->insert(rec).ok());
    ASSERT_EQ(ftruncate((*part)->fd(), 2 * kPiece), 0);
  }
  make_downloads();
  ASSERT_TRUE(downloads_->load().ok());
  downloads_->on_session_event(Session::Event::ready);
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(dest), content_);
  EXPECT_EQ(s.requests(), meta.piece_count() - 2);
}

TEST_F(DownloadTest, LogoutPausesAndLoginResumes) {
  content_ = test::make_content(200 * kPiece);
  make_downloads();
  // The only seed holds half the file: however fast the machine, the
  // download is still running when the logout comes.
  auto& half = seed();
  for (PieceIndex p : all_pieces(100)) half.only_pieces.insert(p);
  publish();
  const std::string dest = sb_.path("out.bin");
  ASSERT_TRUE(add(dest).ok());
  ASSERT_TRUE(run([&] { return *entry().get_int("done_bytes") > 0; }));
  bool out = false;
  session_->logout([&](Result<Json>) { out = true; });
  EXPECT_EQ(state(), "paused");
  EXPECT_EQ(entry().get_int("peers"), 0);
  ASSERT_TRUE(run([&] { return out; }));
  seed();  // a whole seed appears while we are away
  publish();
  bool in = false;
  session_->login("leech", "pw-secret", [&](Result<Json> r) { in = r.ok(); });
  // Pieces already with the workers at the pause may still land and, on a
  // fast machine, finish the download before the login answer arrives.
  ASSERT_TRUE(run([&] { return finished() && in; })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(dest), content_);
}

// Measured write paths: every download here is "large", and the probe
// writes enough to take a few loop turns.
struct MeasuredPaths {
  static WritePathPolicy::Params params() {
    WritePathPolicy::Params p;
    p.min_probed_file_size = 1;
    p.max_wait = std::chrono::seconds(20);  // these tests are about the wait
    return p;
  }
  static WriteProbeLimits limits() {
    WriteProbeLimits l;
    l.round_bytes = 4 << 20;
    l.rounds = 2;
    l.budget = std::chrono::seconds(20);
    return l;
  }
  MeasuredPaths(event_base* base, WorkerPool& pool) : paths(base, pool, WritePathSetting::automatic, params(), limits()) {}
  WritePaths paths;
};

uint64_t dev_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_dev);
}

TEST_F(DownloadTest, TheFirstDownloadIntoAFileSystemConnectsOnlyOnceItsWritePathIsKnown) {
  MeasuredPaths measured(base_.get(), pool_);
  make_downloads({}, nullptr, &measured.paths);
  auto& s = seed();
  publish();
  const std::string dest = sb_.path("out.bin");
  ASSERT_TRUE(add(dest).ok());
  EXPECT_EQ(state(), "downloading");
  const uint64_t dev = dev_of(sb_.dir());
  EXPECT_FALSE(measured.paths.decided(dev).has_value());
  // A second file waiting on the same probe is told right after the
  // download, before the loop turns again: what the seed has seen by then
  // it saw while the probe ran.
  auto spy = PartFile::create(sb_.path("spy.gs-part"), 1, true);
  ASSERT_TRUE(spy.ok()) << spy.error().message;
  std::optional<size_t> seen;
  ASSERT_FALSE(measured.paths.choose(*spy, 1, [&] { seen = s.connections(); }));
  ASSERT_TRUE(run([&] { return seen.has_value(); }));
  EXPECT_EQ(*seen, 0u) << "it connected while the probe ran";
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(dest), content_);
}

TEST_F(DownloadTest, PausedWhileItsWritePathIsMeasuredItWaitsForTheSession) {
  MeasuredPaths measured(base_.get(), pool_);
  make_downloads({}, nullptr, &measured.paths);
  auto& s = seed();
  publish();
  const std::string dest = sb_.path("out.bin");
  ASSERT_TRUE(add(dest).ok());
  downloads_->on_session_event(Session::Event::ended);
  EXPECT_EQ(state(), "paused");
  const uint64_t dev = dev_of(sb_.dir());
  ASSERT_TRUE(run([&] { return measured.paths.decided(dev).has_value(); }));
  ASSERT_FALSE(run([&] { return s.connections() > 0; }, 0.3)) << "paused: the probe's end does not start it";
  EXPECT_EQ(state(), "paused");
  downloads_->on_session_event(Session::Event::ready);
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(dest), content_);
}

TEST_F(DownloadTest, EmptyFileCompletesWithoutPeers) {
  content_.clear();
  make_downloads();
  publish();
  const std::string dest = sb_.path("empty.bin");
  ASSERT_TRUE(add(dest).ok());
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  EXPECT_EQ(state(), "complete");
  struct stat st {};
  ASSERT_EQ(stat(dest.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
}

TEST_F(DownloadTest, Refusals) {
  make_downloads();
  seed(test::FakeSeed::Mode::silent);  // keeps the first download running
  publish();
  // A directory: DEST/NAME.
  const std::string dir = sb_.path("d");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  auto r = add(dir);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->get_string("dest"), dir + "/f.bin");
  // The same (group, name) again, even elsewhere.
  auto again = downloads_->precheck(Downloads::Request{"g", "f.bin", sb_.path("other"), false});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "already_downloading");
  downloads_.reset();  // a fresh manager for the destination checks
  store_.reset();
  auto store = DownloadStore::open(state_->db_path());
  ASSERT_TRUE(store.ok());
  store_ = std::move(*store);
  auto old = store_->load_all();
  ASSERT_TRUE(old.ok());
  for (const auto& rec : *old) ASSERT_TRUE(store_->remove(rec.id).ok());
  make_downloads();

  const std::string existing = sb_.write("exists.bin", "x");
  auto e = add(existing);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, "dest_exists");
  EXPECT_NE(e.error().message.find("--force"), std::string::npos);
  EXPECT_EQ(read_file(existing), "x") << "nothing written before the refusal";
  auto missing = add(sb_.path("no/such/dir/f.bin"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "io_error");
  auto relative = add("relative/path");
  ASSERT_FALSE(relative.ok());
  EXPECT_EQ(relative.error().code, "bad_request");
  auto forced = add(existing, /*force=*/true);
  EXPECT_TRUE(forced.ok()) << forced.error().message;
}

TEST_F(DownloadTest, BadFileInfoIsRefused) {
  make_downloads();
  publish();
  tracker_.file_info["file_id"] = std::string(64, 'b');
  auto r = add(sb_.path("out.bin"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "tracker_unreachable");
  EXPECT_NE(access(sb_.path("out.bin.gs-part").c_str(), F_OK), 0);
}

// A full disk pauses the download instead of failing it: the pieces written
// before stay (in memory and in gsd.db), peers are dropped, the reason says
// how much room is missing, a restart keeps all of that, the session coming
// back does not restart it, and room made resumes it by itself.
TEST_F(DownloadTest, FullDiskPausesKeepsWhatWasWrittenAndResumesWhenRoomIsMade) {
  content_ = test::make_content(24 * kPiece);
  const DownloadOptions o = quick_disk_retry();
  FaultyDisk disk;
  disk.room = 10 * kPiece;
  make_downloads(o, &disk);
  auto& s = seed();
  publish();
  const std::string dest = sb_.path("out.bin");
  ASSERT_TRUE(add(dest).ok());
  ASSERT_TRUE(run([&] { return state() == "paused" && error().find("more)") != std::string::npos; })) << entry().dump();
  EXPECT_EQ(error().rfind("no space left in " + parent_dir(dest) + " (needs ", 0), 0u) << error();
  EXPECT_EQ(entry().get_string("disk_trouble"), "no_space");
  EXPECT_EQ(done_bytes(), static_cast<int64_t>(10 * kPiece));
  EXPECT_EQ(entry().get_int("peers"), 0);
  // The peers are gone: nothing more is fetched, and no free piece fits,
  // so no attempt is made however long it waits.
  const size_t asked = s.requests();
  idle(1.0);
  EXPECT_EQ(s.requests(), asked);
  EXPECT_EQ(state(), "paused");
  // The pieces written are saved with the pause, and the reason once the
  // room needed is known.
  ASSERT_TRUE(run([&] { return pieces_in(stored()) == 10 && stored().error == error(); })) << stored().error;
  DownloadRecord rec = stored();
  EXPECT_EQ(rec.state, "paused");
  EXPECT_EQ(rec.disk_trouble, "no_space");

  // A restart while paused: still paused, for the same reason, with the
  // same pieces; the session's `ready` does not start it.
  const std::string reason = error();
  downloads_.reset();
  make_downloads(o, &disk);
  ASSERT_TRUE(downloads_->load().ok());
  downloads_->on_session_event(Session::Event::ready);
  EXPECT_EQ(state(), "paused");
  EXPECT_EQ(error(), reason);
  EXPECT_EQ(done_bytes(), static_cast<int64_t>(10 * kPiece));
  idle(0.5);
  EXPECT_EQ(state(), "paused");
  EXPECT_EQ(s.requests(), asked);

  // Room for the rest: it goes on by itself and ends byte-identical; only
  // the refused pieces were fetched twice.
  disk.room = UINT64_MAX;
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(dest), content_);
  EXPECT_EQ(entry().get_string("disk_trouble"), std::nullopt);
  EXPECT_EQ(entry().find("disk_trouble")->is_null(), true);
  EXPECT_EQ(stored().disk_trouble, "");
  EXPECT_LE(*entry().get_int("refetched_bytes"), static_cast<int64_t>(s.requests() - 24) * kPiece);
}

// A failed sync may have lost anything written since the last good one:
// those pieces stop counting (in memory and in gsd.db), the earlier ones
// stay, and the download pauses on a timer rather than failing.
TEST_F(DownloadTest, FailedSyncTakesBackTheUnsyncedPiecesAndPauses) {
  content_ = test::make_content(48 * kPiece);
  FaultyDisk disk;
  make_downloads(quick_disk_retry(), &disk);
  auto& half = seed();
  for (PieceIndex p : all_pieces(24)) half.only_pieces.insert(p);
  publish();
  const std::string dest = sb_.path("out.bin");
  ASSERT_TRUE(add(dest).ok());
  ASSERT_TRUE(run([&] { return pieces_in(stored()) == 24; })) << entry().dump();
  disk.fail_syncs = true;
  // Pieces 24-35, listed by the next refresh: the download is not over
  // (its final sync is not this disk's) when a commit syncs them.
  auto& more = seed();
  for (uint32_t p = 24; p < 36; ++p) more.only_pieces.insert(PieceIndex{p});
  publish();
  ASSERT_TRUE(run([&] { return state() == "paused"; })) << entry().dump();
  EXPECT_EQ(entry().get_string("disk_trouble"), "write_error");
  EXPECT_EQ(error(), "write error in " + parent_dir(dest) + ": cannot sync the partial file: Input/output error");
  // Pieces that were with the workers may still land, and the next failed
  // sync takes them back too: it settles at what was synced.
  ASSERT_TRUE(run([&] {
    return done_bytes() == static_cast<int64_t>(24 * kPiece) && pieces_in(stored()) == 24 &&
           stored().disk_trouble == "write_error";
  })) << entry().dump();
  EXPECT_GT(*entry().get_int("refetched_bytes"), 0) << "the pieces taken back are fetched again";

  // The device is back: the timer tries again and the download completes.
  disk.fail_syncs = false;
  seed();
  publish();
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(dest), content_);
}

// gsctl resume tries at once, where the policy would wait.
TEST_F(DownloadTest, ResumeTriesTheDiskAtOnce) {
  content_ = test::make_content(24 * kPiece);
  DownloadOptions o = quick_disk_retry();
  o.disk_retry_first = o.disk_retry_max = std::chrono::hours(1);
  FaultyDisk disk;
  disk.room = 4 * kPiece;
  make_downloads(o, &disk);
  auto& s = seed();
  publish();
  const std::string dest = sb_.path("out.bin");
  ASSERT_TRUE(add(dest).ok());
  ASSERT_TRUE(run([&] { return state() == "paused"; })) << entry().dump();
  const size_t asked = s.requests();
  // Still full: the attempt fetches, cannot write, and pauses again.
  auto r = downloads_->resume("g", "f.bin");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->get_string("state"), "downloading");
  ASSERT_TRUE(run([&] { return s.requests() > asked && state() == "paused" && !error().empty(); })) << entry().dump();
  EXPECT_EQ(done_bytes(), static_cast<int64_t>(4 * kPiece));
  disk.room = UINT64_MAX;
  ASSERT_TRUE(downloads_->resume("g", "f.bin").ok());
  ASSERT_TRUE(run([&] { return finished(); })) << entry().dump();
  ASSERT_EQ(state(), "complete") << entry().dump();
  EXPECT_EQ(read_file(dest), content_);
  // Nothing to resume.
  auto done = downloads_->resume("g", "f.bin");
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, "not_paused");
  auto none = downloads_->resume("g", "other.bin");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, "no_such_download");
}

}  // namespace
}  // namespace gs::daemon
