// The file catalogue ops of the tracker service (share_file, list_files,
// file_info, announce, stop_share), the peer port of login/resume, and how
// sessions and group membership shape the live peer sets.
#include <algorithm>
#include <map>
#include <memory>
#include <ostream>

#include <gtest/gtest.h>

#include "crypto.h"
#include "file_meta.h"
#include "identity.h"
#include "names.h"
#include "sandbox.h"
#include "ticket.h"
#include "tracker_store_writes.h"
#include "tracker/tracker_service.h"
#include "tracker_fake_clock.h"

namespace gs::tracker {
namespace {

using test::FakeClock;

// Metadata of a made-up file: consistent, with piece hashes derived from `seed`.
FileMeta make_meta(uint64_t size, uint32_t piece_size = 16384, const std::string& seed = "x") {
  FileMeta m;
  m.size = size;
  m.piece_size = piece_size;
  const uint32_t n = FileMeta::pieces_for(size, piece_size);
  m.piece_hashes.reserve(n);
  for (uint32_t i = 0; i < n; ++i) m.piece_hashes.push_back(sha256(seed + std::to_string(i)));
  m.file_id = FileMeta::compute_id(size, piece_size, m.piece_hashes);
  return m;
}

::testing::AssertionResult is_error(const Json& a, const std::string& code, const std::string& fragment = "") {
  if (a.get_bool("ok") != false) return ::testing::AssertionFailure() << "not an error: " << a.dump().substr(0, 500);
  if (a.get_string("error") != code) return ::testing::AssertionFailure() << "expected " << code << ": " << a.dump();
  const auto msg = a.get_string("message");
  if (!msg || msg->empty()) return ::testing::AssertionFailure() << "no message: " << a.dump();
  if (msg->find(fragment) == std::string::npos) {
    return ::testing::AssertionFailure() << "message lacks '" << fragment << "': " << a.dump();
  }
  return ::testing::AssertionSuccess();
}

struct Peer {
  std::string user;
  std::string host;
  int64_t port;
  friend bool operator==(const Peer&, const Peer&) = default;
};

std::ostream& operator<<(std::ostream& os, const Peer& p) {
  return os << p.user << "@" << p.host << ":" << p.port;
}

class TrackerCatalogue : public ::testing::Test {
 protected:
  virtual void configure(ServiceConfig&) {}
  void SetUp() override {
    auto s = Store::open(sb_.path("tracker.db"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    ServiceConfig c;
    c.session_ttl = Seconds(20);
    c.kdf.log2_n = 10;
    configure(c);
    service_ = std::make_unique<Service>(*store_, clock_, c);

    alice_ = login("alice", "a1", 7001, "10.0.0.1");
    bob_ = login("bob", "b2", 7002, "10.0.0.2");
    carol_ = login("carol", "c3", 7003, "10.0.0.3");  // never a member of g
    ok(alice_, "create_group", {{"group", "g"}});
    admit("bob");
  }

  Json call(Json::Object request, const std::string& host = "192.0.2.1") {
    request.emplace_back("id", ++id_);
    Json answer = service_->handle(Json(std::move(request)), RequestContext{host, {}});
    EXPECT_EQ(answer.get_int("id"), id_) << answer.dump().substr(0, 300);
    return answer;
  }

  Json op(const std::string& token, const std::string& name, Json::Object fields = {},
          const std::string& host = "192.0.2.1") {
    Json::Object r{{"op", name}, {"token", token}};
    for (auto& f : fields) r.push_back(std::move(f));
    return call(std::move(r), host);
  }

  Json ok(const std::string& token, const std::string& name, Json::Object fields = {},
          const std::string& host = "192.0.2.1") {
    Json a = op(token, name, std::move(fields), host);
    EXPECT_EQ(a.get_bool("ok"), true) << name << ": " << a.dump().substr(0, 300);
    return a;
  }

  // Creates the user if needed and logs in from `host`; port 0: no port field.
  std::string login(const std::string& user, const std::string& seat, int port, const std::string& host) {
    if (!store_->password_hash(user)->has_value()) {
      EXPECT_EQ(call({{"op", "create_user"}, {"user", user}, {"password", "pw"}}).get_bool("ok"), true);
    }
    Json::Object r{{"op", "login"}, {"user", user}, {"password", "pw"}, {"seat", seat}};
    if (port != 0) r.emplace_back("port", port);
    const Json a = call(std::move(r), host);
    EXPECT_EQ(a.get_bool("ok"), true) << a.dump();
    return a.get_string("token").value_or("");
  }

  // `user` has asked to join g (straight into the store: we hold no token
  // of theirs here) and alice accepts.
  void admit(const std::string& user, const std::string& group = "g") {
    ASSERT_TRUE(writes::add_request(*store_, group, user, 0).ok());
    ok(alice_, "accept_request", {{"group", group}, {"user", user}});
  }

  static Json::Object share_fields(const std::string& name, const FileMeta& m, const std::string& group = "g") {
    return {{"group", group},
            {"name", name},
            {"size", static_cast<int64_t>(m.size)},
            {"piece_size", static_cast<int64_t>(m.piece_size)},
            {"hashes", m.hashes_hex()},
            {"file_id", m.file_id_hex()}};
  }

  Json share(const std::string& token, const std::string& name, const FileMeta& m,
             const std::string& host = "192.0.2.1") {
    return op(token, "share_file", share_fields(name, m), host);
  }

  // file_info's peers, sorted by user.
  std::vector<Peer> peers_seen_by(const std::string& token, const std::string& name) {
    const Json a = ok(token, "file_info", {{"group", "g"}, {"name", name}});
    std::vector<Peer> out;
    const Json* peers = a.find("peers");
    if (!peers || !peers->is_array()) {
      ADD_FAILURE() << "no peers: " << a.dump().substr(0, 300);
      return out;
    }
    for (const Json& p : peers->as_array()) {
      out.push_back(Peer{p.get_string("user").value_or("?"), p.get_string("host").value_or("?"),
                         p.get_int("port").value_or(-1)});
    }
    std::sort(out.begin(), out.end(), [](const Peer& a, const Peer& b) { return a.user < b.user; });
    return out;
  }

  // list_files' peer count of one file; -1 when it is not listed.
  int64_t listed_peers(const std::string& token, const std::string& name) {
    const Json a = ok(token, "list_files", {{"group", "g"}});
    for (const Json& f : a.find("files")->as_array()) {
      if (f.get_string("name") == name) return f.get_int("peers").value_or(-2);
    }
    return -1;
  }

  void heartbeat(const std::string& token) { ok(token, "heartbeat"); }

  test::Sandbox sb_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Service> service_;
  int64_t id_ = 0;
  std::string alice_, bob_, carol_;
};

const FileMeta kSmall = make_meta(100000, 16384, "small");
const FileMeta kOther = make_meta(5000, 16384, "other");

// --- sharing and looking -----------------------------------------------------

TEST_F(TrackerCatalogue, ShareThenListAndInfo) {
  EXPECT_EQ(share(alice_, "a.bin", kSmall, "10.0.0.1").get_bool("ok"), true);
  const Json list = ok(bob_, "list_files", {{"group", "g"}});
  EXPECT_EQ(*list.find("files"), Json(Json::Array{Json::Object{{"name", "a.bin"},
                                                               {"size", 100000},
                                                               {"file_id", kSmall.file_id_hex()},
                                                               {"peers", 1}}}));
  const Json info = ok(bob_, "file_info", {{"group", "g"}, {"name", "a.bin"}});
  EXPECT_EQ(info.get_string("name"), "a.bin");
  EXPECT_EQ(info.get_int("size"), 100000);
  EXPECT_EQ(info.get_int("piece_size"), 16384);
  EXPECT_EQ(info.get_string("hashes"), kSmall.hashes_hex());
  EXPECT_EQ(info.get_string("file_id"), kSmall.file_id_hex());
  EXPECT_EQ(peers_seen_by(bob_, "a.bin"), (std::vector<Peer>{{"alice", "10.0.0.1", 7001}}));
  // The metadata checks out on the receiving side too.
  auto back = FileMeta::from_parts(100000, 16384, *info.get_string("hashes"), *info.get_string("file_id"));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, kSmall);
  // Never the asker among the peers.
  EXPECT_TRUE(peers_seen_by(alice_, "a.bin").empty());
  EXPECT_EQ(listed_peers(alice_, "a.bin"), 1);
}

TEST_F(TrackerCatalogue, FileInfoHandsTheAskingDaemonATicketSignedByTheClusterKey) {
  EXPECT_EQ(share(alice_, "a.bin", kSmall, "10.0.0.1").get_bool("ok"), true);
  // No cluster key yet, or a plaintext link: no ticket.
  EXPECT_EQ(ok(bob_, "file_info", {{"group", "g"}, {"name", "a.bin"}}).get_string("ticket"), "");
  const auto cluster = Identity::ephemeral();
  ASSERT_TRUE(store_->apply(Write(SetClusterKey{to_hex(cluster->seed()), 0})).ok());
  EXPECT_EQ(ok(bob_, "file_info", {{"group", "g"}, {"name", "a.bin"}}).get_string("ticket"), "");

  const auto daemon = Identity::ephemeral();  // bob's gsd, as its TLS link proved
  for (bool peers_only : {false, true}) {
    const Json info = service_->handle(Json(Json::Object{{"id", 1},
                                                         {"op", "file_info"},
                                                         {"token", bob_},
                                                         {"group", "g"},
                                                         {"name", "a.bin"},
                                                         {"peers_only", peers_only}}),
                                       RequestContext{"10.0.0.2", daemon->public_key()});
    auto bytes = from_hex(info.get_string("ticket").value_or(""));
    ASSERT_TRUE(bytes.ok()) << info.dump().substr(0, 300);
    auto t = read_ticket(*bytes, cluster->public_key());
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(t->user, "bob");
    EXPECT_EQ(t->group, "g");
    EXPECT_EQ(to_hex(t->file_id), kSmall.file_id_hex());
    EXPECT_EQ(t->holder_key, daemon->public_key());
    EXPECT_EQ(t->expires, clock_.unix_seconds() + 300);
    EXPECT_TRUE(check_ticket(*t, t->file_id, daemon->public_key(), clock_.unix_seconds()));
  }
  // A non-member gets no file_info, so no ticket.
  EXPECT_TRUE(is_error(op(carol_, "file_info", {{"group", "g"}, {"name", "a.bin"}}), "not_member"));
}

TEST_F(TrackerCatalogue, FileInfoPeersOnlyLeavesOutTheMetadata) {
  EXPECT_EQ(share(alice_, "a.bin", kSmall, "10.0.0.1").get_bool("ok"), true);
  const Json info = ok(bob_, "file_info", {{"group", "g"}, {"name", "a.bin"}, {"peers_only", true}});
  EXPECT_EQ(info.get_string("file_id"), kSmall.file_id_hex());
  EXPECT_EQ(info.find("hashes"), nullptr);
  EXPECT_EQ(info.find("size"), nullptr);
  ASSERT_NE(info.find("peers"), nullptr);
  EXPECT_EQ(info.find("peers")->as_array().size(), 1u);
  // false is the full answer; anything but a boolean is a bad request.
  EXPECT_EQ(ok(bob_, "file_info", {{"group", "g"}, {"name", "a.bin"}, {"peers_only", false}})
                .get_string("hashes"),
            kSmall.hashes_hex());
  const Json bad = op(bob_, "file_info", {{"group", "g"}, {"name", "a.bin"}, {"peers_only", "yes"}});
  EXPECT_EQ(bad.get_string("error"), "bad_request");
}

TEST_F(TrackerCatalogue, AnEmptyGroupListsNoFilesAndAnEmptyFileCanBeShared) {
  EXPECT_EQ(*ok(bob_, "list_files", {{"group", "g"}}).find("files"), Json::array());
  const FileMeta empty = make_meta(0);
  EXPECT_EQ(share(bob_, "empty", empty).get_bool("ok"), true);
  const Json info = ok(alice_, "file_info", {{"group", "g"}, {"name", "empty"}});
  EXPECT_EQ(info.get_int("size"), 0);
  EXPECT_EQ(info.get_string("hashes"), "");
}

TEST_F(TrackerCatalogue, FilesAreListedByName) {
  share(alice_, "b", kSmall);
  share(alice_, "a", kOther);
  share(alice_, "C", kOther);
  const Json list = ok(bob_, "list_files", {{"group", "g"}});
  std::vector<std::string> names;
  for (const Json& f : list.find("files")->as_array()) names.push_back(*f.get_string("name"));
  EXPECT_EQ(names, (std::vector<std::string>{"C", "a", "b"}));
}

TEST_F(TrackerCatalogue, SameContentFromAnotherUserAddsASharer) {
  share(alice_, "a.bin", kSmall, "10.0.0.1");
  EXPECT_EQ(share(bob_, "a.bin", kSmall, "10.0.0.2").get_bool("ok"), true);
  EXPECT_EQ(*store_->sharers("g", "a.bin"), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(listed_peers(alice_, "a.bin"), 2);
  EXPECT_EQ(peers_seen_by(alice_, "a.bin"), (std::vector<Peer>{{"bob", "10.0.0.2", 7002}}));
  EXPECT_EQ(ok(bob_, "list_files", {{"group", "g"}}).find("files")->size(), 1u);
}

TEST_F(TrackerCatalogue, SharingAgainIsHarmless) {
  share(alice_, "a.bin", kSmall);
  EXPECT_EQ(share(alice_, "a.bin", kSmall).get_bool("ok"), true);
  EXPECT_EQ(*store_->sharers("g", "a.bin"), std::vector<std::string>{"alice"});
  EXPECT_EQ(listed_peers(bob_, "a.bin"), 1);
}

TEST_F(TrackerCatalogue, ANameTakenByOtherContentIsRefused) {
  share(alice_, "a.bin", kSmall);
  EXPECT_TRUE(is_error(share(bob_, "a.bin", kOther), "name_taken",
                       "a different file named 'a.bin' is already shared in 'g'"));
  EXPECT_TRUE(is_error(share(alice_, "a.bin", kOther), "name_taken"));
  EXPECT_EQ(*store_->sharers("g", "a.bin"), std::vector<std::string>{"alice"});
  EXPECT_EQ(ok(bob_, "file_info", {{"group", "g"}, {"name", "a.bin"}}).get_string("file_id"), kSmall.file_id_hex());
  // Names are compared byte for byte.
  EXPECT_EQ(share(bob_, "A.bin", kOther).get_bool("ok"), true);
}

TEST_F(TrackerCatalogue, NoSuchFile) {
  EXPECT_TRUE(is_error(op(bob_, "file_info", {{"group", "g"}, {"name", "nope"}}), "no_such_file",
                       "no file named 'nope' in 'g'"));
  EXPECT_TRUE(is_error(op(bob_, "stop_share", {{"group", "g"}, {"name", "nope"}}), "no_such_file",
                       "no file named 'nope' in 'g'"));
  EXPECT_TRUE(is_error(op(bob_, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}}), "no_such_file",
                       "no file with id " + kSmall.file_id_hex() + " in 'g'"));
  // A file of another group is not this group's.
  ok(carol_, "create_group", {{"group", "h"}});
  EXPECT_EQ(op(carol_, "share_file", share_fields("x", kSmall, "h")).get_bool("ok"), true);
  EXPECT_TRUE(is_error(op(bob_, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}}), "no_such_file"));
  EXPECT_TRUE(is_error(op(bob_, "file_info", {{"group", "g"}, {"name", "x"}}), "no_such_file"));
}

TEST_F(TrackerCatalogue, ControlCharactersInNamesAreRefusedNeverEchoed) {
  const std::string name = "evil\x1b[2J\n.txt";
  const Json a = share(alice_, name, kSmall);
  EXPECT_TRUE(is_error(a, "bad_request", "file name contains a control character (0x1b)"));
  EXPECT_EQ(a.get_string("message")->find('\x1b'), std::string::npos);
  EXPECT_EQ(a.get_string("message")->find("evil"), std::string::npos);
  EXPECT_EQ(ok(bob_, "list_files", {{"group", "g"}}).find("files")->size(), 0u);
  // Other odd bytes are names like any other, and come back as they are.
  const std::string odd = "quote\" back\\slash caf\xc3\xa9";
  EXPECT_EQ(share(alice_, odd, kSmall).get_bool("ok"), true);
  const Json b = share(bob_, odd, kOther);
  EXPECT_TRUE(is_error(b, "name_taken", "'" + odd + "'"));
  EXPECT_EQ(ok(bob_, "list_files", {{"group", "g"}}).find("files")->as_array().at(0).get_string("name"), odd);
}

// --- announce ----------------------------------------------------------------

TEST_F(TrackerCatalogue, AnnounceMakesADownloaderAPeer) {
  share(alice_, "a.bin", kSmall, "10.0.0.1");
  EXPECT_EQ(ok(bob_, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}}, "10.0.0.22").get_bool("ok"),
            true);
  EXPECT_EQ(listed_peers(alice_, "a.bin"), 2);
  EXPECT_EQ(peers_seen_by(alice_, "a.bin"), (std::vector<Peer>{{"bob", "10.0.0.22", 7002}}));
  // Announcing is not sharing: the catalogue's sharers are unchanged.
  EXPECT_EQ(*store_->sharers("g", "a.bin"), std::vector<std::string>{"alice"});
  EXPECT_TRUE(is_error(op(bob_, "stop_share", {{"group", "g"}, {"name", "a.bin"}}), "not_sharing",
                       "you are not sharing 'a.bin' in 'g'"));
  // Again, and with the id in capitals: still one entry.
  std::string upper = kSmall.file_id_hex();
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return static_cast<char>(toupper(c)); });
  ok(bob_, "announce", {{"group", "g"}, {"file_id", upper}});
  EXPECT_EQ(listed_peers(alice_, "a.bin"), 2);
}

// --- stop_share --------------------------------------------------------------

TEST_F(TrackerCatalogue, StopShareLeavesOtherSharers) {
  share(alice_, "a.bin", kSmall);
  share(bob_, "a.bin", kSmall);
  ok(alice_, "stop_share", {{"group", "g"}, {"name", "a.bin"}});
  EXPECT_EQ(*store_->sharers("g", "a.bin"), std::vector<std::string>{"bob"});
  EXPECT_EQ(listed_peers(bob_, "a.bin"), 1);
  EXPECT_TRUE(peers_seen_by(bob_, "a.bin").empty());  // alice left the peers
  EXPECT_TRUE(is_error(op(alice_, "stop_share", {{"group", "g"}, {"name", "a.bin"}}), "not_sharing"));
}

TEST_F(TrackerCatalogue, TheLastSharerStoppingRemovesTheFile) {
  share(alice_, "a.bin", kSmall);
  ok(bob_, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}});  // a partial peer
  ok(alice_, "stop_share", {{"group", "g"}, {"name", "a.bin"}});
  EXPECT_EQ(*ok(bob_, "list_files", {{"group", "g"}}).find("files"), Json::array());
  EXPECT_TRUE(is_error(op(bob_, "file_info", {{"group", "g"}, {"name", "a.bin"}}), "no_such_file"));
  EXPECT_TRUE(is_error(op(bob_, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}}), "no_such_file"));
  // Its peer set went with it, partial peers included.
  EXPECT_EQ(service_->live_peers().entries(), 0u);
  // The name is free again, for any content.
  EXPECT_EQ(share(bob_, "a.bin", kOther).get_bool("ok"), true);
  EXPECT_EQ(listed_peers(alice_, "a.bin"), 1);
}

TEST_F(TrackerCatalogue, SameContentUnderTwoNamesKeepsItsPeersWhileOneNameRemains) {
  share(alice_, "a.bin", kSmall);
  share(alice_, "copy.bin", kSmall);
  ok(alice_, "stop_share", {{"group", "g"}, {"name", "a.bin"}});
  // alice still shares the content as copy.bin, so she still serves it.
  EXPECT_EQ(peers_seen_by(bob_, "copy.bin"), (std::vector<Peer>{{"alice", "192.0.2.1", 7001}}));
  share(bob_, "b.bin", kOther);
  share(bob_, "b2.bin", kOther);
  share(alice_, "b2.bin", kOther);
  ok(bob_, "stop_share", {{"group", "g"}, {"name", "b.bin"}});
  EXPECT_EQ(listed_peers(alice_, "b2.bin"), 2);
  ok(bob_, "stop_share", {{"group", "g"}, {"name", "b2.bin"}});
  EXPECT_EQ(listed_peers(alice_, "b2.bin"), 1);
}

// --- membership --------------------------------------------------------------

TEST_F(TrackerCatalogue, EveryFileOpIsForMembersOnly) {
  share(alice_, "a.bin", kSmall);
  ok(carol_, "join_group", {{"group", "g"}});  // a pending request is not membership
  const std::vector<std::pair<std::string, Json::Object>> ops = {
      {"share_file", share_fields("c.bin", kOther)},
      {"list_files", {{"group", "g"}}},
      {"file_info", {{"group", "g"}, {"name", "a.bin"}}},
      {"announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}}},
      {"stop_share", {{"group", "g"}, {"name", "a.bin"}}},
  };
  for (const auto& [name, fields] : ops) {
    EXPECT_TRUE(is_error(op(carol_, name, fields), "not_member", "you are not a member of 'g'")) << name;
    Json::Object other = fields;
    for (auto& [k, v] : other) {
      if (k == "group") v = "nogroup";
    }
    EXPECT_TRUE(is_error(op(carol_, name, other), "no_such_group", "no such group 'nogroup'")) << name;
  }
  EXPECT_EQ(service_->live_peers().entries(), 1u);  // carol got into no peer set
  EXPECT_FALSE(store_->file("g", "c.bin")->has_value());
}

TEST_F(TrackerCatalogue, EveryFileOpWantsASession) {
  const std::string unknown(64, '0');
  for (const auto& [name, fields] : std::vector<std::pair<std::string, Json::Object>>{
           {"share_file", share_fields("a.bin", kSmall)},
           {"list_files", {{"group", "g"}}},
           {"file_info", {{"group", "g"}, {"name", "a.bin"}}},
           {"announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}}},
           {"stop_share", {{"group", "g"}, {"name", "a.bin"}}}}) {
    EXPECT_TRUE(is_error(op(unknown, name, fields), "not_logged_in")) << name;
  }
}

TEST_F(TrackerCatalogue, LeavingAGroupEndsTheLeaversShares) {
  share(alice_, "both.bin", kSmall);
  share(bob_, "both.bin", kSmall);
  share(bob_, "bobs.bin", kOther);
  admit("carol");
  ok(carol_, "announce", {{"group", "g"}, {"file_id", kOther.file_id_hex()}});
  const Json out = ok(bob_, "leave_group", {{"group", "g"}});
  EXPECT_EQ(out.get_bool("deleted"), false);

  EXPECT_EQ(*store_->sharers("g", "both.bin"), std::vector<std::string>{"alice"});
  EXPECT_EQ(peers_seen_by(carol_, "both.bin"), (std::vector<Peer>{{"alice", "192.0.2.1", 7001}}));
  // bobs.bin had no other sharer: gone, with carol's partial-peer entry.
  EXPECT_TRUE(is_error(op(carol_, "file_info", {{"group", "g"}, {"name", "bobs.bin"}}), "no_such_file"));
  EXPECT_EQ(ok(alice_, "list_files", {{"group", "g"}}).find("files")->size(), 1u);
  EXPECT_EQ(service_->live_peers().entries(), 1u);
  EXPECT_TRUE(is_error(op(bob_, "list_files", {{"group", "g"}}), "not_member"));
}

TEST_F(TrackerCatalogue, ALeaverWhoOnlyAnnouncedLeavesThePeers) {
  share(alice_, "a.bin", kSmall);
  ok(bob_, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}});
  ok(bob_, "leave_group", {{"group", "g"}});
  admit("carol");
  EXPECT_EQ(peers_seen_by(carol_, "a.bin"), (std::vector<Peer>{{"alice", "192.0.2.1", 7001}}));
}

TEST_F(TrackerCatalogue, DeletingAGroupDeletesItsFiles) {
  share(alice_, "a.bin", kSmall);
  share(bob_, "b.bin", kOther);
  ok(bob_, "leave_group", {{"group", "g"}});
  const Json out = ok(alice_, "leave_group", {{"group", "g"}});
  EXPECT_EQ(out.get_bool("deleted"), true);
  EXPECT_EQ(service_->live_peers().entries(), 0u);
  ok(carol_, "create_group", {{"group", "g"}});
  EXPECT_EQ(*ok(carol_, "list_files", {{"group", "g"}}).find("files"), Json::array());
  EXPECT_TRUE(is_error(op(carol_, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}}), "no_such_file"));
}

// --- sessions and live peers -------------------------------------------------

TEST_F(TrackerCatalogue, LoggedOutSessionsAreNotPeers) {
  share(alice_, "a.bin", kSmall);
  share(bob_, "a.bin", kSmall);
  ok(bob_, "logout");
  EXPECT_TRUE(peers_seen_by(alice_, "a.bin").empty());
  EXPECT_EQ(listed_peers(alice_, "a.bin"), 1);
  // bob is still a durable sharer: the file stays, and his next session is
  // a peer once his daemon announces.
  EXPECT_EQ(*store_->sharers("g", "a.bin"), (std::vector<std::string>{"alice", "bob"}));
  const std::string bob2 = login("bob", "b2", 7102, "10.0.0.2");
  EXPECT_TRUE(peers_seen_by(alice_, "a.bin").empty());
  ok(bob2, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}}, "10.0.0.2");
  EXPECT_EQ(peers_seen_by(alice_, "a.bin"), (std::vector<Peer>{{"bob", "10.0.0.2", 7102}}));
}

TEST_F(TrackerCatalogue, ASessionReplacedByALoginIsNoLongerAPeer) {
  share(bob_, "a.bin", kSmall);
  login("bob", "b2", 7002, "10.0.0.2");  // same seat: the old session ends
  EXPECT_EQ(listed_peers(alice_, "a.bin"), 0);
  EXPECT_EQ(service_->live_peers().entries(), 0u);
}

TEST_F(TrackerCatalogue, ExpiredSessionsAreNotListedAndArePruned) {
  share(alice_, "a.bin", kSmall);
  share(bob_, "a.bin", kSmall);
  admit("carol");
  ok(carol_, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}});
  // Past the grace period, alice and carol keep talking; bob goes quiet.
  for (int i = 0; i < 3; ++i) {
    clock_.advance(Seconds(10));
    heartbeat(alice_);
    heartbeat(carol_);
  }
  EXPECT_EQ(peers_seen_by(alice_, "a.bin"), (std::vector<Peer>{{"carol", "192.0.2.1", 7003}}));
  EXPECT_EQ(listed_peers(carol_, "a.bin"), 2);
  EXPECT_EQ(service_->live_peers().entries(), 2u);
  // The durable catalogue is untouched by liveness.
  EXPECT_EQ(*store_->sharers("g", "a.bin"), (std::vector<std::string>{"alice", "bob"}));
  // A resume revives the session, not its peer entries: the daemon announces again.
  const Json r = call({{"op", "resume"}, {"token", bob_}, {"seat", "b2"}, {"port", 7002}}, "10.0.0.2");
  EXPECT_EQ(r.get_bool("ok"), true) << r.dump();
  EXPECT_EQ(listed_peers(carol_, "a.bin"), 2);
  ok(bob_, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}}, "10.0.0.2");
  EXPECT_EQ(listed_peers(carol_, "a.bin"), 3);
}

TEST_F(TrackerCatalogue, QuietSessionsArePrunedEvenIfNobodyAsks) {
  share(bob_, "a.bin", kSmall);
  EXPECT_EQ(service_->live_peers().entries(), 1u);
  for (int i = 0; i < 6; ++i) {
    clock_.advance(Seconds(10));
    heartbeat(alice_);
  }
  EXPECT_EQ(service_->live_peers().entries(), 0u);
  EXPECT_LE(service_->live_peers().sessions(), 1u);  // only alice's
}

TEST_F(TrackerCatalogue, ASessionWithoutAPortIsNeverListed) {
  const std::string dave = login("dave", "d4", 0, "10.0.0.4");
  admit("dave");
  EXPECT_EQ(share(dave, "d.bin", kSmall).get_bool("ok"), true);
  EXPECT_TRUE(peers_seen_by(alice_, "d.bin").empty());
  EXPECT_EQ(listed_peers(alice_, "d.bin"), 0);
  // Resuming with a port makes the same session listable.
  const Json r = call({{"op", "resume"}, {"token", dave}, {"seat", "d4"}, {"port", 7004}}, "10.0.0.4");
  EXPECT_EQ(r.get_bool("ok"), true) << r.dump();
  EXPECT_EQ(peers_seen_by(alice_, "d.bin"), (std::vector<Peer>{{"dave", "10.0.0.4", 7004}}));
  // And resuming without one takes it away again.
  call({{"op", "resume"}, {"token", dave}, {"seat", "d4"}}, "10.0.0.4");
  EXPECT_EQ(listed_peers(alice_, "d.bin"), 0);
}

TEST_F(TrackerCatalogue, ThePeersHostIsWhereItsRequestsComeFrom) {
  share(bob_, "a.bin", kSmall, "2001:db8::2");
  EXPECT_EQ(peers_seen_by(alice_, "a.bin"), (std::vector<Peer>{{"bob", "2001:db8::2", 7002}}));
  ok(bob_, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}}, "198.51.100.7");
  EXPECT_EQ(peers_seen_by(alice_, "a.bin"), (std::vector<Peer>{{"bob", "198.51.100.7", 7002}}));
}

// --- big files ---------------------------------------------------------------

TEST_F(TrackerCatalogue, FileInfoOfA4GiBFileFitsInOneFrameWithManyPeers) {
  const FileMeta big = make_meta(uint64_t{4} << 30, 512 * 1024, "big");
  ASSERT_EQ(big.piece_count(), 8192u);
  ASSERT_EQ(share(alice_, "big.iso", big).get_bool("ok"), true);
  // More peers than one answer lists, with the longest names and hosts.
  for (size_t i = 0; i < kMaxListedPeers + 5; ++i) {
    std::string name = std::to_string(i);
    name = std::string(kMaxNameLength - name.size(), 'p') + name;
    const std::string token = login(name, "e5", 65535, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
    admit(name);
    ok(token, "announce", {{"group", "g"}, {"file_id", big.file_id_hex()}},
       "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
  }
  const Json info = ok(bob_, "file_info", {{"group", "g"}, {"name", "big.iso"}});
  EXPECT_EQ(info.find("peers")->size(), kMaxListedPeers);
  EXPECT_EQ(info.get_string("hashes")->size(), 8192u * 64);
  EXPECT_LE(info.dump().size(), kTrackerMaxFrame);
  EXPECT_EQ(listed_peers(bob_, "big.iso"), static_cast<int64_t>(kMaxListedPeers + 6));
}

// tracker.max_peers_per_answer
class TrackerCatalogueFewPeers : public TrackerCatalogue {
 protected:
  void configure(ServiceConfig& c) override { c.max_listed_peers = 3; }
};

TEST_F(TrackerCatalogueFewPeers, FileInfoListsAtMostMaxListedPeers) {
  ASSERT_EQ(share(alice_, "a.bin", kSmall).get_bool("ok"), true);
  for (int i = 0; i < 6; ++i) {
    const std::string name = "peer" + std::to_string(i);
    const std::string token = login(name, "e" + std::to_string(i), 8000 + i, "10.0.1." + std::to_string(i));
    admit(name);
    ok(token, "announce", {{"group", "g"}, {"file_id", kSmall.file_id_hex()}}, "10.0.1." + std::to_string(i));
  }
  EXPECT_EQ(ok(bob_, "file_info", {{"group", "g"}, {"name", "a.bin"}}).find("peers")->size(), 3u);
  EXPECT_EQ(ok(bob_, "file_info", {{"group", "g"}, {"name", "a.bin"}, {"peers_only", true}}).find("peers")->size(),
            3u);
  EXPECT_EQ(listed_peers(bob_, "a.bin"), 7);  // list_files still counts every one
}

TEST_F(TrackerCatalogue, TheLargestShareableFileStillFitsAndOneMorePieceIsRefused) {
  // The most a valid name takes in JSON: 3 bytes a byte (one that is not
  // UTF-8 goes out as U+FFFD). Control characters, 6 bytes each, are refused.
  const std::string longest_name(kMaxFileNameLength, '\xff');
  const FileMeta most = make_meta(uint64_t{kMaxCataloguePieces} * 16384, 16384, "most");
  ASSERT_EQ(share(alice_, longest_name, most).get_bool("ok"), true);
  const Json info = ok(bob_, "file_info", {{"group", "g"}, {"name", longest_name}});
  EXPECT_LE(info.dump().size() + kMaxListedPeers * 160, kTrackerMaxFrame);  // room for a full peer list
  const FileMeta over = make_meta(uint64_t{kMaxCataloguePieces} * 16384 + 1, 16384, "over");
  EXPECT_TRUE(is_error(share(alice_, "over", over), "bad_request", "larger piece size"));
}

// --- malformed requests ------------------------------------------------------

TEST_F(TrackerCatalogue, EveryMissingOrMistypedFieldIsNamed) {
  const std::map<std::string, Json::Object> cases = {
      {"share_file", [] {
         Json::Object f{{"token", ""}};
         for (auto& kv : share_fields("a.bin", kSmall)) f.push_back(kv);
         return f;
       }()},
      {"list_files", {{"token", ""}, {"group", "g"}}},
      {"file_info", {{"token", ""}, {"group", "g"}, {"name", "a.bin"}}},
      {"announce", {{"token", ""}, {"group", "g"}, {"file_id", kSmall.file_id_hex()}}},
      {"stop_share", {{"token", ""}, {"group", "g"}, {"name", "a.bin"}}},
  };
  for (const auto& [name, fields] : cases) {
    for (const auto& [missing, good] : fields) {
      std::vector<Json> bads = {Json(), Json(true), Json(Json::Array{"x"}), Json(Json::Object{{"a", 1}}), Json(1.5)};
      if (good.is_string()) bads.push_back(Json(5));
      else bads.push_back(Json("5"));
      for (const Json& bad : bads) {
        Json::Object r{{"op", name}};
        for (const auto& [k, v] : fields) {
          if (k != missing) r.emplace_back(k, k == "token" ? Json(alice_) : v);
        }
        if (!bad.is_null()) r.emplace_back(missing, bad);  // null here means: leave it out
        EXPECT_TRUE(is_error(call(std::move(r)), "bad_request", "'" + missing + "'"))
            << name << " " << missing << " " << bad.dump();
      }
    }
  }
  EXPECT_EQ(ok(alice_, "list_files", {{"group", "g"}}).find("files")->size(), 0u);
}

TEST_F(TrackerCatalogue, BadFileNamesAreRefused) {
  for (const std::string& bad : {std::string(), std::string("a/b"), std::string("/"), std::string("."),
                                 std::string(".."), std::string("../x"), std::string("a\0b", 3),
                                 std::string("a\nb"), std::string("\x1b[2J"), std::string("x\x7f"),
                                 std::string(kMaxFileNameLength + 1, 'n')}) {
    EXPECT_TRUE(is_error(share(alice_, bad, kSmall), "bad_request", "'name' is not a valid file name"));
    EXPECT_TRUE(is_error(op(alice_, "file_info", {{"group", "g"}, {"name", bad}}), "bad_request", "'name'"));
    EXPECT_TRUE(is_error(op(alice_, "stop_share", {{"group", "g"}, {"name", bad}}), "bad_request", "'name'"));
  }
  for (const std::string& fine : {std::string("..."), std::string(".hidden"), std::string("a b"),
                                  std::string("caf\xc3\xa9"), std::string(kMaxFileNameLength, 'n')}) {
    EXPECT_EQ(share(alice_, fine, kSmall).get_bool("ok"), true) << fine;
  }
  EXPECT_TRUE(is_error(op(alice_, "list_files", {{"group", "no/group"}}), "bad_request", "not a valid group name"));
}

// The refusal says what is wrong, never echoing the name itself.
TEST_F(TrackerCatalogue, BadFileNameRefusalsSayWhy) {
  const Json a = share(alice_, "evil\nname", kSmall);
  EXPECT_TRUE(is_error(a, "bad_request",
                       "field 'name' is not a valid file name: file name contains a control character (0x0a)"));
  EXPECT_EQ(a.get_string("message")->find("evil"), std::string::npos);
  EXPECT_TRUE(is_error(op(alice_, "file_info", {{"group", "g"}, {"name", "../x"}}), "bad_request",
                       "file name contains '/'"));
  EXPECT_TRUE(is_error(op(alice_, "stop_share", {{"group", "g"}, {"name", ".."}}), "bad_request",
                       "file name is '..'"));
}

// A name stored before control characters were refused is left out of
// list_files: no client could ask for it, and gsd would refuse the list.
TEST_F(TrackerCatalogue, StoredNamesNoLongerValidAreLeftOutOfTheList) {
  ASSERT_EQ(share(alice_, "good.bin", kSmall).get_bool("ok"), true);
  FileRecord old;
  old.group = "g";
  old.name = "old\nname";
  const FileMeta m = make_meta(1000, 16384, "old");
  old.file_id = m.file_id_hex();
  old.size = static_cast<int64_t>(m.size);
  old.piece_size = m.piece_size;
  old.hashes = m.hashes_hex();
  ASSERT_TRUE(writes::share_file(*store_, old, "alice", 0).ok());
  const Json a = ok(bob_, "list_files", {{"group", "g"}});
  ASSERT_EQ(a.find("files")->size(), 1u) << a.dump();
  EXPECT_EQ(a.find("files")->as_array()[0].get_string("name"), "good.bin");
}

TEST_F(TrackerCatalogue, InconsistentMetadataIsABadRequest) {
  const auto with = [&](const std::string& key, Json value) {
    Json::Object f = share_fields("a.bin", kSmall);
    for (auto& [k, v] : f) {
      if (k == key) v = value;
    }
    return op(alice_, "share_file", std::move(f));
  };
  std::string hashes = kSmall.hashes_hex();
  const std::string id = kSmall.file_id_hex();
  EXPECT_TRUE(is_error(with("size", -1), "bad_request", "'size'"));
  EXPECT_TRUE(is_error(with("size", 100001), "bad_request", "file id does not match"));  // same piece count
  EXPECT_TRUE(
      is_error(with("size", 7 * 16384 + 1), "bad_request", "inconsistent file metadata: expected 8 piece hashes"));
  EXPECT_TRUE(is_error(with("size", int64_t{1} << 60), "bad_request", "above the limit"));
  EXPECT_TRUE(is_error(with("piece_size", 0), "bad_request", "'piece_size'"));
  EXPECT_TRUE(is_error(with("piece_size", int64_t{1} << 40), "bad_request", "'piece_size'"));
  EXPECT_TRUE(is_error(with("piece_size", 16385), "bad_request", "not a power of two"));
  EXPECT_TRUE(is_error(with("piece_size", 32768), "bad_request", "piece hashes"));
  EXPECT_TRUE(is_error(with("hashes", hashes.substr(64)), "bad_request", "piece hashes"));
  EXPECT_TRUE(is_error(with("hashes", hashes + "0"), "bad_request", "piece hashes"));
  EXPECT_TRUE(is_error(with("hashes", std::string(hashes.size(), 'z')), "bad_request", "not valid hex"));
  std::string flipped = hashes;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  EXPECT_TRUE(is_error(with("hashes", flipped), "bad_request", "file id does not match"));
  EXPECT_TRUE(is_error(with("file_id", id.substr(2)), "bad_request", "file id must be 64 hex digits"));
  EXPECT_TRUE(is_error(with("file_id", std::string(64, 'g')), "bad_request", "file id is not valid hex"));
  EXPECT_TRUE(is_error(with("file_id", std::string(64, '0')), "bad_request", "file id does not match"));
  EXPECT_FALSE(store_->file("g", "a.bin")->has_value());
  EXPECT_EQ(service_->live_peers().entries(), 0u);
}

TEST_F(TrackerCatalogue, UppercaseHexIsStoredInLowercase) {
  std::string hashes = kSmall.hashes_hex();
  std::string id = kSmall.file_id_hex();
  for (std::string* s : {&hashes, &id}) {
    std::transform(s->begin(), s->end(), s->begin(), [](char c) { return static_cast<char>(toupper(c)); });
  }
  Json::Object f = share_fields("a.bin", kSmall);
  for (auto& [k, v] : f) {
    if (k == "hashes") v = hashes;
    if (k == "file_id") v = id;
  }
  ok(alice_, "share_file", std::move(f));
  const Json info = ok(bob_, "file_info", {{"group", "g"}, {"name", "a.bin"}});
  EXPECT_EQ(info.get_string("file_id"), kSmall.file_id_hex());
  EXPECT_EQ(info.get_string("hashes"), kSmall.hashes_hex());
  EXPECT_EQ(share(bob_, "a.bin", kSmall).get_bool("ok"), true);  // same content, whatever the case
}

TEST_F(TrackerCatalogue, BadFileIdsInAnnounce) {
  share(alice_, "a.bin", kSmall);
  for (const Json& bad : {Json(""), Json(std::string(63, 'a')), Json(std::string(65, 'a')),
                          Json(std::string(64, 'g')), Json(std::string(64, ' '))}) {
    EXPECT_TRUE(is_error(op(bob_, "announce", {{"group", "g"}, {"file_id", bad}}), "bad_request",
                         "'file_id' must be a file id (64 hex digits)"))
        << bad.dump();
  }
}

TEST_F(TrackerCatalogue, ThePortOfLoginAndResumeIsValidated) {
  for (const Json& bad : {Json(0), Json(-1), Json(65536), Json("7000"), Json(7000.0), Json(nullptr), Json(true)}) {
    const Json a = call({{"op", "login"}, {"user", "bob"}, {"password", "pw"}, {"seat", "b2"}, {"port", bad}});
    EXPECT_TRUE(is_error(a, "bad_request", "field 'port' must be a port number (1-65535)")) << bad.dump();
    const Json r = call({{"op", "resume"}, {"token", bob_}, {"seat", "b2"}, {"port", bad}});
    EXPECT_TRUE(is_error(r, "bad_request", "'port'")) << bad.dump();
  }
  // The refused requests changed nothing: bob's session goes on.
  heartbeat(bob_);
  for (const int port : {1, 65535}) {
    EXPECT_EQ(call({{"op", "resume"}, {"token", bob_}, {"seat", "b2"}, {"port", port}}).get_bool("ok"), true);
  }
}

}  // namespace
}  // namespace gs::tracker
