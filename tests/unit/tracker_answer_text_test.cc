// Service::handle_to_text(), what the server sends: the same text as
// handle().dump() for every answer, though file_info's peer list is spliced
// in from entries encoded ahead of time.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "crypto.h"
#include "file_meta.h"
#include "sandbox.h"
#include "tracker_store_writes.h"
#include "tracker/tracker_service.h"
#include "tracker_fake_clock.h"

namespace gs::tracker {
namespace {

FileMeta one_piece(const std::string& seed) {
  FileMeta m;
  m.size = 1000;
  m.piece_size = 16384;
  m.piece_hashes = {sha256(seed)};
  m.file_id = FileMeta::compute_id(m.size, m.piece_size, m.piece_hashes);
  return m;
}

// A file_info answer with its peers in a fixed order, so that two answers
// that list the same peers in different (random) orders compare equal.
Json sorted_peers(Json answer) {
  for (auto& [key, value] : answer.as_object()) {
    if (key != "peers") continue;
    std::sort(value.as_array().begin(), value.as_array().end(),
              [](const Json& a, const Json& b) { return a.dump() < b.dump(); });
  }
  return answer;
}

class TrackerAnswerText : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::open(sb_.path("tracker.db"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    ServiceConfig c;
    c.kdf.log2_n = 10;
    service_ = std::make_unique<Service>(*store_, clock_, c);
  }

  Json request(Json::Object fields) {
    fields.emplace_back("id", ++id_);
    return Json(std::move(fields));
  }

  Json call(Json::Object fields, const std::string& host = "192.0.2.1") {
    return service_->handle(request(std::move(fields)), RequestContext{host, {}});
  }

  // Logs `user` in from `host`, a member of g (created by the first user).
  std::string join(const std::string& user, const std::string& host, int port) {
    EXPECT_EQ(call({{"op", "create_user"}, {"user", user}, {"password", "pw"}}).get_bool("ok"),
              true);
    const Json a = call(
        {{"op", "login"}, {"user", user}, {"password", "pw"}, {"seat", "5ea7"}, {"port", port}},
        host);
    const std::string token = a.get_string("token").value_or("");
    if (owner_.empty()) {
      owner_ = token;
      EXPECT_EQ(call({{"op", "create_group"}, {"token", token}, {"group", "g"}}).get_bool("ok"),
                true);
    } else {
      EXPECT_TRUE(writes::add_request(*store_, "g", user, 0).ok());
      EXPECT_EQ(call({{"op", "accept_request"}, {"token", owner_}, {"group", "g"}, {"user", user}})
                    .get_bool("ok"),
                true);
    }
    return token;
  }

  void share(const std::string& token, const std::string& name, const FileMeta& m,
             const std::string& host) {
    const Json a = call({{"op", "share_file"},
                         {"token", token},
                         {"group", "g"},
                         {"name", name},
                         {"size", static_cast<int64_t>(m.size)},
                         {"piece_size", static_cast<int64_t>(m.piece_size)},
                         {"hashes", m.hashes_hex()},
                         {"file_id", m.file_id_hex()}},
                        host);
    EXPECT_EQ(a.get_bool("ok"), true) << a.dump();
  }

  // handle_to_text() of `fields` is the text Json::dump() writes, for the
  // answer handle() gives to the same request (peers in any order).
  void expect_same_answer(const Json::Object& fields) {
    const Json req = request(fields);
    const std::string text = service_->handle_to_text(req);
    const Json direct = service_->handle(req);
    auto parsed = Json::parse(text);
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(parsed->dump(), text) << "not what Json::dump() writes";
    // Compared as text: a host that is not valid UTF-8 is a different
    // value from its U+FFFD-replaced reading, though both encode alike.
    EXPECT_EQ(sorted_peers(*parsed).dump(), sorted_peers(direct).dump());
  }

  test::Sandbox sb_;
  test::FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Service> service_;
  int64_t id_ = 0;
  std::string owner_;
};

TEST_F(TrackerAnswerText, FileInfoListsTheSamePeersAsHandle) {
  const std::string alice = join("alice", "10.0.0.1", 7001);
  const FileMeta m = one_piece("a");
  share(alice, "a.bin", m, "10.0.0.1");
  // Hosts are whatever the connection said; odd ones must be escaped alike.
  const char* const hosts[] = {"10.0.0.2", "::1", "h\"q\\", "tab\there", "\x01\x7f", "bad\xff\xfe"};
  int port = 7002;
  std::vector<std::string> tokens;
  for (const char* host : hosts) {
    const std::string user = "user" + std::to_string(port);
    tokens.push_back(join(user, host, port++));
    EXPECT_EQ(call({{"op", "announce"},
                    {"token", tokens.back()},
                    {"group", "g"},
                    {"file_id", m.file_id_hex()}},
                   host)
                  .get_bool("ok"),
              true);
  }
  expect_same_answer({{"op", "file_info"}, {"token", alice}, {"group", "g"}, {"name", "a.bin"}});
  expect_same_answer(
      {{"op", "file_info"}, {"token", tokens[2]}, {"group", "g"}, {"name", "a.bin"}});

  // A peer whose daemon moved is listed at its new host.
  EXPECT_EQ(
      call({{"op", "announce"}, {"token", tokens[0]}, {"group", "g"}, {"file_id", m.file_id_hex()}},
           "10.9.9.9")
          .get_bool("ok"),
      true);
  const Json req =
      request({{"op", "file_info"}, {"token", alice}, {"group", "g"}, {"name", "a.bin"}});
  EXPECT_NE(service_->handle_to_text(req).find("\"host\":\"10.9.9.9\""), std::string::npos);
  expect_same_answer({{"op", "file_info"}, {"token", alice}, {"group", "g"}, {"name", "a.bin"}});
  // peers_only: the same peers, spliced the same way, without the metadata.
  const Json::Object peers_only{
      {"op", "file_info"}, {"token", alice}, {"group", "g"}, {"name", "a.bin"}, {"peers_only", true}};
  expect_same_answer(peers_only);
  const std::string text = service_->handle_to_text(request(peers_only));
  EXPECT_EQ(text.find("\"hashes\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"file_id\":\"" + m.file_id_hex() + "\""), std::string::npos) << text;
}

TEST_F(TrackerAnswerText, FileInfoWithNoOtherPeerAndAnOddName) {
  const std::string alice = join("alice", "10.0.0.1", 7001);
  const std::string odd = "no\\break \"quoted\" \xff caf\xc3\xa9";  // escaped, replaced, kept
  share(alice, odd, one_piece("odd"), "10.0.0.1");
  const Json req = request({{"op", "file_info"}, {"token", alice}, {"group", "g"}, {"name", odd}});
  const std::string text = service_->handle_to_text(req);
  EXPECT_TRUE(text.ends_with("\"peers\":[]}")) << text;
  expect_same_answer({{"op", "file_info"}, {"token", alice}, {"group", "g"}, {"name", odd}});
}

TEST_F(TrackerAnswerText, EveryOtherAnswerIsHandleDumped) {
  const std::string alice = join("alice", "10.0.0.1", 7001);
  share(alice, "a.bin", one_piece("a"), "10.0.0.1");
  const Json::Object requests[] = {
      {{"op", "list_files"}, {"token", alice}, {"group", "g"}},
      {{"op", "list_groups"}, {"token", alice}},
      {{"op", "file_info"}, {"token", alice}, {"group", "g"}, {"name", "nope"}},
      {{"op", "file_info"}, {"token", alice}, {"group", "nope"}, {"name", "a.bin"}},
      {{"op", "file_info"}, {"token", std::string(64, 'a')}, {"group", "g"}, {"name", "a.bin"}},
      {{"op", "file_info"}, {"token", alice}, {"group", "g"}},
      {{"op", "no_such_op"}},
  };
  for (const Json::Object& fields : requests) {
    const Json req = request(fields);
    EXPECT_EQ(service_->handle_to_text(req), service_->handle(req).dump());
  }
  // No usable id: the answer's id is null either way.
  for (const Json& req : {Json(Json::Object{{"op", "list_groups"}}),
                          Json(Json::Object{{"id", "7"}, {"op", "file_info"}})}) {
    EXPECT_EQ(service_->handle_to_text(req), service_->handle(req).dump());
  }
}

}  // namespace
}  // namespace gs::tracker
