// gsctl against a fake gsd: a thread on a temp Unix socket that answers
// well, badly, late or never. Checks the exchange itself and run()'s exit
// codes and output end to end. Every wait is bounded.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <sstream>
#include <thread>

#include "ctl/app.h"
#include "ctl/control_client.h"
#include "sandbox.h"

namespace gs::ctl {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client gave up; fine for these tests
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Waits (at most 5 s) until the client closes its end.
void wait_for_client_close(int fd) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  char buf[4096];
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EINTR)) return;
  }
}

// A one-connection fake gsd. The socket is listening when the constructor
// returns; `serve` runs on the accepted connection after the request line was
// read (unless read_request is false). The destructor stops a server that got
// no connection and joins the thread.
class FakeGsd {
 public:
  using Serve = std::function<void(int fd)>;

  FakeGsd(const std::string& path, Serve serve, bool read_request = true)
      : serve_(std::move(serve)), read_request_(read_request) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ||
        ::listen(listen_fd_, 4) || ::pipe2(stop_, O_CLOEXEC)) {
      ADD_FAILURE() << "fake gsd setup: " << std::strerror(errno);
      return;
    }
    thread_ = std::thread([this] { run(); });
  }
  ~FakeGsd() {
    stop_and_join();
    for (int fd : {listen_fd_, stop_[0], stop_[1]}) {
      if (fd >= 0) ::close(fd);
    }
  }
  FakeGsd(const FakeGsd&) = delete;
  FakeGsd& operator=(const FakeGsd&) = delete;

  // Call these once the client is done: they stop a server still waiting
  // for a connection, and wait for the one that got it to finish.
  std::string request() {
    stop_and_join();
    return request_;
  }
  bool connected() {
    stop_and_join();
    return connected_;
  }

 private:
  void stop_and_join() {
    if (stop_[1] >= 0) (void)!::write(stop_[1], "x", 1);
    if (thread_.joinable()) thread_.join();
  }

  void run() {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    if (::poll(p, 2, 10'000) <= 0 || !(p[0].revents & POLLIN)) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    connected_ = true;
    if (read_request_) {
      const auto deadline = Clock::now() + std::chrono::seconds(5);
      char c;
      while (Clock::now() < deadline) {
        pollfd q{fd, POLLIN, 0};
        if (::poll(&q, 1, 100) <= 0) continue;
        if (::recv(fd, &c, 1, 0) != 1 || c == '\n') break;
        request_ += c;
      }
    }
    serve_(fd);
    ::close(fd);
  }

  Serve serve_;
  bool read_request_;
  int listen_fd_ = -1;
  int stop_[2] = {-1, -1};
  std::thread thread_;
  std::string request_;
  bool connected_ = false;
};

// A fake gsd for several connections in a row, e.g. download_file and then
// show_downloads again and again. Each connection gets the next step of the
// script once its request line is in: an answer line (a newline is added),
// kHangUp (close without answering), or kVanish (stop listening and remove
// the socket, as a gsd that exits). After the last step it vanishes, so a
// client that keeps asking always comes to an end.
class ScriptedGsd {
 public:
  static constexpr std::string_view kHangUp = "<hang up>";
  static constexpr std::string_view kVanish = "<vanish>";

  ScriptedGsd(const std::string& path, std::vector<std::string> script)
      : path_(path), script_(std::move(script)) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ||
        ::listen(listen_fd_, 4) || ::pipe2(stop_, O_CLOEXEC)) {
      ADD_FAILURE() << "scripted gsd setup: " << std::strerror(errno);
      return;
    }
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedGsd() {
    join();
    for (int fd : {listen_fd_, stop_[0], stop_[1]}) {
      if (fd >= 0) ::close(fd);
    }
  }
  ScriptedGsd(const ScriptedGsd&) = delete;
  ScriptedGsd& operator=(const ScriptedGsd&) = delete;

  // Once the client is done: every request line, in order.
  std::vector<std::string> requests() {
    join();
    return requests_;
  }

 private:
  void join() {
    if (stop_[1] >= 0) (void)!::write(stop_[1], "x", 1);
    if (thread_.joinable()) thread_.join();
  }

  void vanish() {
    ::close(listen_fd_);
    listen_fd_ = -1;
    ::unlink(path_.c_str());
  }

  void run() {
    for (const std::string& step : script_) {
      pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(p, 2, 10'000) <= 0 || !(p[0].revents & POLLIN)) return vanish();
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return vanish();
      std::string request;
      const auto deadline = Clock::now() + std::chrono::seconds(5);
      char c;
      while (Clock::now() < deadline) {
        pollfd q{fd, POLLIN, 0};
        if (::poll(&q, 1, 100) <= 0) continue;
        if (::recv(fd, &c, 1, 0) != 1 || c == '\n') break;
        request += c;
      }
      requests_.push_back(std::move(request));
      if (step == kVanish) {
        ::close(fd);
        return vanish();
      }
      if (step != kHangUp) send_all(fd, step + "\n");
      ::close(fd);
    }
    vanish();
  }

  std::string path_;
  std::vector<std::string> script_;
  int listen_fd_ = -1;
  int stop_[2] = {-1, -1};
  std::thread thread_;
  std::vector<std::string> requests_;
};

FakeGsd::Serve answer(std::string bytes) {
  return [bytes = std::move(bytes)](int fd) { send_all(fd, bytes); };
}

class CtlClient : public testing::Test {
 protected:
  std::string sock() const { return sb_.path("gsd.sock"); }

  struct Run {
    int code;
    std::string out, err;
  };

  // gsctl ARGS with GSD_SOCKET unset and the default socket in the sandbox.
  Run gsctl(std::vector<std::string> args, const std::string& stdin_data = "",
            AppContext ctx = {}) {
    ctx.env.default_socket = sock();
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return {-1, "", "pipe failed"};
    send_stdin(p[1], stdin_data);
    ctx.stdin_fd = p[0];
    std::ostringstream out, err;
    const int code = run(args, ctx, out, err);
    ::close(p[0]);
    return {code, out.str(), err.str()};
  }

  static void send_stdin(int fd, const std::string& data) {
    (void)!::write(fd, data.data(), data.size());  // small: fits the pipe buffer
    ::close(fd);
  }

  test::Sandbox sb_;
};

// --- decode_answer -------------------------------------------------------

TEST(CtlAnswer, Decode) {
  auto a = decode_answer(R"({"ok":true,"result":[{"user":"bob"}]})");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->ok);
  EXPECT_EQ(a->result.dump(), R"([{"user":"bob"}])");

  a = decode_answer(R"({"ok":true})");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->result.is_null());

  a = decode_answer(R"({"ok":false,"error":"wrong_password","message":"wrong password"})");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->ok);
  EXPECT_EQ(a->error, "wrong_password");
  EXPECT_EQ(a->message, "wrong password");

  // A thin refusal is still a refusal.
  a = decode_answer(R"({"ok":false})");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->ok);
  EXPECT_EQ(a->error, "error");
  EXPECT_FALSE(a->message.empty());

  for (const char* bad : {"", "garbage", "[1,2]", "null", "{}", R"({"ok":"true"})", R"({"ok":1})",
                          "{\"ok\":true", "\xff\xfe", R"({"ok":true,"ok":true})"}) {
    auto r = decode_answer(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, "bad_answer");
    }
  }
  EXPECT_FALSE(decode_answer(std::string(100000, '[')).ok());
}

TEST(CtlAnswer, SecondsText) {
  EXPECT_EQ(seconds_text(milliseconds(30000)), "30 s");
  EXPECT_EQ(seconds_text(milliseconds(500)), "0.5 s");
  EXPECT_EQ(seconds_text(milliseconds(1250)), "1.25 s");
  EXPECT_EQ(seconds_text(milliseconds(1)), "0.001 s");
}

// --- exchange ------------------------------------------------------------

TEST_F(CtlClient, ExchangeSendsOneLineAndReadsOne) {
  FakeGsd gsd(sock(), answer("{\"ok\":true}\n{\"ignored\":1}\n"));
  auto r = exchange(sock(), R"({"cmd":"status","args":{}})", milliseconds(5000));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, R"({"ok":true})");
  EXPECT_EQ(gsd.request(), R"({"cmd":"status","args":{}})");
}

TEST_F(CtlClient, ExchangeAssemblesADribbledAnswer) {
  FakeGsd gsd(sock(), [](int fd) {
    for (char c : std::string("{\"ok\":true,\"result\":null}\n")) {
      send_all(fd, std::string_view(&c, 1));
      std::this_thread::sleep_for(milliseconds(2));
    }
  });
  auto r = exchange(sock(), "{}", milliseconds(5000));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, R"({"ok":true,"result":null})");
}

TEST_F(CtlClient, ExchangeNoSocket) {
  auto r = exchange(sock(), "{}", milliseconds(1000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kNoSocket);
  EXPECT_NE(r.error().message.find(sock()), std::string::npos);
  EXPECT_FALSE(check_socket_present(sock()).ok());
  EXPECT_FALSE(check_socket_present(sb_.path("no/such/dir/gsd.sock")).ok());
  EXPECT_TRUE(check_socket_present(sb_.dir()).ok());
}

TEST_F(CtlClient, ExchangeNobodyListening) {
  // Bound but not listening: what a crashed daemon leaves behind.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock().c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto r = exchange(sock(), "{}", milliseconds(1000));
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kRefused);
  EXPECT_NE(r.error().message.find(sock()), std::string::npos);

  // A regular file where the socket should be.
  const std::string file = sb_.write("plain", "x");
  r = exchange(file, "{}", milliseconds(1000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kRefused);
}

TEST_F(CtlClient, ExchangeBadPath) {
  for (const std::string& p : {std::string(), std::string(200, 'x'), std::string("a\0b", 3)}) {
    auto r = exchange(p, "{}", milliseconds(1000));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, kBadPath);
  }
}

TEST_F(CtlClient, ExchangeClosedWithoutAnswer) {
  {
    FakeGsd gsd(sock(), [](int) {});
    auto r = exchange(sock(), "{}", milliseconds(5000));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, kClosed);
    EXPECT_NE(r.error().message.find(sock()), std::string::npos);
  }
  ::unlink(sock().c_str());
  {
    // Closed before even reading the request.
    FakeGsd gsd(
        sock(), [](int) {}, /*read_request=*/false);
    auto r = exchange(sock(), "{}", milliseconds(5000));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, kClosed);
  }
}

TEST_F(CtlClient, ExchangeTimesOut) {
  FakeGsd gsd(sock(), wait_for_client_close);
  const auto start = Clock::now();
  auto r = exchange(sock(), "{}", milliseconds(300));
  const auto took = Clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kTimeout);
  EXPECT_NE(r.error().message.find("0.3 s"), std::string::npos) << r.error().message;
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(3000));
}

TEST(CtlAnswer, DecodeProgress) {
  auto p = decode_progress(R"({"progress":{"done":5,"total":10}})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->done, 5u);
  EXPECT_EQ(p->total, 10u);
  for (const char* not_progress :
       {R"({"ok":true,"result":null})", R"({"ok":true,"progress":{"done":1,"total":2}})",
        R"({"progress":{"done":-1,"total":2}})", R"({"progress":{"done":1}})", R"({"progress":3})",
        "not json", "[]"}) {
    EXPECT_FALSE(decode_progress(not_progress)) << not_progress;
  }
}

// Progress lines go to the callback, and each gives the answer the whole
// timeout again: here the answer comes after 4 x 150 ms with a timeout of
// 300 ms. Without a callback the first line is the answer.
TEST_F(CtlClient, ExchangeProgressResetsTheTimeout) {
  auto slow = [](int fd) {
    for (int i = 1; i <= 4; ++i) {
      std::this_thread::sleep_for(milliseconds(150));
      send_all(fd, R"({"progress":{"done":)" + std::to_string(i) + R"(,"total":4}})" + "\n");
    }
    std::this_thread::sleep_for(milliseconds(150));
    send_all(fd, "{\"ok\":true,\"result\":null}\n");
    wait_for_client_close(fd);
  };
  {
    FakeGsd gsd(sock(), slow);
    std::vector<uint64_t> seen;
    auto r = exchange(sock(), "{}", milliseconds(300), kControlMaxLine,
                      [&](const Progress& p) { seen.push_back(p.done); });
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, R"({"ok":true,"result":null})");
    EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4}));
  }
  {
    const std::string other = sb_.path("b.sock");
    FakeGsd gsd(other, slow);
    auto r = exchange(other, "{}", milliseconds(1000));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, R"({"progress":{"done":1,"total":4}})");
  }
}

// Progress that stops is not progress: the timeout runs out as before.
TEST_F(CtlClient, ExchangeProgressThatStopsTimesOut) {
  FakeGsd gsd(sock(), [](int fd) {
    send_all(fd, "{\"progress\":{\"done\":1,\"total\":4}}\n");
    wait_for_client_close(fd);
  });
  const auto start = Clock::now();
  int calls = 0;
  auto r = exchange(sock(), "{}", milliseconds(300), kControlMaxLine,
                    [&](const Progress&) { ++calls; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kTimeout);
  EXPECT_NE(r.error().message.find("reported no progress for 0.3 s"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(calls, 1);
  EXPECT_LT(Clock::now() - start, milliseconds(3000));
}

TEST_F(CtlClient, ExchangeTimesOutOnAHalfLine) {
  FakeGsd gsd(sock(), [](int fd) {
    send_all(fd, "{\"ok\":tr");
    wait_for_client_close(fd);
  });
  auto r = exchange(sock(), "{}", milliseconds(300));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kTimeout);
}

TEST_F(CtlClient, ExchangeCapsTheAnswer) {
  FakeGsd gsd(sock(), [](int fd) { send_all(fd, std::string(3 << 20, 'x')); });
  auto r = exchange(sock(), "{}", milliseconds(5000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kTooLong);
}

TEST_F(CtlClient, ExchangeCapIsExact) {
  {
    FakeGsd gsd(sock(), answer(std::string(100, 'x') + "\n"));
    auto r = exchange(sock(), "{}", milliseconds(5000), 100);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size(), 100u);
  }
  ::unlink(sock().c_str());
  {
    FakeGsd gsd(sock(), answer(std::string(101, 'x') + "\n"));
    auto r = exchange(sock(), "{}", milliseconds(5000), 100);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, kTooLong);
  }
}

TEST_F(CtlClient, ExchangeReturnsALastLineCutByClose) {
  FakeGsd gsd(sock(), answer(R"({"ok":true})"));
  auto r = exchange(sock(), "{}", milliseconds(5000));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, R"({"ok":true})");
}

// --- run(): exit codes and output ------------------------------------------

TEST_F(CtlClient, RunSuccessHumanAndJson) {
  {
    FakeGsd gsd(sock(), answer(R"({"ok":true,"result":[{"group":"g","owner":"alice","members":2}]})"
                               "\n"));
    auto r = gsctl({"list_groups"});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_EQ(r.out, "GROUP  OWNER  MEMBERS\ng      alice        2\n");
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(gsd.request(), R"({"cmd":"list_groups","args":{}})");
  }
  ::unlink(sock().c_str());
  {
    FakeGsd gsd(sock(), answer("{\"ok\":true,\"result\":null}\n"));
    auto r = gsctl({"--json", "create_group", "g"});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_EQ(r.out, "{\"ok\":true}\n");
    EXPECT_EQ(gsd.request(), R"({"cmd":"create_group","args":{"group":"g"}})");
  }
}

TEST_F(CtlClient, RunRefusal) {
  const std::string refusal =
      R"({"ok":false,"error":"wrong_password","message":"wrong password for user 'alice'"})"
      "\n";
  {
    FakeGsd gsd(sock(), answer(refusal));
    auto r = gsctl({"login", "alice", "nope"});
    EXPECT_EQ(r.code, kExitRefused);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "gsctl: wrong password for user 'alice'\n");
  }
  ::unlink(sock().c_str());
  {
    FakeGsd gsd(sock(), answer(refusal));
    auto r = gsctl({"login", "alice", "nope", "--json"});
    EXPECT_EQ(r.code, kExitRefused);
    EXPECT_EQ(r.out, R"({"error":"wrong_password","message":"wrong password for user 'alice'"})"
                     "\n");
    EXPECT_EQ(r.err, "gsctl: wrong password for user 'alice'\n");
  }
}

TEST_F(CtlClient, RunUnreachableExits3) {
  auto r = gsctl({"list_groups"});
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(sock()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Start gsd"), std::string::npos) << r.err;

  // GSD_SOCKET and --socket are the paths named.
  AppContext ctx;
  ctx.env.gsd_socket = sb_.path("env.sock");
  r = gsctl({"status"}, "", ctx);
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_NE(r.err.find("env.sock"), std::string::npos) << r.err;
  r = gsctl({"--socket", sb_.path("opt.sock"), "status"}, "", ctx);
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_NE(r.err.find("opt.sock"), std::string::npos) << r.err;
}

TEST_F(CtlClient, RunGarbageAnswerExits3) {
  for (const char* garbage : {"not json\n", "[1,2]\n", "{\"ok\":\"yes\"}\n", "\xff\xfe\n", "\n"}) {
    FakeGsd gsd(sock(), answer(garbage));
    auto r = gsctl({"--json", "status"});
    EXPECT_EQ(r.code, kExitUnreachable) << garbage;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(sock()), std::string::npos) << r.err;
    ::unlink(sock().c_str());
  }
}

TEST_F(CtlClient, RunWrongResultShapeExits3) {
  FakeGsd gsd(sock(), answer("{\"ok\":true,\"result\":\"surprise\"}\n"));
  auto r = gsctl({"list_groups"});
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("list_groups"), std::string::npos) << r.err;
}

TEST_F(CtlClient, RunClosedOrSilentDaemonExits3) {
  {
    FakeGsd gsd(sock(), [](int) {});
    auto r = gsctl({"status"});
    EXPECT_EQ(r.code, kExitUnreachable);
    EXPECT_NE(r.err.find("without answering"), std::string::npos) << r.err;
  }
  ::unlink(sock().c_str());
  {
    FakeGsd gsd(sock(), wait_for_client_close);
    auto r = gsctl({"--timeout", "0.2", "status"});
    EXPECT_EQ(r.code, kExitUnreachable);
    EXPECT_NE(r.err.find("did not answer within 0.2 s"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--timeout"), std::string::npos) << r.err;
  }
}

TEST_F(CtlClient, RunUsageErrorsExit2WithoutConnecting) {
  FakeGsd gsd(sock(), answer("{\"ok\":true}\n"));
  for (const auto& args : std::vector<std::vector<std::string>>{{},
                                                                {"no_such_command"},
                                                                {"create_group"},
                                                                {"accept_request", "g"},
                                                                {"create_group", "bad name"},
                                                                {"--bogus-option", "list_groups"},
                                                                {"help", "nope"}}) {
    auto r = gsctl(args);
    EXPECT_EQ(r.code, kExitUsage) << testing::PrintToString(args);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("usage: gsctl"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(gsd.connected());
}

TEST_F(CtlClient, RunHelpAndVersion) {
  auto r = gsctl({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("accept_request GROUP USER"), std::string::npos);
  EXPECT_EQ(r.err, "");
  r = gsctl({"help", "leave_group"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out.rfind("usage: gsctl [OPTIONS] leave_group GROUP\n", 0), 0u) << r.out;
  r = gsctl({"--version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, std::string("gsctl ") + GS_VERSION + "\n");
}

TEST_F(CtlClient, RunPasswordFromStdin) {
  FakeGsd gsd(sock(), answer("{\"ok\":true,\"result\":{\"user\":\"alice\"}}\n"));
  auto r = gsctl({"login", "--password-stdin", "alice"}, "s3cret pw\r\nsecond line\n");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "logged in as 'alice'\n");
  EXPECT_EQ(gsd.request(), R"({"cmd":"login","args":{"user":"alice","password":"s3cret pw"}})");
}

TEST_F(CtlClient, RunPasswordStdinProblemsExit2) {
  FakeGsd gsd(sock(), answer("{\"ok\":true}\n"));
  for (const std::string& in : {std::string(), std::string("\n"), std::string(2000, 'p') + "\n",
                                std::string("caf\xe9\n")}) {
    auto r = gsctl({"login", "--password-stdin", "alice"}, in);
    EXPECT_EQ(r.code, kExitUsage) << in.size();
    EXPECT_NE(r.err.find("--password-stdin"), std::string::npos) << r.err;
  }
  // No password anywhere and no terminal to ask on.
  auto r = gsctl({"login", "alice"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--password-stdin"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not a terminal"), std::string::npos) << r.err;
  EXPECT_FALSE(gsd.connected());
}

TEST_F(CtlClient, RunPromptsOnATerminal) {
  FakeGsd gsd(sock(), answer("{\"ok\":true,\"result\":null}\n"));
  std::vector<std::string> prompts;
  AppContext ctx;
  ctx.stdin_is_terminal = true;
  ctx.prompt = [&](std::string_view p) -> Result<std::string> {
    prompts.emplace_back(p);
    return std::string("typed");
  };
  auto r = gsctl({"create_user", "alice"}, "", ctx);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "created user 'alice'\n");
  EXPECT_EQ(prompts,
            (std::vector<std::string>{"New password for 'alice': ", "Repeat the password: "}));
  EXPECT_EQ(gsd.request(), R"({"cmd":"create_user","args":{"user":"alice","password":"typed"}})");
}

TEST_F(CtlClient, RunPromptMismatchOrFailureExits1WithoutSending) {
  FakeGsd gsd(sock(), answer("{\"ok\":true}\n"));
  int calls = 0;
  AppContext ctx;
  ctx.stdin_is_terminal = true;
  ctx.prompt = [&](std::string_view) -> Result<std::string> {
    return std::string(++calls % 2 ? "one" : "two");
  };
  auto r = gsctl({"create_user", "alice"}, "", ctx);
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_NE(r.err.find("differ"), std::string::npos) << r.err;

  ctx.prompt = [](std::string_view) -> Result<std::string> {
    return make_error("bad_password", "no password entered");
  };
  r = gsctl({"login", "alice"}, "", ctx);
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "gsctl: no password entered\n");
  EXPECT_FALSE(gsd.connected());
}

TEST_F(CtlClient, RunDoesNotPromptWhenThereIsNoDaemon) {
  bool asked = false;
  AppContext ctx;
  ctx.stdin_is_terminal = true;
  ctx.prompt = [&](std::string_view) -> Result<std::string> {
    asked = true;
    return std::string("x");
  };
  auto r = gsctl({"login", "alice"}, "", ctx);
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_FALSE(asked);
  EXPECT_NE(r.err.find(sock()), std::string::npos);
}

// --- the file commands ----------------------------------------------------

constexpr char kShowDownloads[] = R"({"cmd":"show_downloads","args":{}})";

std::string ok(const std::string& result) { return R"({"ok":true,"result":)" + result + "}"; }

// download_file's answer: queued, to /out/big.bin.
const std::string kQueued =
    ok(R"({"group":"g","name":"big.bin","dest":"/out/big.bin","size":10485760,"file_id":"ab"})");

// A show_downloads answer with one download of big.bin in `state`.
std::string downloads(std::string_view state, long long done, std::string_view error = "null",
                      std::string_view name = "big.bin") {
  return ok(R"([{"group":"g","name":")" + std::string(name) + R"(","state":")" +
            std::string(state) + R"(","done_bytes":)" + std::to_string(done) +
            R"(,"size":10485760,"peers":3,"dest":"/out/big.bin","rate":1048576,"error":)" +
            std::string(error) + R"(,"sources":[{"user":"s1","addr":"127.0.0.1:1","bytes":)" +
            std::to_string(done) + R"(}],"refetched_bytes":0,"file_id":"ab"}])");
}

class CtlFiles : public CtlClient {
 protected:
  // Quick polling, and no waiting on a silent fake for long.
  Run wait_run(std::vector<std::string> args, AppContext ctx = {}) {
    ctx.poll_interval = milliseconds(10);
    ctx.cwd = "/home/u";
    args.insert(args.begin(), {"--timeout", "2"});
    return gsctl(std::move(args), "", std::move(ctx));
  }
};

TEST_F(CtlFiles, UploadListStopShowWithoutWait) {
  {
    ScriptedGsd gsd(sock(),
                    {ok(R"({"group":"g","name":"big.bin","size":1572864,"file_id":"ab"})")});
    auto r = wait_run({"upload_file", "data/big.bin", "g"});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_EQ(r.out, "shared 'big.bin' (1.5 MiB) with 'g'\n");
    EXPECT_EQ(gsd.requests(), (std::vector<std::string>{
                                  R"({"cmd":"upload_file","args":{"path":"/home/u/data/big.bin",)"
                                  R"("group":"g"},"progress":true})"}));
  }
  {
    ScriptedGsd gsd(sock(), {ok("[]")});
    auto r = wait_run({"list_files", "g"});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_EQ(r.out, "no files shared in 'g'\n");
  }
  {
    ScriptedGsd gsd(sock(), {ok("null")});
    auto r = wait_run({"stop_share", "g", "big.bin"});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_EQ(r.out, "stopped sharing 'big.bin' with 'g'\n");
    EXPECT_EQ(gsd.requests(),
              (std::vector<std::string>{
                  R"({"cmd":"stop_share","args":{"group":"g","name":"big.bin"}})"}));
  }
  {
    ScriptedGsd gsd(sock(), {downloads("complete", 10485760)});
    auto r = wait_run({"show_downloads"});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_EQ(r.out.rfind("[C] [g] big.bin  100%  10.0 MiB/10.0 MiB", 0), 0u) << r.out;
  }
  {
    // --json: the list as gsd sent it.
    const std::string list = downloads("downloading", 5);
    ScriptedGsd gsd(sock(), {list});
    auto r = wait_run({"--json", "show_downloads"});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_EQ(r.out, Json::parse(list)->find("result")->dump() + "\n");
  }
}

TEST_F(CtlFiles, DownloadWithoutWaitReturnsOnceQueued) {
  ScriptedGsd gsd(sock(), {kQueued, downloads("complete", 10485760)});
  auto r = wait_run({"download_file", "g", "big.bin", "out"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "downloading 'big.bin' from 'g' to /out/big.bin\n");
  EXPECT_EQ(r.err, "");
  // One exchange only; --wait is not sent, --force is.
  EXPECT_EQ(gsd.requests(),
            (std::vector<std::string>{R"({"cmd":"download_file","args":{"group":"g",)"
                                      R"("name":"big.bin","dest":"/home/u/out","force":false}})"}));
}

TEST_F(CtlFiles, WaitUntilComplete) {
  ScriptedGsd gsd(sock(), {kQueued, downloads("downloading", 0), downloads("downloading", 3145728),
                           downloads("complete", 10485760)});
  auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait", "--force"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  // Not a terminal: no bar, only the last line.
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind("downloaded 'big.bin' to /out/big.bin (10.0 MiB in ", 0), 0u) << r.out;
  EXPECT_TRUE(r.out.ends_with(" s)\n")) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  const auto requests = gsd.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0], R"({"cmd":"download_file","args":{"group":"g","name":"big.bin",)"
                         R"("dest":"/out","force":true}})");
  for (size_t i = 1; i < requests.size(); ++i) EXPECT_EQ(requests[i], kShowDownloads);
}

// upload_file: gsd's progress lines as a bar on a terminal, erased before
// the answer is printed; nothing of them in a pipe.
TEST_F(CtlFiles, UploadShowsHashingProgressOnATerminal) {
  const std::string script = R"({"progress":{"done":524288,"total":1572864}})" "\n" +
                             ok(R"({"group":"g","name":"big.bin","size":1572864,"file_id":"ab"})");
  for (const bool terminal : {true, false}) {
    ScriptedGsd gsd(sock(), {script});
    AppContext ctx;
    ctx.stderr_is_terminal = terminal;
    ctx.terminal_columns = [] { return size_t{72}; };
    auto r = wait_run({"upload_file", "data/big.bin", "g"}, ctx);
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_EQ(r.out, "shared 'big.bin' (1.5 MiB) with 'g'\n");
    if (terminal) {
      EXPECT_EQ(r.err.rfind("\rbig.bin   33% [", 0), 0u) << testing::PrintToString(r.err);
      EXPECT_NE(r.err.find("]  hashing\x1b[K"), std::string::npos) << testing::PrintToString(r.err);
      EXPECT_TRUE(r.err.ends_with("\r\x1b[K")) << testing::PrintToString(r.err);
    } else {
      EXPECT_EQ(r.err, "");
    }
  }
}

TEST_F(CtlFiles, WaitShowsAProgressBarOnATerminal) {
  ScriptedGsd gsd(sock(),
                  {kQueued, downloads("downloading", 3145728), downloads("complete", 10485760)});
  AppContext ctx;
  ctx.stderr_is_terminal = true;
  ctx.terminal_columns = [] { return size_t{72}; };
  auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait"}, ctx);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.rfind("downloaded 'big.bin' to /out/big.bin (10.0 MiB in ", 0), 0u) << r.out;
  // Drawn in place with \r, erased at the end; nothing else on stderr.
  EXPECT_EQ(r.err.rfind("\rbig.bin   30% [", 0), 0u) << testing::PrintToString(r.err);
  EXPECT_NE(r.err.find("1.0 MiB/s  3 peers  ETA 7s\x1b[K"), std::string::npos)
      << testing::PrintToString(r.err);
  EXPECT_TRUE(r.err.ends_with("\r\x1b[K")) << testing::PrintToString(r.err);
  EXPECT_EQ(r.err.find('\n'), std::string::npos);
  const size_t start = r.err.find('\r') + 1;
  EXPECT_LE(r.err.find("\x1b[K") - start, 71u);
}

TEST_F(CtlFiles, WaitJsonPrintsTheFinalEntry) {
  const std::string done = downloads("complete", 10485760);
  ScriptedGsd gsd(sock(), {kQueued, downloads("downloading", 1), done});
  auto r = wait_run({"--json", "download_file", "g", "big.bin", "/out", "--wait"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, (*Json::parse(done)->find("result")).as_array()[0].dump() + "\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(CtlFiles, WaitEndsWhenTheDownloadFails) {
  ScriptedGsd gsd(sock(),
                  {kQueued, downloads("downloading", 3145728),
                   downloads("failed", 3145728, R"("piece 7 failed verification 5 times")")});
  auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "gsctl: downloading 'big.bin' from 'g' failed: piece 7 failed verification 5 times\n");

  // --json: the failed entry on stdout, the reason on stderr, still exit 1.
  const std::string failed = downloads("failed", 0, R"("no such file")");
  ScriptedGsd again(sb_.path("b.sock"), {kQueued, failed});
  r = wait_run(
      {"--socket", sb_.path("b.sock"), "--json", "download_file", "g", "big.bin", "/o", "--wait"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.out, (*Json::parse(failed)->find("result")).as_array()[0].dump() + "\n");
  EXPECT_NE(r.err.find("failed: no such file"), std::string::npos) << r.err;
}

TEST_F(CtlFiles, WaitEndsWhenGsdGoesAway) {
  {
    ScriptedGsd gsd(
        sock(), {kQueued, downloads("downloading", 3145728), std::string(ScriptedGsd::kVanish)});
    auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait"});
    EXPECT_EQ(r.code, kExitUnreachable);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("while waiting for 'big.bin'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(sock()), std::string::npos) << r.err;
  }
  {
    // Hangs up, or does not answer within --timeout.
    ScriptedGsd gsd(sock(), {kQueued, std::string(ScriptedGsd::kHangUp)});
    auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait"});
    EXPECT_EQ(r.code, kExitUnreachable);
    EXPECT_NE(r.err.find("without answering"), std::string::npos) << r.err;
  }
  {
    FakeGsd first(sock(), answer(kQueued + "\n"));
    // The second connection finds a socket that nobody accepts on in time.
    AppContext ctx;
    ctx.poll_interval = milliseconds(10);
    ctx.cwd = "/";
    const auto start = Clock::now();
    auto r = gsctl({"--timeout", "0.3", "download_file", "g", "big.bin", "/o", "--wait"}, "", ctx);
    EXPECT_EQ(r.code, kExitUnreachable);
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  }
}

TEST_F(CtlFiles, WaitEndsWhenTheEntryIsGone) {
  ScriptedGsd gsd(sock(), {kQueued, downloads("downloading", 1), ok("[]")});
  auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("'big.bin' from 'g' is no longer listed"), std::string::npos) << r.err;

  // Other downloads do not count.
  ScriptedGsd other(sb_.path("b.sock"),
                    {kQueued, downloads("downloading", 1, "null", "other.bin")});
  r = wait_run(
      {"--socket", sb_.path("b.sock"), "--json", "download_file", "g", "big.bin", "/o", "--wait"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(Json::parse(r.out)->get_string("error"), "no_such_download") << r.out;
}

TEST_F(CtlFiles, WaitSaysOnceThatTheDownloadIsPaused) {
  ScriptedGsd gsd(sock(), {kQueued, downloads("paused", 1, R"("logged out")"),
                           downloads("paused", 1, R"("logged out")"), downloads("downloading", 2),
                           downloads("complete", 10485760)});
  auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err,
            "gsctl: the download of 'big.bin' from 'g' is paused (logged out); still waiting for "
            "it to go on (Ctrl-C stops the waiting, not the download)\n");
}

TEST_F(CtlFiles, WaitPicksItsOwnEntry) {
  // An older complete download of the same name elsewhere, and this one.
  const std::string both =
      ok(R"([{"group":"g","name":"big.bin","state":"complete","done_bytes":5,"size":5,)"
         R"("dest":"/old/big.bin","file_id":"00"},)"
         R"({"group":"g","name":"big.bin","state":"failed","done_bytes":0,"size":10485760,)"
         R"("dest":"/out/big.bin","error":"disk full","file_id":"ab"}])");
  ScriptedGsd gsd(sock(), {kQueued, both});
  auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_NE(r.err.find("failed: disk full"), std::string::npos) << r.err;
}

TEST_F(CtlFiles, WaitRefusalsAndBadAnswers) {
  {
    // download_file itself refused: no waiting.
    ScriptedGsd gsd(sock(), {R"({"ok":false,"error":"dest_exists","message":"/out exists"})"});
    auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait"});
    EXPECT_EQ(r.code, kExitRefused);
    EXPECT_EQ(r.err, "gsctl: /out exists\n");
    EXPECT_EQ(gsd.requests().size(), 1u);
  }
  {
    // show_downloads refused (say, gsd logged out meanwhile... or too old).
    ScriptedGsd gsd(sock(), {kQueued, R"({"ok":false,"error":"unknown_command","message":"no"})"});
    auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait"});
    EXPECT_EQ(r.code, kExitRefused);
    EXPECT_EQ(r.err, "gsctl: while waiting for 'big.bin': no\n");
  }
  for (const std::string& bad :
       {std::string("garbage"), ok("{}"), ok(R"([{"group":"g","name":"big.bin"}])"),
        ok(R"([{"group":"g","name":"big.bin","state":"complete","done_bytes":"5","size":5}])")}) {
    ScriptedGsd gsd(sock(), {kQueued, bad});
    auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait"});
    EXPECT_EQ(r.code, kExitUnreachable) << bad;
    EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
  }
  {
    // A queued answer of the wrong shape is not taken for success.
    ScriptedGsd gsd(sock(), {ok(R"("queued")")});
    auto r = wait_run({"download_file", "g", "big.bin", "/out", "--wait"});
    EXPECT_EQ(r.code, kExitUnreachable);
    EXPECT_EQ(gsd.requests().size(), 1u);
  }
}

TEST_F(CtlFiles, UsageErrorsDoNotConnect) {
  FakeGsd gsd(sock(), answer("{\"ok\":true}\n"));
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"download_file", "g", "a/b", "/out"},
                                             {"download_file", "g", "..", "/out", "--wait"},
                                             {"download_file", "bad group", "a", "/out"},
                                             {"download_file", "g", "a", ""},
                                             {"download_file", "g", "a"},
                                             {"upload_file", "", "g"},
                                             {"list_files"},
                                             {"stop_share", "g", "."},
                                             {"show_downloads", "--wait"}}) {
    auto r = gsctl(args);
    EXPECT_EQ(r.code, kExitUsage) << testing::PrintToString(args);
    EXPECT_NE(r.err.find("usage: gsctl"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(gsd.connected());
}

}  // namespace
}  // namespace gs::ctl
