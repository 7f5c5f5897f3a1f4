// FramedConn over TLS on real loopback sockets: frames and file ranges both
// ways, each side learning the key the other proved it holds, a pinned key
// that does not match refused with both keys named, and what a client that
// does not speak TLS (or says nothing) gets: nothing, then a closed link.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "file_source.h"
#include "frame.h"
#include "framed_conn.h"
#include "identity.h"
#include "sandbox.h"
#include "test_loop.h"
#include "tls.h"
#include "transport.h"

namespace gs {
namespace {

struct Side {
  std::vector<std::string> frames;
  bool connected = false;
  bool closed = false;
  CloseReason reason;
  int drained = 0;
  size_t pause_at = 0;   // stop reading once this many frames are in (0: never)
  std::string peer_key;  // as seen when the first frame or the connection came
  FramedConn* link = nullptr;
};

FramedConn::Handlers handlers_for(Side& side) {
  FramedConn::Handlers h;
  h.on_connected = [&side](FramedConn& c) {
    side.connected = true;
    side.peer_key = std::string(c.peer_key());
  };
  h.on_frame = [&side](FramedConn& c, std::string_view p) {
    if (side.peer_key.empty()) side.peer_key = std::string(c.peer_key());
    side.frames.emplace_back(p);
    if (side.frames.size() == side.pause_at) c.set_reading(false);
  };
  h.on_drained = [&side](FramedConn&) { ++side.drained; };
  h.on_close = [&side](FramedConn&, const CloseReason& r) {
    side.closed = true;
    side.reason = r;
    side.link = nullptr;
  };
  return h;
}

class TlsLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = TlsContext::create(*server_id_);
    auto c = TlsContext::create(*client_id_);
    ASSERT_TRUE(s && c);
    server_tls_ = std::move(*s);
    client_tls_ = std::move(*c);
    auto l = Listener::open(
        loop_.base(), Endpoint{"127.0.0.1", 0}, [this](evutil_socket_t fd, const std::string& p) {
          server_.link = FramedConn::accept(loop_.base(), fd, 8 << 20, p, handlers_for(server_),
                                            {server_tls_.get(), {}});
          if (server_.link) server_.link->set_read_timeout(server_read_timeout_);
        });
    ASSERT_TRUE(l);
    listener_.reset(*l);
    auto addr = resolve(Endpoint{"127.0.0.1", listener_->port()});
    ASSERT_TRUE(addr);
    addr_ = *addr;
  }
  void TearDown() override {
    if (client_.link) client_.link->close("test over");
    if (server_.link) server_.link->close("test over");
    loop_.drain();
  }
  void connect(std::string expect_key) {
    client_.link =
        FramedConn::connect(loop_.base(), addr_, 8 << 20, "server", handlers_for(client_),
                            {client_tls_.get(), std::move(expect_key)});
    ASSERT_NE(client_.link, nullptr);
  }
  // A raw TCP client that does not speak TLS.
  int raw_connect() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr_.addr), addr_.len), 0);
    return fd;
  }

  // A stock OpenSSL client on a raw socket: `talk` runs once its handshake
  // is done (not if it failed), and the socket stays open until our server
  // link has closed, so that the close is the link's own doing (not a FIN).
  void stock_client_until_the_server_closes(const std::function<void(SSL*)>& talk) {
    const int fd = raw_connect();
    std::atomic<bool> release{false};
    std::thread client([&] {
      SSL* ssl = SSL_new(client_tls_->get());
      SSL_set_fd(ssl, fd);
      if (SSL_connect(ssl) == 1) talk(ssl);
      for (int i = 0; i < 2000 && !release; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      SSL_free(ssl);
      ::close(fd);
    });
    EXPECT_TRUE(loop_.run_until([&] { return server_.closed; }));
    release = true;
    client.join();
  }
  test::TestLoop loop_;
  std::unique_ptr<Identity> server_id_ = Identity::ephemeral();
  std::unique_ptr<Identity> client_id_ = Identity::ephemeral();
  std::unique_ptr<TlsContext> server_tls_, client_tls_;
  std::unique_ptr<Listener> listener_;
  SockAddr addr_;
  int server_read_timeout_ = 0;
  Side server_, client_;
};

TEST_F(TlsLinkTest, FramesAndFileRangesCrossAndEachSideLearnsTheOthersKey) {
  connect(server_id_->public_key());
  ASSERT_TRUE(loop_.run_until([&] { return client_.connected || client_.closed; }));
  ASSERT_TRUE(client_.connected) << client_.reason.text;
  EXPECT_EQ(client_.peer_key, server_id_->public_key());
  EXPECT_TRUE(client_.link->secure());

  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  ASSERT_TRUE(client_.link->send("hello"));
  ASSERT_TRUE(client_.link->send(big));
  ASSERT_TRUE(loop_.run_until([&] { return server_.frames.size() == 2 || server_.closed; }));
  ASSERT_EQ(server_.frames.size(), 2u) << server_.reason.text;
  EXPECT_EQ(server_.frames[0], "hello");
  EXPECT_EQ(server_.frames[1], big);
  EXPECT_EQ(server_.peer_key, client_id_->public_key());

  // A file range goes through TLS too (mapped and encrypted, not sendfile).
  test::Sandbox box;
  const std::string path = box.path("f");
  {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_EQ(::write(fd, big.data(), big.size()), static_cast<ssize_t>(big.size()));
    ::close(fd);
  }
  auto file = FileSource::open(path, big.size());
  ASSERT_TRUE(file);
  ASSERT_TRUE(server_.link->send_frame({"head", FileRange{file->get(), 1000, 2 << 20}}));
  ASSERT_TRUE(loop_.run_until([&] { return client_.frames.size() == 1 || client_.closed; }));
  ASSERT_EQ(client_.frames.size(), 1u) << client_.reason.text;
  EXPECT_EQ(client_.frames[0], "head" + big.substr(1000, 2 << 20));
}

TEST_F(TlsLinkTest, AnotherKeyThanThePinnedOneIsRefusedNamingBoth) {
  const auto other = Identity::ephemeral();
  connect(other->public_key());
  ASSERT_TRUE(loop_.run_until([&] { return client_.closed; }));
  EXPECT_FALSE(client_.connected);
  EXPECT_EQ(client_.reason.kind, CloseKind::wrong_key);
  EXPECT_NE(client_.reason.text.find(server_id_->text()), std::string::npos) << client_.reason.text;
  EXPECT_NE(client_.reason.text.find(other->text()), std::string::npos) << client_.reason.text;
  ASSERT_TRUE(loop_.run_until([&] { return server_.closed; }));
  EXPECT_TRUE(server_.frames.empty());
}

// A bare TLS client transport on a socket connected already (a socketpair:
// no connect event will come) starts its handshake by itself; and when the
// far end ends the link, an owner that keeps watching without closing is
// told of the end once, not woken on every loop turn by a socket that stays
// readable (found by the fuzz target tls_handshake, whose loop then never
// returned).
TEST_F(TlsLinkTest, AClientOnAConnectedSocketHandshakesAndIsToldOfTheEndOnce) {
  struct Owner final : Transport::Events {
    Transport* transport = nullptr;
    bool connected = false;
    int ends = 0;
    int wakeups = 0;
    void on_connected() override { connected = true; }
    void on_readable() override {
      char buf[256];
      ssize_t n = 0;
      while ((n = transport->read(buf, sizeof buf)) > 0) {
      }
      if (n == 0) ++ends;
      // Bounds the loop if the transport spins, so the test fails, not hangs.
      if (++wakeups == 100) transport->watch_reads(false, 0);
    }
    void on_drained() override {}
    void on_failed(CloseReason) override { ++ends; }
  } owner;
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  auto client = tls_transport(loop_.base(), fds[0], *client_tls_, true, server_id_->public_key());
  ASSERT_TRUE(client);
  owner.transport = client.get();
  client->attach(owner);
  ASSERT_TRUE(client->watch_reads(true, 0));
  server_.link = FramedConn::accept(loop_.base(), fds[1], 8 << 20, "client", handlers_for(server_),
                                    {server_tls_.get(), {}});
  ASSERT_NE(server_.link, nullptr);
  ASSERT_TRUE(
      loop_.run_until([&] { return owner.connected && !server_.link->peer_key().empty(); }, 5));
  server_.link->close("test ends the link");
  server_.link = nullptr;
  ASSERT_TRUE(loop_.run_until([&] { return owner.ends > 0; }, 5));
  for (int i = 0; i < 50; ++i) event_base_loop(loop_.base(), EVLOOP_NONBLOCK);
  EXPECT_EQ(owner.ends, 1);
  EXPECT_LT(owner.wakeups, 5);
}

TEST_F(TlsLinkTest, AClientThatDoesNotSpeakTlsGetsNoFrameThrough) {
  const int fd = raw_connect();
  const std::string frame = encode_frame("hello");
  ASSERT_EQ(::send(fd, frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()));
  ASSERT_TRUE(loop_.run_until([&] { return server_.closed; }));
  EXPECT_TRUE(server_.frames.empty());
  EXPECT_EQ(server_.reason.kind, CloseKind::tls_failed) << server_.reason.text;
  ::close(fd);
}

TEST_F(TlsLinkTest, TheReadTimeoutBoundsAHandshakeThatNeverComes) {
  server_read_timeout_ = 1;
  const int fd = raw_connect();
  ASSERT_TRUE(loop_.run_until([&] { return server_.closed; }, 5));
  EXPECT_EQ(server_.reason.kind, CloseKind::read_timeout) << server_.reason.text;
  ::close(fd);
}

TEST_F(TlsLinkTest, FramesBeforeTheFarEndClosesAreAllDelivered) {
  connect({});
  ASSERT_TRUE(loop_.run_until([&] { return client_.connected || client_.closed; }));
  ASSERT_TRUE(client_.connected);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(client_.link->send("frame " + std::to_string(i)));
  client_.link->close_after_flush("done");
  ASSERT_TRUE(loop_.run_until([&] { return server_.closed; }));
  ASSERT_EQ(server_.frames.size(), 50u);
  EXPECT_EQ(server_.frames[49], "frame 49");
  EXPECT_EQ(server_.reason.kind, CloseKind::peer_closed) << server_.reason.text;
}

// The bulk path: piece-like frames (a head and a file range) back to back,
// landing in the receiver's buffer; the sender counts what it queued as
// pending until the far end has been handed all of it, then says drained.
TEST_F(TlsLinkTest, FileRangesLandWholeAndTheOutputDrainsToNothing) {
  test::Sandbox box;
  std::string content(5 << 20, 'x');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 % 253);
  box.write("f", content);
  auto file = FileSource::open(box.path("f"), content.size());
  ASSERT_TRUE(file);

  std::vector<char> landing(1 << 20);
  std::vector<std::string> got;
  size_t landed = 0;
  FramedConn::Handlers h = handlers_for(client_);
  h.payload_buffer = [&](FramedConn&, size_t size, std::string_view) -> char* {
    return size <= landing.size() ? landing.data() : nullptr;
  };
  h.on_frame = [&](FramedConn&, std::string_view p) {
    if (p.data() == landing.data()) ++landed;
    got.emplace_back(p);
  };
  client_.link = FramedConn::connect(loop_.base(), addr_, 8 << 20, "server", std::move(h),
                                     {client_tls_.get(), {}});
  ASSERT_NE(client_.link, nullptr);
  ASSERT_TRUE(loop_.run_until([&] { return client_.connected || client_.closed; }));
  ASSERT_TRUE(loop_.run_until([&] { return server_.link != nullptr; }));
  ASSERT_TRUE(client_.link->send("hello"));
  ASSERT_TRUE(loop_.run_until([&] { return server_.frames.size() == 1 || server_.closed; }));

  // Lengths that are not whole records, and a range at the end of the file.
  std::vector<std::string> want;
  uint64_t offset = 0;
  for (uint64_t length :
       {uint64_t{1} << 19, uint64_t{700'001}, uint64_t{3}, uint64_t{16'384}, uint64_t{999'999}}) {
    ASSERT_TRUE(server_.link->send_frame({"piece", FileRange{file->get(), offset, length}}));
    want.push_back("piece" + content.substr(offset, length));
    offset += length;
  }
  ASSERT_TRUE(server_.link->send_frame({"tail", FileRange{file->get(), content.size() - 10, 10}}));
  want.push_back("tail" + content.substr(content.size() - 10));
  file->reset();  // ranges already queued keep the file open
  EXPECT_GT(server_.link->pending_output(), 0u);
  server_.drained = 0;

  ASSERT_TRUE(loop_.run_until([&] { return got.size() == want.size() || client_.closed; }));
  ASSERT_EQ(got.size(), want.size()) << client_.reason.text;
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << i;
  EXPECT_GE(landed, 4u);
  ASSERT_TRUE(loop_.run_until([&] { return server_.drained > 0; }));
  EXPECT_EQ(server_.link->pending_output(), 0u);
}

// A file cut short after its range was queued: the link says so and closes
// (reading it through a mapping would have killed the process).
TEST_F(TlsLinkTest, AFileShorterThanItsQueuedRangeClosesTheLink) {
  test::Sandbox box;
  box.write("f", std::string(1 << 20, 'y'));
  auto file = FileSource::open(box.path("f"), 1 << 20);
  ASSERT_TRUE(file);
  connect({});
  ASSERT_TRUE(loop_.run_until([&] { return client_.connected || client_.closed; }));
  ASSERT_TRUE(loop_.run_until([&] { return server_.link != nullptr; }));
  ASSERT_EQ(::truncate(box.path("f").c_str(), 1000), 0);
  ASSERT_TRUE(server_.link->send_frame({"piece", FileRange{file->get(), 0, 1 << 20}}));
  ASSERT_TRUE(loop_.run_until([&] { return server_.closed; }));
  EXPECT_EQ(server_.reason.kind, CloseKind::io_error);
  EXPECT_NE(server_.reason.text.find("shorter"), std::string::npos) << server_.reason.text;
}

// Records OpenSSL has already read from the socket (it reads ahead) when
// the owner stops reading are delivered when it reads again, though the
// socket has nothing more to announce.
TEST_F(TlsLinkTest, InputReadAheadWhenReadingStopsIsDeliveredWhenItResumes) {
  connect({});
  ASSERT_TRUE(loop_.run_until([&] { return client_.connected || client_.closed; }));
  ASSERT_TRUE(client_.connected);
  ASSERT_TRUE(client_.link->send("first"));
  ASSERT_TRUE(loop_.run_until([&] { return server_.frames.size() == 1 || server_.closed; }));
  // 100 KB sent at once: one read-ahead takes it all, and the link stops
  // after the first 64 KiB it takes from OpenSSL.
  server_.pause_at = 2;
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(client_.link->send(std::string(1000, static_cast<char>('a' + i % 26))));
  ASSERT_TRUE(loop_.run_until([&] { return server_.frames.size() > 1 || server_.closed; }));
  EXPECT_FALSE(loop_.run_until([&] { return server_.frames.size() == 101; }, 0.3));
  server_.link->set_reading(true);
  ASSERT_TRUE(loop_.run_until([&] { return server_.frames.size() == 101 || server_.closed; }, 2));
  EXPECT_EQ(server_.frames[100], std::string(1000, static_cast<char>('a' + 99 % 26)));
}

// The upload rate limit applies to TLS links too (to the records they send).
TEST_F(TlsLinkTest, ARateLimitGroupSlowsATlsLink) {
  connect({});
  ASSERT_TRUE(loop_.run_until([&] { return client_.connected || client_.closed; }));
  ASSERT_TRUE(loop_.run_until([&] { return server_.link != nullptr; }));
  const timeval tick{0, 100'000};
  ev_token_bucket_cfg* cfg =
      ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, 25'600, 25'600, &tick);
  bufferevent_rate_limit_group* group = bufferevent_rate_limit_group_new(loop_.base(), cfg);
  ASSERT_TRUE(server_.link->join_rate_limit(group));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(server_.link->send(std::string(512 * 1024, 'z')));  // 2 s at 256 KiB/s
  ASSERT_TRUE(loop_.run_until([&] { return client_.frames.size() == 1 || client_.closed; }, 10));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GT(seconds, 1.5);
  EXPECT_LT(seconds, 6.0);
  server_.link->close("test over");
  loop_.drain();
  bufferevent_rate_limit_group_free(group);
  ev_token_bucket_cfg_free(cfg);
}

// Our record layer against OpenSSL's own, on both sides of a KeyUpdate: a
// stock OpenSSL client (blocking, in a thread) sends frames, asks for a key
// update, sends more; the server link, moving to a new key of its own every
// two records, answers with frames of several records each, which OpenSSL
// opens; each side's close_notify ends the other's stream cleanly.
TEST_F(TlsLinkTest, AStockOpenSslPeerReadsOurRecordsAndWeReadItsAcrossKeyUpdates) {
  const std::string before(100000, 'a');
  const std::string after(70000, 'b');
  std::vector<std::string> answers;
  for (char c = 'p'; c < 'u'; ++c) answers.emplace_back(40000, c);
  std::atomic<bool> client_got_all{false};
  std::atomic<bool> client_saw_close_notify{false};
  std::atomic<bool> client_done{false};
  std::string client_error;
  const int fd = raw_connect();
  std::thread client([&] {
    SSL* ssl = SSL_new(client_tls_->get());  // no transport of ours: its key log lines are dropped
    SSL_set_fd(ssl, fd);
    auto write_all = [&](const std::string& bytes) {
      return SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size())) ==
             static_cast<int>(bytes.size());
    };
    if (SSL_connect(ssl) != 1 || !write_all(encode_frame(before)) ||
        SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED) != 1 || !write_all(encode_frame(after))) {
      client_error = "cannot handshake or write";
    }
    std::string stream;
    size_t frames = 0;
    char buf[65536];
    while (client_error.empty() && frames < answers.size()) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) {
        client_error = "read failed before all answers: " + std::to_string(SSL_get_error(ssl, n));
        break;
      }
      stream.append(buf, static_cast<size_t>(n));
      for (;;) {
        auto f = decode_frame(stream, 1 << 20);
        if (!f || f->consumed == 0) break;
        if (f->payload != answers[frames])
          client_error = "answer " + std::to_string(frames) + " differs";
        ++frames;
        stream.erase(0, f->consumed);
      }
    }
    client_got_all = client_error.empty();
    if (client_got_all) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      client_saw_close_notify = n <= 0 && SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN;
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    ::close(fd);
    client_done = true;
  });
  EXPECT_TRUE(loop_.run_until([&] { return server_.frames.size() == 2 || server_.closed; }));
  if (server_.frames.size() == 2 && server_.link) {
    EXPECT_EQ(server_.frames[0], before);
    EXPECT_EQ(server_.frames[1], after);
    EXPECT_EQ(server_.peer_key, client_id_->public_key());
    set_tls_key_update_records(2);
    for (const std::string& a : answers) EXPECT_TRUE(server_.link->send(a));
    EXPECT_TRUE(loop_.run_until([&] { return client_got_all.load() || !client_error.empty(); }));
  } else {
    ADD_FAILURE() << "the server link did not take both frames: " << server_.reason.text;
  }
  if (server_.link) server_.link->close("done");
  EXPECT_TRUE(
      loop_.run_until([&] { return client_done.load(); }));  // the link goes, saying close_notify
  client.join();
  set_tls_key_update_records(uint64_t{1} << 24);
  EXPECT_EQ(client_error, "");
  EXPECT_TRUE(client_got_all);
  EXPECT_TRUE(client_saw_close_notify);
}

// A far end asking for key updates over and over without reading gets one
// KeyUpdate back, before our next data, not one per request: it cannot make
// our output grow.
TEST_F(TlsLinkTest, ManyKeyUpdateRequestsGetOneAnswerBeforeOurNextData) {
  const int fd = raw_connect();
  std::atomic<int> stage{0};  // 1: requests and a frame sent; 2: may read
  std::atomic<bool> answer_ok{false};
  std::thread client([&] {
    SSL* ssl = SSL_new(client_tls_->get());
    SSL_set_fd(ssl, fd);
    const std::string f = encode_frame("after the requests");
    bool ok = SSL_connect(ssl) == 1;
    // 30: under the bound on records without data (the next test).
    for (int i = 0; ok && i < 30; ++i) {
      ok = SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED) == 1 && SSL_do_handshake(ssl) == 1;
    }
    ok = ok && SSL_write(ssl, f.data(), static_cast<int>(f.size())) > 0;
    stage = ok ? 1 : -1;
    for (int i = 0; i < 2000 && stage == 1; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::string stream;
    char buf[4096];
    for (int i = 0; i < 100 && ok; ++i) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      stream.append(buf, static_cast<size_t>(n));
      auto frame = decode_frame(stream, 1 << 20);
      if (frame && frame->consumed > 0) {
        answer_ok = frame->payload == "the answer";
        break;
      }
    }
    SSL_free(ssl);
    ::close(fd);
  });
  EXPECT_TRUE(
      loop_.run_until([&] { return !server_.frames.empty() || server_.closed || stage < 0; }));
  // What the server sent since the handshake waits unread at the client.
  int unread = -1;
  if (!server_.frames.empty()) {
    loop_.run_until([] { return false; }, 0.2);
    ioctl(fd, FIONREAD, &unread);
    EXPECT_EQ(unread, 0) << "the server answered requests before it had data to send";
    EXPECT_TRUE(server_.link->send("the answer"));
  } else {
    ADD_FAILURE() << "the frame after the requests did not arrive: " << server_.reason.text;
  }
  stage = 2;
  EXPECT_TRUE(loop_.run_until([&] { return answer_ok.load(); }, 5));
  client.join();
}

// A far end sending record after record without data (here KeyUpdates, each
// costing us a key derived) gets the link closed after 32 in a row, naming
// why, before the frame it sends after them: it cannot hold our loop in one
// link's read. Data between them starts the count again.
TEST_F(TlsLinkTest, RecordsWithoutDataInARowAreBoundedAndDataResetsTheCount) {
  stock_client_until_the_server_closes([](SSL* ssl) {
    const auto key_updates = [ssl](int n) {
      bool ok = true;
      for (int i = 0; ok && i < n; ++i) {
        ok = SSL_key_update(ssl, SSL_KEY_UPDATE_NOT_REQUESTED) == 1 && SSL_do_handshake(ssl) == 1;
      }
      return ok;
    };
    const auto frame = [ssl](const std::string& text) {
      const std::string f = encode_frame(text);
      return SSL_write(ssl, f.data(), static_cast<int>(f.size())) > 0;
    };
    // 3 x 20 without data, a frame after each 20: never 32 in a row.
    bool ok = true;
    for (int round = 0; ok && round < 3; ++round) ok = key_updates(20) && frame("round " + std::to_string(round));
    if (ok && key_updates(40)) (void)frame("after 40");
  });
  EXPECT_EQ(server_.frames, (std::vector<std::string>{"round 0", "round 1", "round 2"}));
  EXPECT_EQ(server_.reason.kind, CloseKind::tls_failed) << server_.reason.text;
  EXPECT_EQ(server_.reason.text, "TLS: more than 32 records in a row carried no data");
}

// The far end's close_notify ends our stream as the end, not as a failure,
// after every frame before it.
TEST_F(TlsLinkTest, AStockOpenSslPeersCloseNotifyIsTheEndOfTheStream) {
  // The socket stays open: the end must come from close_notify, not FIN.
  stock_client_until_the_server_closes([](SSL* ssl) {
    const std::string f = encode_frame("last words");
    if (SSL_write(ssl, f.data(), static_cast<int>(f.size())) > 0) SSL_shutdown(ssl);
  });
  ASSERT_EQ(server_.frames.size(), 1u);
  EXPECT_EQ(server_.frames[0], "last words");
  EXPECT_EQ(server_.reason.kind, CloseKind::peer_closed) << server_.reason.text;
}

TEST(Identity, MadeOnceKeptPrivateAndLoadedAgain) {
  test::Sandbox box;
  const std::string path = box.path("key.pem");
  auto first = Identity::load_or_create(path);
  ASSERT_TRUE(first) << first.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = Identity::load_or_create(path);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->public_key(), (*first)->public_key());
  EXPECT_EQ((*first)->public_key().size(), 32u);
}

TEST(Identity, AKeyFileOthersMayReadIsRefusedWithTheFix) {
  test::Sandbox box;
  const std::string path = box.path("key.pem");
  ASSERT_TRUE(Identity::load_or_create(path));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto r = Identity::load_or_create(path);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("chmod 600 " + path), std::string::npos) << r.error().message;
}

TEST(Identity, ADamagedKeyFileIsRefusedAndLeftAlone) {
  test::Sandbox box;
  const std::string path = box.path("key.pem");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_EQ(::write(fd, "junk\n", 5), 5);
  ::close(fd);
  auto r = Identity::load_or_create(path);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no PEM private key"), std::string::npos) << r.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 5);
}

TEST(Identity, SignaturesVerifyOnlyForTheirKeyAndData) {
  const auto a = Identity::ephemeral();
  const auto b = Identity::ephemeral();
  const std::string sig = a->sign("ticket");
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_TRUE(verify_signature(a->public_key(), "ticket", sig));
  EXPECT_FALSE(verify_signature(b->public_key(), "ticket", sig));
  EXPECT_FALSE(verify_signature(a->public_key(), "ticket!", sig));
  EXPECT_FALSE(verify_signature(a->public_key(), "ticket", sig.substr(1)));
  EXPECT_FALSE(verify_signature("short", "ticket", sig));
}

TEST(KeyText, RoundTripsAndSaysWhatIsWrong) {
  const auto a = Identity::ephemeral();
  auto raw = parse_key_text(a->text());
  ASSERT_TRUE(raw);
  EXPECT_EQ(*raw, a->public_key());
  EXPECT_FALSE(parse_key_text("abc"));
  EXPECT_FALSE(parse_key_text(std::string(64, 'z')));
}

}  // namespace
}  // namespace gs
