// gsctl against a fake gsd: a thread on a temp Unix socket that answers
// well, badly, late or never. Checks the exchange itself and run()'s exit
// codes and output end to end. Every wait is bounded.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

}  // namespace
}  // namespace gs::ctl
