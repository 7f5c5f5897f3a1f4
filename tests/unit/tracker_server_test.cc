// The tracker's network side against real sockets on loopback: handshake,
// pipelining, and that every kind of misbehaviour closes only the connection
// that did it.
#include "tracker/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "crypto.h"
#include "file_meta.h"
#include "frame.h"
#include "sandbox.h"

namespace gs::tracker {
namespace {

// A blocking client socket; every read gives up after 5 s.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }

  void send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  void send(const Json& j) { send_raw(encode_frame(j.dump())); }

  // The next frame as JSON; null Json when the link closed or timed out.
  Json read() {
    std::string header;
    if (!read_exact(kFrameHeaderSize, header)) return Json();
    std::string payload;
    if (!read_exact(load_be32(reinterpret_cast<const unsigned char*>(header.data())), payload)) return Json();
    auto j = Json::parse(payload);
    return j ? *j : Json();
  }

  // True when the server closed the link (EOF or reset) rather than went quiet.
  bool closed_by_server() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  Json hello() {
    send(Json::Object{{"hello", "gs-tracker"}, {"version", 1}});
    return read();
  }

 private:
  bool read_exact(size_t n, std::string& out) {
    out.resize(n);
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::recv(fd_, out.data() + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
};

class TrackerServer : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::open(sb_.path("tracker.db"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    ServiceConfig sc;
    sc.kdf.log2_n = 10;
    service_ = std::make_unique<Service>(*store_, clock_, sc);
    base_ = event_base_new();
    ServerConfig cfg;
    cfg.tracker_index = 2;
    cfg.max_connections = 3;
    cfg.handshake_timeout_seconds = 1;
    cfg.idle_timeout_seconds = 2;
    server_ = std::make_unique<Server>(base_, *service_, cfg);
    ASSERT_TRUE(server_->listen(Endpoint{"127.0.0.1", 0}).ok());
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    server_.reset();
    event_base_free(base_);
  }

  // Runs the tracker's loop here while `client` runs on its own thread.
  void with_client(const std::function<void(uint16_t)>& client) {
    std::atomic<bool> done{false};
    std::thread t([&] {
      client(port_);
      done = true;
    });
    struct Poll {
      std::atomic<bool>* done;
      event_base* base;
    } poll{&done, base_};
    event* tick = event_new(
        base_, -1, EV_PERSIST,
        [](evutil_socket_t, short, void* p) {
          auto* poll = static_cast<Poll*>(p);
          if (*poll->done) event_base_loopbreak(poll->base);
        },
        &poll);
    timeval tv{0, 10000};
    event_add(tick, &tv);
    event_base_dispatch(base_);
    event_free(tick);
    t.join();
  }

  test::Sandbox sb_;
  SystemClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Service> service_;
  event_base* base_ = nullptr;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(TrackerServer, HandshakeThenPipelinedRequestsAnsweredInOrder) {
  with_client([](uint16_t port) {
    Client c(port);
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.hello(), Json(Json::Object{{"hello", "gs-tracker"}, {"version", 1}, {"tracker", 2}}));
    c.send(Json::Object{{"id", 7}, {"op", "create_user"}, {"user", "alice"}, {"password", "pw"}});
    c.send(Json::Object{{"id", 8}, {"op", "create_user"}, {"user", "alice"}, {"password", "pw"}});
    c.send(Json::Object{{"id", 9}, {"op", "login"}, {"user", 5}});
    EXPECT_EQ(c.read(), Json(Json::Object{{"id", 7}, {"ok", true}}));
    const Json second = c.read();
    EXPECT_EQ(second.get_int("id"), 8);
    EXPECT_EQ(second.get_string("error"), "user_exists");
    const Json third = c.read();
    EXPECT_EQ(third.get_int("id"), 9);
    EXPECT_EQ(third.get_string("error"), "bad_request");  // answered; the link stays up
    c.send(Json::Object{{"id", 10}, {"op", "list_groups"}, {"token", std::string(64, 'a')}});
    EXPECT_EQ(c.read().get_string("error"), "not_logged_in");
  });
}

TEST_F(TrackerServer, WrongVersionIsAnsweredThenClosed) {
  with_client([](uint16_t port) {
    Client c(port);
    c.send(Json::Object{{"hello", "gs-tracker"}, {"version", 999}});
    const Json a = c.read();
    EXPECT_EQ(a.get_string("error"), "bad_version") << a.dump();
    EXPECT_NE(a.get_string("message")->find("999"), std::string::npos);
    EXPECT_TRUE(c.closed_by_server());

    Client d(port);
    d.send(Json::Object{{"hello", "gs-peer"}, {"version", 1}});
    EXPECT_EQ(d.read().get_string("error"), "bad_version");
    EXPECT_TRUE(d.closed_by_server());
  });
}

TEST_F(TrackerServer, MisbehavingConnectionsAreClosedAndOthersGoOn) {
  with_client([](uint16_t port) {
    Client good(port);
    ASSERT_EQ(good.hello().get_int("tracker"), 2);
    const std::vector<std::string> garbage = {
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        std::string("\xff\xff\xff\xff", 4) + "AAAA",       // claims 4 GiB
        encode_frame("not json!!"),
        encode_frame("[]"),
        encode_frame(std::string("\xff\xfe\x00", 3)),      // not UTF-8
        encode_frame(std::string(100, '[') + std::string(100, ']')),  // too deep
    };
    for (const std::string& g : garbage) {
      Client bad(port);
      bad.hello();
      bad.send_raw(g);
      EXPECT_TRUE(bad.closed_by_server()) << g.substr(0, 20);
    }
    Client early(port);  // a request before the handshake
    early.send(Json::Object{{"id", 1}, {"op", "list_groups"}});
    EXPECT_TRUE(early.closed_by_server());

    good.send(Json::Object{{"id", 1}, {"op", "create_user"}, {"user", "bob"}, {"password", "pw"}});
    EXPECT_EQ(good.read().get_bool("ok"), true);
  });
}

TEST_F(TrackerServer, SilentConnectionsTimeOut) {
  with_client([](uint16_t port) {
    Client no_hello(port);
    Client quiet(port);
    quiet.hello();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(no_hello.closed_by_server());  // handshake_timeout_seconds = 1
    EXPECT_TRUE(quiet.closed_by_server());     // idle_timeout_seconds = 2
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  });
}

TEST_F(TrackerServer, ConnectionsBeyondTheLimitAreRefused) {
  with_client([](uint16_t port) {
    Client a(port), b(port), c(port);
    for (Client* x : {&a, &b, &c}) EXPECT_EQ(x->hello().get_int("tracker"), 2);
    Client extra(port);
    extra.send(Json::Object{{"hello", "gs-tracker"}, {"version", 1}});
    EXPECT_TRUE(extra.closed_by_server());
    a.send(Json::Object{{"id", 1}, {"op", "list_groups"}, {"token", std::string(64, 'a')}});
    EXPECT_EQ(a.read().get_int("id"), 1);
  });
}

TEST_F(TrackerServer, StopClosesEveryConnection) {
  std::atomic<bool> greeted{false};
  std::atomic<bool> closed{false};
  std::thread t([&] {
    Client c(port_);
    c.hello();
    greeted = true;
    closed = c.closed_by_server();
  });
  while (!greeted) event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK);
  EXPECT_EQ(server_->connections(), 1u);
  server_->stop();
  EXPECT_EQ(server_->connections(), 0u);
  // libevent closes a freed bufferevent's socket from the loop.
  event_base_loop(base_, EVLOOP_NONBLOCK);
  t.join();
  EXPECT_TRUE(closed);
}

TEST(TrackerPeerHost, IsTheAddressWithoutPortOrBrackets) {
  EXPECT_EQ(peer_host("192.0.2.7:50123"), "192.0.2.7");
  EXPECT_EQ(peer_host("[2001:db8::1]:50123"), "2001:db8::1");
  EXPECT_EQ(peer_host("[::1]:1"), "::1");
  EXPECT_EQ(peer_host("[::ffff:192.0.2.7]:50123"), "192.0.2.7");
  EXPECT_EQ(peer_host("[::ffff:1]:5"), "::ffff:1");
  EXPECT_EQ(peer_host("unix"), "unix");
  EXPECT_EQ(peer_host(""), "");
  EXPECT_EQ(peer_host("[broken"), "broken");
}

// Over real sockets: a peer is listed with the address its connection came
// from, and file_info of a 4 GiB file (512 KiB of hashes) arrives as one
// frame.
TEST_F(TrackerServer, FileInfoNamesThePeersAddressAndFitsAFrame) {
  FileMeta big;
  big.size = uint64_t{4} << 30;
  big.piece_size = 512 * 1024;
  for (uint32_t i = 0; i < big.piece_count(); ++i) big.piece_hashes.push_back(sha256(std::to_string(i)));
  big.file_id = FileMeta::compute_id(big.size, big.piece_size, big.piece_hashes);
  with_client([&](uint16_t port) {
    Client a(port), b(port);
    a.hello();
    b.hello();
    int64_t id = 0;
    auto ask = [&id](Client& c, Json::Object r) {
      r.emplace_back("id", ++id);
      c.send(Json(std::move(r)));
      return c.read();
    };
    auto login = [&](Client& c, const std::string& user, const std::string& seat, int peer_port) {
      ask(c, {{"op", "create_user"}, {"user", user}, {"password", "pw"}});
      return ask(c, {{"op", "login"}, {"user", user}, {"password", "pw"}, {"seat", seat}, {"port", peer_port}})
          .get_string("token")
          .value_or("");
    };
    const std::string ta = login(a, "alice", "aa", 7001);
    const std::string tb = login(b, "bob", "bb", 7002);
    ASSERT_EQ(ask(a, {{"op", "create_group"}, {"token", ta}, {"group", "g"}}).get_bool("ok"), true);
    ask(b, {{"op", "join_group"}, {"token", tb}, {"group", "g"}});
    ask(a, {{"op", "accept_request"}, {"token", ta}, {"group", "g"}, {"user", "bob"}});
    const Json shared = ask(a, {{"op", "share_file"},
                                {"token", ta},
                                {"group", "g"},
                                {"name", "big.iso"},
                                {"size", static_cast<int64_t>(big.size)},
                                {"piece_size", static_cast<int64_t>(big.piece_size)},
                                {"hashes", big.hashes_hex()},
                                {"file_id", big.file_id_hex()}});
    ASSERT_EQ(shared.get_bool("ok"), true) << shared.dump();
    const Json info = ask(b, {{"op", "file_info"}, {"token", tb}, {"group", "g"}, {"name", "big.iso"}});
    ASSERT_EQ(info.get_bool("ok"), true) << info.dump().substr(0, 300);
    EXPECT_EQ(info.get_string("hashes")->size(), 8192u * 64);
    EXPECT_EQ(*info.find("peers"),
              Json(Json::Array{Json::Object{{"user", "alice"}, {"host", "127.0.0.1"}, {"port", 7001}}}));
  });
}

}  // namespace
}  // namespace gs::tracker

namespace gs::tracker {
namespace {

// Key derivations run on worker threads. The requests pipelined behind a
// create_user wait for it on their connection: the login finds the user,
// and the answers come in request order.
TEST_F(TrackerServer, RequestsOnOneConnectionTakeEffectInOrderBehindASlowKeyDerivation) {
  auto pool = std::make_unique<WorkerPool>(base_, 2);
  ServiceConfig sc;
  sc.kdf.log2_n = 14;  // tens of milliseconds: the fast request surely finishes first
  server_.reset();
  service_ = std::make_unique<Service>(*store_, clock_, sc, pool.get());
  server_ = std::make_unique<Server>(base_, *service_, ServerConfig{});
  ASSERT_TRUE(server_->listen(Endpoint{"127.0.0.1", 0}).ok());
  port_ = server_->port();
  with_client([](uint16_t port) {
    Client c(port);
    ASSERT_TRUE(c.connected());
    c.hello();
    c.send(Json::Object{{"id", 1}, {"op", "create_user"}, {"user", "alice"}, {"password", "pw"}});
    c.send(Json::Object{{"id", 2}, {"op", "no_such_op"}});
    c.send(Json::Object{{"id", 3}, {"op", "login"}, {"user", "alice"}, {"password", "pw"}, {"seat", "5ea7"}});
    c.send(Json::Object{{"id", 4}, {"op", "no_such_op"}});
    const Json a1 = c.read();
    const Json a2 = c.read();
    const Json a3 = c.read();
    const Json a4 = c.read();
    EXPECT_EQ(a1.get_int("id"), 1) << a1.dump();
    EXPECT_EQ(a1.get_bool("ok"), true) << a1.dump();
    EXPECT_EQ(a2.get_int("id"), 2) << a2.dump();
    EXPECT_EQ(a3.get_int("id"), 3) << a3.dump();
    EXPECT_TRUE(a3.get_string("token").has_value()) << a3.dump();
    EXPECT_EQ(a4.get_int("id"), 4) << a4.dump();
  });
  server_.reset();
  pool.reset();
}

}  // namespace
}  // namespace gs::tracker
