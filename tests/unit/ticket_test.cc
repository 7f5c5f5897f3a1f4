// Access tickets: issued by the cluster's key, read back only with it, and
// checked against the file, the link's key and the clock. Every byte of a
// ticket matters: any change, cut or addition is refused, never believed.
#include "ticket.h"

#include <gtest/gtest.h>

#include "identity.h"

namespace gs {
namespace {

class TicketTest : public ::testing::Test {
 protected:
  TicketTest() {
    t_.user = "alice";
    t_.group = "team";
    t_.file_id = sha256("the file");
    t_.holder_key = holder_->public_key();
    t_.expires = 1'800'000'300;
  }
  std::unique_ptr<Identity> cluster_ = Identity::ephemeral();
  std::unique_ptr<Identity> holder_ = Identity::ephemeral();
  Ticket t_;
};

TEST_F(TicketTest, ReadsBackWhatWasIssuedWithTheClustersKey) {
  const std::string bytes = issue_ticket(t_, *cluster_);
  EXPECT_LE(bytes.size(), kMaxTicketBytes);
  auto got = read_ticket(bytes, cluster_->public_key());
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, t_);
  EXPECT_TRUE(check_ticket(*got, t_.file_id, holder_->public_key(), t_.expires - 1));
}

TEST_F(TicketTest, AnotherSignerIsRefused) {
  const auto forger = Identity::ephemeral();
  auto got = read_ticket(issue_ticket(t_, *forger), cluster_->public_key());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, "bad_signature");
}

TEST_F(TicketTest, EveryChangedByteIsRefused) {
  const std::string bytes = issue_ticket(t_, *cluster_);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string changed = bytes;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(read_ticket(changed, cluster_->public_key())) << "byte " << i;
  }
}

TEST_F(TicketTest, CutsAndAdditionsAreRefused) {
  const std::string bytes = issue_ticket(t_, *cluster_);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(read_ticket(bytes.substr(0, n), cluster_->public_key())) << "first " << n << " bytes";
  }
  EXPECT_FALSE(read_ticket(bytes + "x", cluster_->public_key()));
  EXPECT_FALSE(read_ticket(std::string(64, 'j'), cluster_->public_key()));
  EXPECT_FALSE(read_ticket(std::string(kMaxTicketBytes + 1, 'j'), cluster_->public_key()));
}

TEST_F(TicketTest, TheSeedersChecksEachSayWhatIsWrong) {
  const Ticket& t = t_;
  auto other_file = check_ticket(t, sha256("another file"), holder_->public_key(), 0);
  ASSERT_FALSE(other_file);
  EXPECT_EQ(other_file.error().code, "wrong_file");
  const auto thief = Identity::ephemeral();
  auto stolen = check_ticket(t, t.file_id, thief->public_key(), 0);
  ASSERT_FALSE(stolen);
  EXPECT_EQ(stolen.error().code, "wrong_holder");
  auto plain = check_ticket(t, t.file_id, "", 0);  // a plaintext link proves no key
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().code, "wrong_holder");
  auto late = check_ticket(t, t.file_id, holder_->public_key(), t.expires);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, "expired");
  EXPECT_NE(late.error().message.find("expired 0 s ago"), std::string::npos) << late.error().message;
}

}  // namespace
}  // namespace gs
