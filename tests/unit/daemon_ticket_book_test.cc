// The daemon's ticket book: what it keeps of the tracker's tickets, when one
// counts as fresh, when a link's ticket is worth renewing, and the seeder's
// and downloader's check of a ticket a peer presents (key, file, holder,
// clock), with the cluster key pinned as the trackers file or first use says.
#include "daemon/ticket_book.h"

#include <gtest/gtest.h>

#include "identity.h"

namespace gs::daemon {
namespace {

struct NoMemory final : TrackerPins::Memory {
  std::string recall(const std::string&) override { return {}; }
  void remember(const std::string& name, const std::string& key) override { kept[name] = key; }
  std::map<std::string, std::string> kept;
};

class TicketBookTest : public ::testing::Test {
 protected:
  TicketBookTest() {
    TrackersFile file;
    file.trackers.push_back(Endpoint{"127.0.0.1", 7400});
    pins_ = std::make_unique<TrackerPins>(nullptr, file, &memory_);
    EXPECT_TRUE(pins_->offer_cluster_key(0, cluster_->public_key()).ok());
    book_ = std::make_unique<TicketBook>(pins_.get(), [this] { return now_; });
  }

  Ticket ticket_for(const Sha256Digest& file, const Identity& holder, int64_t expires) const {
    Ticket t;
    t.user = "alice";
    t.group = "team";
    t.file_id = file;
    t.holder_key = holder.public_key();
    t.expires = expires;
    return t;
  }
  Json answer(const std::string& bytes) const {
    Json a = Json::object();
    a["ticket"] = to_hex(bytes);
    return a;
  }

  int64_t now_ = 1'800'000'000;
  std::unique_ptr<Identity> cluster_ = Identity::from_seed(std::string(32, 'c'));
  std::unique_ptr<Identity> me_ = Identity::from_seed(std::string(32, 'm'));
  std::unique_ptr<Identity> other_ = Identity::from_seed(std::string(32, 'o'));
  Sha256Digest file_ = sha256("the file");
  NoMemory memory_;
  std::unique_ptr<TrackerPins> pins_;
  std::unique_ptr<TicketBook> book_;
};

TEST_F(TicketBookTest, TheFirstClusterKeyNamedIsPinnedAndKeptAnotherIsRefusedNamingBoth) {
  EXPECT_EQ(book_->cluster_key(), cluster_->public_key());
  EXPECT_EQ(memory_.kept["cluster"], cluster_->public_key());
  auto s = pins_->offer_cluster_key(1, other_->public_key());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "wrong_cluster_key");
  EXPECT_NE(s.error().message.find(other_->text()), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(cluster_->text()), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("trusted on first use"), std::string::npos) << s.error().message;
  EXPECT_EQ(book_->cluster_key(), cluster_->public_key());
}

TEST_F(TicketBookTest, TheTrackersFilesClusterKeyWinsOverWhatATrackerSays) {
  TrackersFile file;
  file.trackers.push_back(Endpoint{"127.0.0.1", 7400});
  file.cluster_key = other_->public_key();
  TrackerPins pins(nullptr, file, &memory_);
  EXPECT_EQ(pins.cluster_key(), other_->public_key());
  auto s = pins.offer_cluster_key(0, cluster_->public_key());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("written in the trackers file"), std::string::npos) << s.error().message;
  EXPECT_TRUE(pins.offer_cluster_key(0, other_->public_key()).ok());
}

TEST_F(TicketBookTest, KeepsTheTrackersTicketWhileItHasHalfItsLifeLeft) {
  EXPECT_EQ(book_->fresh(file_), nullptr);
  const std::string bytes = issue_ticket(ticket_for(file_, *me_, now_ + 300), *cluster_);
  book_->take(answer(bytes));
  const HeldTicket* held = book_->fresh(file_);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->bytes, bytes);
  EXPECT_EQ(held->expires, now_ + 300);
  now_ += 149;
  EXPECT_NE(book_->fresh(file_), nullptr);
  now_ += 1;
  EXPECT_EQ(book_->fresh(file_), nullptr) << "half its life gone: time to fetch another";
}

TEST_F(TicketBookTest, TellsTheListenerOfEachTicketTakenButNotOfAnOlderOne) {
  std::vector<Sha256Digest> told;
  book_->set_listener([&](const Sha256Digest& id, const Error* e) {
    EXPECT_EQ(e, nullptr);
    told.push_back(id);
  });
  book_->take(answer(issue_ticket(ticket_for(file_, *me_, now_ + 300), *cluster_)));
  book_->take(answer(issue_ticket(ticket_for(file_, *me_, now_ + 200), *cluster_)));
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(book_->fresh(file_)->expires, now_ + 300);
}

TEST_F(TicketBookTest, IgnoresTicketsNotSignedByTheClusterKeyAndEmptyOnes) {
  book_->take(answer(issue_ticket(ticket_for(file_, *me_, now_ + 300), *other_)));
  EXPECT_EQ(book_->fresh(file_), nullptr);
  Json empty = Json::object();
  empty["ticket"] = "";
  book_->take(empty);
  book_->take(Json::object());
  EXPECT_EQ(book_->fresh(file_), nullptr);
}

TEST_F(TicketBookTest, FetchWithoutASessionFailsToTheListener) {
  std::string code;
  book_->set_listener([&](const Sha256Digest&, const Error* e) { code = e ? e->code : "ok"; });
  book_->fetch(file_, "team", "f.bin");
  EXPECT_EQ(code, "not_logged_in");
}

TEST_F(TicketBookTest, ChecksWhatAPeerPresents) {
  const std::string good = issue_ticket(ticket_for(file_, *other_, now_ + 300), *cluster_);
  auto ok = book_->check(good, file_, other_->public_key());
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->user, "alice");

  EXPECT_EQ(book_->check("", file_, other_->public_key()).error().code, "no_ticket");
  EXPECT_EQ(book_->check(std::string(64, 'j'), file_, other_->public_key()).error().code, "bad_ticket");
  EXPECT_EQ(book_->check(issue_ticket(ticket_for(file_, *other_, now_ + 300), *other_), file_, other_->public_key())
                .error()
                .code,
            "bad_signature")
      << "forged: signed by another key";
  EXPECT_EQ(book_->check(good, sha256("another file"), other_->public_key()).error().code, "wrong_file");
  EXPECT_EQ(book_->check(good, file_, me_->public_key()).error().code, "wrong_holder") << "stolen: another daemon's";
  now_ += 300;
  EXPECT_EQ(book_->check(good, file_, other_->public_key()).error().code, "expired");
}

TEST_F(TicketBookTest, WithoutAClusterKeyNothingChecks) {
  TrackersFile file;
  file.trackers.push_back(Endpoint{"127.0.0.1", 7400});
  TrackerPins pins(nullptr, file, nullptr);
  TicketBook book(&pins, [this] { return now_; });
  const std::string good = issue_ticket(ticket_for(file_, *other_, now_ + 300), *cluster_);
  EXPECT_EQ(book.check(good, file_, other_->public_key()).error().code, "no_cluster_key");
}

TEST(WorthRenewing, OnceTheSentTicketHasLivedHalfItsLife) {
  const int64_t now = 1000;
  EXPECT_FALSE(worth_renewing(now + 300, now + 300, now)) << "the same ticket";
  EXPECT_FALSE(worth_renewing(now + 300, now + 200, now)) << "an older one";
  EXPECT_FALSE(worth_renewing(now + 297, now + 300, now)) << "a refresh a few seconds later";
  EXPECT_TRUE(worth_renewing(now + 150, now + 300, now));
  EXPECT_TRUE(worth_renewing(now - 1, now + 300, now)) << "expired already";
  EXPECT_TRUE(worth_renewing(0, now + 300, now)) << "none sent yet";
}

}  // namespace
}  // namespace gs::daemon
