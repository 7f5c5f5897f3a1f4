// Shares: upload, adopt, stop, announce on session ready, broken files and
// restarts, with a fake tracker answered by hand, a real worker pool (and so
// a real event loop), a real state file and real files in a sandbox.
#include "daemon/shares.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <functional>

#include <gtest/gtest.h>

#include "daemon/state.h"
#include "file_hasher.h"
#include "sandbox.h"
#include "test_loop.h"

namespace gs::daemon {
namespace {


class FakeTracker : public TrackerApi {
 public:
  struct Call {
    std::string op;
    Fields fields;
    Done done;
    std::string str(std::string_view key) const {
      for (const auto& [k, v] : fields) {
        if (k == key && v.is_string()) return v.as_string();
      }
      return "<absent>";
    }
    int64_t num(std::string_view key) const {
      for (const auto& [k, v] : fields) {
        if (k == key && v.is_int()) return v.as_int();
      }
      return -1;
    }
  };
  void request(std::string op, Fields fields, Done done, Priority) override {
    calls.push_back({std::move(op), std::move(fields), std::move(done)});
  }
  bool link_ready() const override { return true; }
  std::optional<std::string> current_tracker() const override { return "127.0.0.1:7400"; }
  std::optional<size_t> current_tracker_index() const override { return 0; }

  std::deque<Call> calls;
};

Json ok_answer() {
  Json j = Json::object();
  j["ok"] = true;
  return j;
}

const std::string kToken(64, 't');

class SharesTest : public ::testing::Test {
 protected:
  SharesTest() : base_(loop_.base()) {
    pool_ = std::make_unique<WorkerPool>(base_, 2);
    open();
  }
  ~SharesTest() override {
    close();
    pool_.reset();
  }

  // (Re)starts the daemon's pieces over the same state directory.
  void open() {
    close();
    auto st = State::open(sb_.path("state"));
    ASSERT_TRUE(st.ok()) << st.error().message;
    state_ = std::move(*st);
    auto store = ShareStore::open(state_->db_path());
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    session_ = std::make_unique<Session>(*state_, tracker_, 7411);
    shares_ = std::make_unique<Shares>(*store_, registry_, *session_, *pool_);
    session_->add_observer([this](Session::Event e) { shares_->on_session_event(e); });
    shares_->load();
  }
  void close() {
    shares_.reset();
    session_.reset();
    store_.reset();
    state_.reset();
  }

  void login() {
    session_->login("alice", "pw", [](Result<Json> r) { ASSERT_TRUE(r.ok()); });
    Call c = take("login");
    Json a = ok_answer();
    a["token"] = kToken;
    c.done(a);
  }

  using Call = FakeTracker::Call;
  Call take(const std::string& op) {
    run_until([&] { return !tracker_.calls.empty(); });
    EXPECT_FALSE(tracker_.calls.empty()) << "expected a '" << op << "' request";
    if (tracker_.calls.empty()) return {};
    Call c = std::move(tracker_.calls.front());
    tracker_.calls.pop_front();
    EXPECT_EQ(c.op, op);
    return c;
  }

  bool run_until(const std::function<bool()>& done, double seconds = 10) { return loop_.run_until(done, seconds); }

  // Starts an upload; the answer lands in the returned slot.
  std::shared_ptr<std::optional<Result<Json>>> upload(const std::string& path, const std::string& group = "g1") {
    auto slot = std::make_shared<std::optional<Result<Json>>>();
    shares_->upload(path, group, [slot](Result<Json> r) { *slot = std::move(r); });
    return slot;
  }

  // Uploads `path` with the tracker agreeing; returns its meta.
  FileMeta shared(const std::string& path, const std::string& group = "g1") {
    auto a = upload(path, group);
    Call c = take("share_file");
    c.done(ok_answer());
    EXPECT_TRUE(a->has_value() && (*a)->ok()) << (a->has_value() && !(*a)->ok() ? (*a)->error().message : "");
    auto meta = FileMeta::from_parts(static_cast<uint64_t>(c.num("size")), static_cast<uint32_t>(c.num("piece_size")),
                                     c.str("hashes"), c.str("file_id"));
    EXPECT_TRUE(meta.ok());
    return meta.ok() ? *meta : FileMeta{};
  }

  std::optional<ShareRecord> row(const std::string& name, const std::string& group = "g1") {
    return store_->find("alice", group, name);
  }

  test::Sandbox sb_;
  test::TestLoop loop_;  // frees the base once the destructor body has reset what uses it
  event_base* base_;
  std::unique_ptr<WorkerPool> pool_;
  FakeTracker tracker_;
  ServeRegistry registry_;
  std::unique_ptr<State> state_;
  std::unique_ptr<ShareStore> store_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<Shares> shares_;
};

TEST_F(SharesTest, UploadHashesTellsTheTrackerKeepsAndServes) {
  login();
  const std::string path = sb_.write("movie.bin", std::string(kDefaultPieceSize + 99, 'm'));
  auto a = upload(path);
  Call c = take("share_file");
  EXPECT_EQ(c.str("token"), kToken);
  EXPECT_EQ(c.str("group"), "g1");
  EXPECT_EQ(c.str("name"), "movie.bin");
  EXPECT_EQ(c.num("size"), static_cast<int64_t>(kDefaultPieceSize + 99));
  EXPECT_EQ(c.num("piece_size"), static_cast<int64_t>(kDefaultPieceSize));
  auto expect = hash_file(path, kDefaultPieceSize, 1);
  ASSERT_TRUE(expect.ok());
  EXPECT_EQ(c.str("hashes"), expect->hashes_hex());
  EXPECT_EQ(c.str("file_id"), expect->file_id_hex());
  EXPECT_FALSE(a->has_value()) << "answered before the tracker did";
  EXPECT_EQ(registry_.find(expect->file_id), nullptr);

  c.done(ok_answer());
  ASSERT_TRUE(a->has_value());
  ASSERT_TRUE((*a)->ok()) << (*a)->error().message;
  const Json& r = (*a)->value();
  EXPECT_EQ(r.get_string("group"), "g1");
  EXPECT_EQ(r.get_string("name"), "movie.bin");
  EXPECT_EQ(r.get_int("size"), static_cast<int64_t>(kDefaultPieceSize + 99));
  EXPECT_EQ(r.get_string("file_id"), expect->file_id_hex());

  const Servable* s = registry_.find(expect->file_id);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->path, path);
  EXPECT_EQ(s->have, nullptr);
  EXPECT_EQ(*s->meta, *expect);
  EXPECT_TRUE(s->check_intact().ok());
  auto stored = row("movie.bin");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->state, ShareState::active);
  EXPECT_EQ(stored->meta, *expect);
}

TEST_F(SharesTest, UploadRefusesBadPathsClearly) {
  login();
  auto missing = upload(sb_.path("nope"));
  ASSERT_TRUE(missing->has_value());
  EXPECT_EQ((*missing)->error().code, "io_error");
  EXPECT_EQ((*missing)->error().message, "no such file: " + sb_.path("nope"));
  auto dir = upload(sb_.dir());
  ASSERT_TRUE(dir->has_value());
  EXPECT_EQ((*dir)->error().message, sb_.dir() + " is not a regular file");
  if (geteuid() != 0) {  // root reads anything
    const std::string locked = sb_.write("locked", "x");
    ASSERT_EQ(chmod(locked.c_str(), 0), 0);
    auto a = upload(locked);
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ((*a)->error().message.rfind("cannot read " + locked + ": ", 0), 0u) << (*a)->error().message;
  }
  EXPECT_TRUE(tracker_.calls.empty());
}

TEST_F(SharesTest, UploadNeedsASession) {
  auto a = upload(sb_.write("f", "x"));
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->error().code, "not_logged_in");
}

TEST_F(SharesTest, TrackerRefusalPassesThroughAndNothingIsKept) {
  login();
  auto a = upload(sb_.write("taken.txt", "some bytes"));
  Call c = take("share_file");
  c.done(make_error("name_taken", "a different file named 'taken.txt' is already shared in 'g1'"));
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->error().code, "name_taken");
  EXPECT_EQ((*a)->error().message, "a different file named 'taken.txt' is already shared in 'g1'");
  EXPECT_FALSE(row("taken.txt").has_value());
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(SharesTest, EmptyFileIsShared) {
  login();
  const FileMeta m = shared(sb_.write("empty", ""));
  EXPECT_EQ(m.size, 0u);
  EXPECT_NE(registry_.find(m.file_id), nullptr);
}

TEST_F(SharesTest, ReadyAnnouncesAgainAndRefusalStopsTheShare) {
  login();
  const FileMeta a = shared(sb_.write("a", "aaaa"));
  const FileMeta b = shared(sb_.write("b", "bbbb"));
  // A reconnect (or failover) resumes the session: every share again.
  shares_->on_session_event(Session::Event::ready);
  Call first = take("share_file");
  Call second = take("share_file");
  EXPECT_EQ(first.str("name"), "a");
  EXPECT_EQ(second.str("name"), "b");
  first.done(ok_answer());
  second.done(make_error("not_member", "alice is not a member of 'g1'"));
  EXPECT_NE(registry_.find(a.file_id), nullptr);
  EXPECT_EQ(registry_.find(b.file_id), nullptr);
  EXPECT_EQ(row("b")->state, ShareState::stopped);
  EXPECT_EQ(row("b")->reason, "alice is not a member of 'g1'");
  EXPECT_EQ(row("a")->state, ShareState::active);
}

TEST_F(SharesTest, UnreachableTrackerOnAnnounceKeepsTheShare) {
  login();
  const FileMeta a = shared(sb_.write("a", "aaaa"));
  shares_->on_session_event(Session::Event::ready);
  take("share_file").done(make_error("tracker_unreachable", "no tracker answered"));
  EXPECT_NE(registry_.find(a.file_id), nullptr);
  EXPECT_EQ(row("a")->state, ShareState::active);
}

TEST_F(SharesTest, BrokenFileIsStoppedEverywhere) {
  login();
  const std::string path = sb_.write("doc", "version one");
  const FileMeta m = shared(path);
  const Servable* s = registry_.find(m.file_id);
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  auto intact = s->check_intact();
  ASSERT_FALSE(intact.ok());
  const auto on_broken = s->on_broken;  // as the peer server does
  on_broken(intact.error());
  EXPECT_EQ(registry_.find(m.file_id), nullptr);
  EXPECT_EQ(row("doc")->state, ShareState::broken);
  EXPECT_EQ(row("doc")->reason, "file is gone");
  Call stop = take("stop_share");
  EXPECT_EQ(stop.str("group"), "g1");
  EXPECT_EQ(stop.str("name"), "doc");
  stop.done(ok_answer());
  // Never announced again.
  shares_->on_session_event(Session::Event::ready);
  run_until([] { return false; }, 0.05);
  EXPECT_TRUE(tracker_.calls.empty());
}

TEST_F(SharesTest, SameContentTwiceIsServedUntilTheLastGoes) {
  login();
  const std::string p1 = sb_.write("one", "same bytes");
  const std::string p2 = sb_.write("two", "same bytes");
  const FileMeta m1 = shared(p1, "g1");
  const FileMeta m2 = shared(p2, "g2");
  ASSERT_EQ(m1.file_id, m2.file_id);
  auto stop = std::make_shared<std::optional<Result<Json>>>();
  shares_->stop("g1", "one", [stop](Result<Json> r) { *stop = std::move(r); });
  take("stop_share").done(ok_answer());
  ASSERT_TRUE(stop->has_value() && (*stop)->ok());
  const Servable* s = registry_.find(m1.file_id);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->path, p2);
  EXPECT_EQ(row("one", "g1")->state, ShareState::stopped);
}

TEST_F(SharesTest, StopNeedsTheTrackerFirst) {
  login();
  const FileMeta m = shared(sb_.write("f", "content"));
  auto a = std::make_shared<std::optional<Result<Json>>>();
  shares_->stop("g1", "f", [a](Result<Json> r) { *a = std::move(r); });
  take("stop_share").done(make_error("tracker_unreachable", "no tracker answered"));
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->error().code, "tracker_unreachable");
  EXPECT_NE(registry_.find(m.file_id), nullptr);

  // The tracker no longer has it: stopped here too, and that is success.
  shares_->stop("g1", "f", [a](Result<Json> r) { *a = std::move(r); });
  take("stop_share").done(make_error("not_sharing", "you do not share 'f'"));
  ASSERT_TRUE(a->has_value());
  EXPECT_TRUE((*a)->ok());
  EXPECT_EQ(registry_.find(m.file_id), nullptr);
  EXPECT_EQ(row("f")->state, ShareState::stopped);

  // Nothing here, nothing there: the tracker's error.
  shares_->stop("g1", "other", [a](Result<Json> r) { *a = std::move(r); });
  take("stop_share").done(make_error("no_such_file", "no file 'other'"));
  EXPECT_EQ((*a)->error().code, "no_such_file");
}

TEST_F(SharesTest, GroupLeftStopsItsShares) {
  login();
  const FileMeta a = shared(sb_.write("a", "aaaa"), "g1");
  const FileMeta b = shared(sb_.write("b", "bbbb"), "g2");
  shares_->group_left("g1");
  EXPECT_EQ(registry_.find(a.file_id), nullptr);
  EXPECT_NE(registry_.find(b.file_id), nullptr);
  EXPECT_EQ(row("a", "g1")->state, ShareState::stopped);
}

TEST_F(SharesTest, LogoutUnregistersAndLoginBringsBack) {
  login();
  const FileMeta m = shared(sb_.write("f", "content"));
  session_->logout([](Result<Json>) {});
  EXPECT_EQ(registry_.find(m.file_id), nullptr);
  take("logout").done(ok_answer());
  login();
  EXPECT_NE(registry_.find(m.file_id), nullptr);
  take("share_file").done(ok_answer());
}

TEST_F(SharesTest, RestartServesUnchangedAndMarksChangedFiles) {
  login();
  const std::string keep = sb_.write("keep", "unchanged");
  const std::string edit = sb_.write("edit", "before");
  const FileMeta mk = shared(keep);
  const FileMeta me = shared(edit);
  open();  // a restart: the session resumes from the state file
  EXPECT_NE(registry_.find(mk.file_id), nullptr);

  sb_.write("edit", "after!");  // same size, new content
  open();
  EXPECT_NE(registry_.find(mk.file_id), nullptr);
  EXPECT_EQ(registry_.find(me.file_id), nullptr);
  EXPECT_EQ(row("edit")->state, ShareState::broken);
  Call stop = take("stop_share");
  EXPECT_EQ(stop.str("name"), "edit");
}

TEST_F(SharesTest, AdoptServesAtOnceWithoutHashing) {
  login();
  const std::string path = sb_.write("done.bin", std::string(70000, 'd'));
  auto meta = hash_file(path, kMinPieceSize, 1);
  ASSERT_TRUE(meta.ok());
  // The download's own entry, replaced by the share.
  Bitfield have(meta->piece_count());
  have.set_all();
  registry_.add(meta->file_id, Servable{"g1", "done.bin", &*meta, path + ".part", &have, nullptr, nullptr});
  auto a = std::make_shared<std::optional<Result<Json>>>();
  shares_->adopt("alice", "g1", path, *meta, [a](Result<Json> r) { *a = std::move(r); });
  const Servable* s = registry_.find(meta->file_id);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->path, path);
  EXPECT_EQ(s->have, nullptr);
  Call c = take("share_file");
  EXPECT_EQ(c.str("file_id"), meta->file_id_hex());
  EXPECT_EQ(c.str("name"), "done.bin");
  c.done(ok_answer());
  ASSERT_TRUE(a->has_value() && (*a)->ok());
  EXPECT_EQ(row("done.bin")->state, ShareState::active);
  EXPECT_EQ(row("done.bin")->meta, *meta);
}

TEST_F(SharesTest, AdoptRefusedByTheTrackerIsUnregistered) {
  login();
  const std::string path = sb_.write("x.bin", "xyz");
  auto meta = hash_file(path, kMinPieceSize, 1);
  ASSERT_TRUE(meta.ok());
  auto a = std::make_shared<std::optional<Result<Json>>>();
  shares_->adopt("alice", "g1", path, *meta, [a](Result<Json> r) { *a = std::move(r); });
  EXPECT_NE(registry_.find(meta->file_id), nullptr);
  take("share_file").done(make_error("not_member", "not a member"));
  EXPECT_EQ((*a)->error().code, "not_member");
  EXPECT_EQ(registry_.find(meta->file_id), nullptr);
  // Kept as stopped, with the reason: a refused share is not offered again.
  ASSERT_TRUE(row("x.bin").has_value());
  EXPECT_EQ(row("x.bin")->state, ShareState::stopped);
}

// The download records itself complete right after adopt() returns: the
// share must be durable by then, whatever the tracker answers later.
TEST_F(SharesTest, AdoptKeepsTheShareBeforeTheTrackerAnswers) {
  login();
  const std::string path = sb_.write("kept.bin", std::string(5000, 'k'));
  auto meta = hash_file(path, kMinPieceSize, 1);
  ASSERT_TRUE(meta.ok());
  shares_->adopt("alice", "g1", path, *meta, [](Result<Json>) {});
  ASSERT_TRUE(row("kept.bin").has_value());
  EXPECT_EQ(row("kept.bin")->state, ShareState::active);
  EXPECT_EQ(row("kept.bin")->path, path);
}

// Finished while its user was logged out (a pause during the final rename):
// kept now, served and announced when that user's session is ready.
TEST_F(SharesTest, AdoptWhileLoggedOutIsAnnouncedAtLogin) {
  const std::string path = sb_.write("later.bin", std::string(3000, 'l'));
  auto meta = hash_file(path, kMinPieceSize, 1);
  ASSERT_TRUE(meta.ok());
  auto a = std::make_shared<std::optional<Result<Json>>>();
  shares_->adopt("alice", "g1", path, *meta, [a](Result<Json> r) { *a = std::move(r); });
  ASSERT_TRUE(a->has_value() && (*a)->ok());
  EXPECT_TRUE(tracker_.calls.empty());
  EXPECT_EQ(row("later.bin")->state, ShareState::active);
  login();
  Call c = take("share_file");
  EXPECT_EQ(c.str("name"), "later.bin");
  EXPECT_NE(registry_.find(meta->file_id), nullptr);
}

// A link given on purpose is resolved once, at upload: the share is the
// real file, under the name the user gave.
TEST_F(SharesTest, UploadThroughALinkSharesTheRealFileUnderTheLinksName) {
  login();
  ASSERT_EQ(::mkdir(sb_.path("data").c_str(), 0700), 0);
  const std::string real = sb_.write("data/real.bin", "the bytes");
  const std::string link = sb_.path("nice-name.bin");
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  auto a = upload(link);
  Call c = take("share_file");
  EXPECT_EQ(c.str("name"), "nice-name.bin");
  c.done(ok_answer());
  ASSERT_TRUE(a->has_value() && (*a)->ok());
  EXPECT_EQ(row("nice-name.bin")->path, real);
  auto m = FileMeta::from_parts(static_cast<uint64_t>(c.num("size")), static_cast<uint32_t>(c.num("piece_size")),
                                c.str("hashes"), c.str("file_id"));
  ASSERT_TRUE(m.ok());
  const Servable* s = registry_.find(m->file_id);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->path, real);
  // Pointing the link elsewhere later changes nothing: it is not followed again.
  ASSERT_EQ(::unlink(link.c_str()), 0);
  ASSERT_EQ(::symlink(sb_.write("other.bin", "something else").c_str(), link.c_str()), 0);
  EXPECT_TRUE(s->check_intact().ok());
}

TEST_F(SharesTest, UploadRefusesANameThatIsNotAFileName) {
  login();
  auto a = upload(sb_.dir() + "/..");
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->error().code, "bad_request");
  EXPECT_EQ((*a)->error().message, "cannot share " + sb_.dir() + "/.. under its name: file name is '..', which names a directory");
  EXPECT_TRUE(tracker_.calls.empty());
}

// Replaced by a link to a hard link of itself (the same bytes, so a check
// that followed links would see no change): not served, marked broken.
TEST_F(SharesTest, AFileReplacedByALinkIsNotServed) {
  login();
  const std::string path = sb_.write("doc", "version one");
  const FileMeta m = shared(path);
  const Servable* s = registry_.find(m.file_id);
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->check_opened);
  const std::string aside = sb_.path("aside");
  ASSERT_EQ(::link(path.c_str(), aside.c_str()), 0);
  // By descriptor, the same file passes and another file does not.
  const int same = ::open(aside.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_TRUE(s->check_opened(same).ok());
  ::close(same);
  const std::string other = sb_.write("other", "version one");
  const int diff = ::open(other.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_FALSE(s->check_opened(diff).ok());
  ::close(diff);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_EQ(::symlink(aside.c_str(), path.c_str()), 0);
  auto intact = s->check_intact();
  ASSERT_FALSE(intact.ok());
  EXPECT_EQ(intact.error().message, "file was replaced by a symbolic link");
  const auto on_broken = s->on_broken;
  on_broken(intact.error());
  EXPECT_EQ(registry_.find(m.file_id), nullptr);
  EXPECT_EQ(row("doc")->state, ShareState::broken);
  take("stop_share").done(ok_answer());
}

// The same swap while gsd was down: the restart does not share it again.
TEST_F(SharesTest, RestartDoesNotFollowALinkSwappedIn) {
  login();
  const std::string path = sb_.write("doc", "version one");
  const FileMeta m = shared(path);
  close();
  const std::string aside = sb_.path("aside");
  ASSERT_EQ(::link(path.c_str(), aside.c_str()), 0);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_EQ(::symlink(aside.c_str(), path.c_str()), 0);
  open();
  EXPECT_EQ(registry_.find(m.file_id), nullptr);
  EXPECT_EQ(row("doc")->state, ShareState::broken);
  EXPECT_EQ(row("doc")->reason, "file was replaced by a symbolic link");
}

TEST_F(SharesTest, AdoptRefusesALinkAndAFileThatIsNotTheDownloads) {
  login();
  const std::string real = sb_.write("real.bin", std::string(3000, 'r'));
  auto meta = hash_file(real, kMinPieceSize, 1);
  ASSERT_TRUE(meta.ok());
  const std::string link = sb_.path("dest.bin");
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  auto a = std::make_shared<std::optional<Result<Json>>>();
  shares_->adopt("alice", "g1", link, *meta, [a](Result<Json> r) { *a = std::move(r); });
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->error().code, "io_error");
  EXPECT_NE((*a)->error().message.find("it is a symbolic link"), std::string::npos) << (*a)->error().message;
  // A regular file with the right size, but not the one the download verified.
  struct stat st {};
  ASSERT_EQ(::stat(real.c_str(), &st), 0);
  const FileStamp verified = FileStamp::of(st);
  const std::string impostor = sb_.write("impostor.bin", std::string(3000, 'r'));
  a->reset();
  shares_->adopt("alice", "g1", impostor, *meta, [a](Result<Json> r) { *a = std::move(r); }, verified);
  ASSERT_TRUE(a->has_value());
  EXPECT_NE((*a)->error().message.find("no longer the downloaded file"), std::string::npos);
  EXPECT_FALSE(row("impostor.bin").has_value());
  EXPECT_EQ(registry_.find(meta->file_id), nullptr);
  EXPECT_TRUE(tracker_.calls.empty());
}

TEST_F(SharesTest, StoppingMidHashNeverAnswers) {
  login();
  const std::string path = sb_.path("big");
  {
    std::string chunk(1 << 20, 'b');
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    for (int i = 0; i < 64; ++i) std::fwrite(chunk.data(), 1, chunk.size(), f);
    std::fclose(f);
  }
  auto a = upload(path);
  shares_.reset();  // the daemon stops
  run_until([] { return false; }, 0.2);
  EXPECT_FALSE(a->has_value());
  EXPECT_TRUE(tracker_.calls.empty());
}

TEST_F(SharesTest, SessionEndingMidHashIsReported) {
  login();
  auto a = upload(sb_.write("f", "data"));
  session_->logout([](Result<Json>) {});
  ASSERT_TRUE(run_until([&] { return a->has_value(); }));
  EXPECT_EQ((*a)->error().code, "not_logged_in");
}

}  // namespace
}  // namespace gs::daemon
