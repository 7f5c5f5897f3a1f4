// A tracker for tests of the daemon's tracker links: a real listener on
// loopback that does the handshake and hands every request to a script.
// What its hello says about the cluster (role, primary, epoch) is up to the
// test, and so is every answer.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "framed_conn.h"
#include "json.h"
#include "names.h"

namespace gs::test {

class FakeTrackerServer {
 public:
  using Script = std::function<void(FakeTrackerServer&, FramedConn&, const Json&)>;

  FakeTrackerServer(event_base* base, Script script) : base_(base), script_(std::move(script)) {
    auto l =
        Listener::open(base, Endpoint{"127.0.0.1", 0},
                       [this](evutil_socket_t fd, const std::string& peer) { accept(fd, peer); });
    EXPECT_TRUE(l.ok());
    listener_.reset(*l);
    port_ = listener_->port();
    hello_fields["role"] = "primary";
    hello_fields["epoch"] = 1;
  }
  ~FakeTrackerServer() { close_all(); }
  FakeTrackerServer(const FakeTrackerServer&) = delete;
  FakeTrackerServer& operator=(const FakeTrackerServer&) = delete;

  Endpoint endpoint() const { return Endpoint{"127.0.0.1", port_}; }
  void close_all() {
    const auto copy = conns_;
    for (FramedConn* c : copy) c->close("test closes");
  }
  void stop_listening() { listener_.reset(); }

  // What the cluster looks like to this tracker, as its hello says it.
  void be(const std::string& role, Json primary, int64_t epoch) {
    hello_fields = Json::object();
    hello_fields["role"] = role;
    hello_fields["primary"] = std::move(primary);
    hello_fields["epoch"] = epoch;
  }
  // A tracker from before the cluster: no role, primary or epoch.
  void be_old() { hello_fields = Json::object(); }

  static void answer(FramedConn& c, const Json& req, Json fields = Json::object()) {
    fields["id"] = *req.get_int("id");
    fields["ok"] = true;
    c.send(fields.dump());
  }
  static void refuse(FramedConn& c, const Json& req, const std::string& code) {
    Json a = Json::object();
    a["id"] = *req.get_int("id");
    a["ok"] = false;
    a["error"] = code;
    a["message"] = "refused: " + code;
    c.send(a.dump());
  }
  // {"ok":false,"error":"not_primary","primary":P} with P 1-based, or null.
  static void not_primary(FramedConn& c, const Json& req, Json primary) {
    Json a = Json::object();
    a["id"] = *req.get_int("id");
    a["ok"] = false;
    a["error"] = "not_primary";
    a["primary"] = std::move(primary);
    a["message"] = "this tracker is not the primary";
    c.send(a.dump());
  }

  std::vector<std::string> ops;  // every request seen, in order
  std::vector<Json> requests;    // and each request whole
  int connections = 0;
  int hellos = 0;
  bool bad_version = false;
  int64_t index = 1;  // what the hello calls this tracker
  Json hello_fields = Json::object();
  Json hello_answer;  // when not null, sent as the whole answer to the hello

 private:
  void accept(evutil_socket_t fd, const std::string& peer) {
    ++connections;
    FramedConn::Handlers h;
    h.on_frame = [this](FramedConn& c, std::string_view payload) {
      auto j = Json::parse(payload);
      ASSERT_TRUE(j.ok() && j->is_object());
      if (j->find("hello")) {
        ++hellos;
        EXPECT_EQ(j->get_string("hello"), "gs-tracker");
        EXPECT_EQ(j->get_int("version"), kTrackerProtoVersion);
        Json a = Json::object();
        if (bad_version) {
          a["ok"] = false;
          a["error"] = "bad_version";
          a["message"] = "wrong version";
          c.send(a.dump());
          c.close_after_flush("bad version");
          return;
        }
        if (!hello_answer.is_null()) {
          c.send(hello_answer.dump());
          return;
        }
        a["hello"] = "gs-tracker";
        a["version"] = kTrackerProtoVersion;
        a["tracker"] = index;
        for (const auto& [k, v] : hello_fields.as_object()) a[k] = v;
        c.send(a.dump());
        return;
      }
      ops.push_back(j->get_string("op").value_or("?"));
      requests.push_back(*j);
      script_(*this, c, *j);
    };
    h.on_close = [this](FramedConn& c, const CloseReason&) { conns_.erase(&c); };
    if (FramedConn* c = FramedConn::accept(base_, fd, kTrackerMaxFrame, peer, std::move(h)))
      conns_.insert(c);
  }

  event_base* base_;
  Script script_;
  std::unique_ptr<Listener> listener_;
  uint16_t port_ = 0;
  std::set<FramedConn*> conns_;
};

// Answers every request at once with ok and its op name.
inline void answer_all(FakeTrackerServer&, FramedConn& c, const Json& req) {
  Json f = Json::object();
  f["op_was"] = *req.get_string("op");
  FakeTrackerServer::answer(c, req, f);
}

}  // namespace gs::test
