// gs-tracker-load: peer look-ups (or writes) per second that one gs-tracker
// answers.
//
//   gs-tracker-load --port P [--host 127.0.0.1] [--connections 200]
//                   [--peers 50] [--warmup 1] [--duration 10] [--writes 1]
//
// --writes 1: each request is a create_group of a new group, with a request
// id of its own (a write the cluster logs, ships and commits before it
// answers) instead of a file_info look-up; answers are checked the same way.
//
// Sets up a swarm (tracker_load_setup.h: --peers users logged in with
// distinct peer ports, one group, one one-piece file every user announced),
// then opens --connections greeted connections, each using the token of one
// of the peers, and keeps exactly one file_info request outstanding on each,
// as wrk keeps one HTTP request outstanding per connection. Answers that
// arrive within --duration seconds after a --warmup are counted.
//
// Every answer is checked: it must carry its request's id and "ok":true (a
// prefix compare, since the tracker writes id and ok first); every
// kFullCheckEvery-th answer is parsed in full and must list every other peer.
// A single-threaded epoll loop keeps the generator's own CPU use low: it runs
// on the same machine as the tracker.
//
// Prints a human summary on stderr and one JSON object on stdout. Exit status
// 0 when every answer was right, 1 when one was not or the run failed, 2 on a
// usage error.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fd.h"
#include "frame.h"
#include "json.h"
#include "names.h"
#include "tracker_load_setup.h"

namespace gs::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr uint64_t kFullCheckEvery = 1000;
// Latency samples kept (the rest are counted, not kept): bounded memory.
constexpr size_t kMaxLatencySamples = 8u << 20;
// Reads per readiness event before the loop moves on to other connections.
constexpr int kReadsPerEvent = 8;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int connections = 200;
  int peers = 50;
  double warmup_s = 1.0;
  double duration_s = 10.0;
  bool writes = false;
};

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// An exit code when the program should stop at once.
std::optional<int> parse_args(int argc, char** argv, Options& o) {
  auto usage = [](const std::string& why) {
    std::fprintf(stderr,
                 "gs-tracker-load: %s\nusage: gs-tracker-load --port P [--host 127.0.0.1] "
                 "[--connections 200] [--peers 50] [--warmup 1] [--duration 10] [--writes 0|1]\n",
                 why.c_str());
    return kExitUsage;
  };
  for (int i = 1; i < argc; i += 2) {
    const std::string_view name = argv[i];
    if (i + 1 >= argc) return usage(std::string(name) + " needs a value");
    const std::string_view value = argv[i + 1];
    if (name == "--host") {
      o.host = value;
      continue;
    }
    const auto v = parse_number(value);
    if (!v) return usage(std::string(name) + " needs a number");
    if (name == "--port" && *v >= 1 && *v <= 65535) {
      o.port = static_cast<uint16_t>(*v);
    } else if (name == "--connections" && *v >= 1 && *v <= 10000) {
      o.connections = static_cast<int>(*v);
    } else if (name == "--peers" && *v >= 2 && *v <= 1000) {
      o.peers = static_cast<int>(*v);
    } else if (name == "--warmup" && *v >= 0 && *v <= 60) {
      o.warmup_s = *v;
    } else if (name == "--duration" && *v >= 0.1 && *v <= 600) {
      o.duration_s = *v;
    } else if (name == "--writes" && (*v == 0 || *v == 1)) {
      o.writes = *v == 1;
    } else {
      return usage("unknown option or value out of range: " + std::string(name));
    }
  }
  if (o.port == 0) return usage("--port is required");
  return std::nullopt;
}

// Each connection is a descriptor; raise the soft limit if it is too low.
void fit_fd_limit(int connections) {
  rlimit lim{};
  const rlim_t wanted = static_cast<rlim_t>(connections) + 64;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= wanted) return;
  lim.rlim_cur = std::min(wanted, lim.rlim_max);
  setrlimit(RLIMIT_NOFILE, &lim);
}

struct Conn {
  int fd = -1;       // closed by LoadLoop; -1 once dropped
  std::string tail;  // the request after its id: op, token, group, name
  std::string in;    // received bytes not yet handled
  std::string out;   // request bytes not yet sent
  int64_t id = 0;    // of the outstanding request
  SteadyClock::time_point sent{};
  bool watching_output = false;
};

struct Totals {
  uint64_t answers = 0;  // all, warm-up included
  uint64_t counted = 0;  // inside the measurement window
  uint64_t errors = 0;
  uint64_t answer_bytes = 0;  // of the last answer, for the report
  std::string first_error;
  std::vector<uint32_t> latencies_us;  // of counted answers
};

// The measurement: every connection, one epoll set, one request outstanding
// per connection.
class LoadLoop {
 public:
  LoadLoop(const Options& o, const Swarm& swarm, const SwarmSpec& spec)
      : options_(o), swarm_(swarm), spec_(spec), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {}
  ~LoadLoop() {
    for (Conn& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
  }
  LoadLoop(const LoadLoop&) = delete;
  LoadLoop& operator=(const LoadLoop&) = delete;

  Status open_connections() {
    if (epoll_.get() < 0) return make_error("io_error", "epoll_create1 failed");
    conns_.reserve(static_cast<size_t>(options_.connections));
    for (int i = 0; i < options_.connections; ++i) {
      auto fd = connect_and_greet(options_.host, options_.port);
      if (!fd) {
        return make_error(fd.error().code,
                          "connection " + std::to_string(i) + ": " + fd.error().message);
      }
      Conn& c = conns_.emplace_back();
      c.fd = fd->release();
      const std::string& token = swarm_.tokens[static_cast<size_t>(i) % swarm_.tokens.size()];
      // Writes: the request's group name and rid are added per request.
      c.tail = options_.writes ? ",\"op\":\"create_group\",\"token\":\"" + token + "\""
                               : ",\"op\":\"file_info\",\"token\":\"" + token + "\",\"group\":\"" +
                                     spec_.group + "\",\"name\":\"" + spec_.file_name + "\"}";
      const int flags = ::fcntl(c.fd, F_GETFL);
      if (flags < 0 || ::fcntl(c.fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        return make_error("io_error", std::string("O_NONBLOCK: ") + std::strerror(errno));
      }
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = conns_.size() - 1;
      if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.fd, &ev) != 0) {
        return make_error("io_error", std::string("epoll_ctl: ") + std::strerror(errno));
      }
      ++open_;
    }
    return Ok{};
  }

  // Runs the warm-up and the measurement window; bounded by their length.
  void run() {
    const auto start = SteadyClock::now();
    window_start_ = start + to_duration(options_.warmup_s);
    window_end_ = window_start_ + to_duration(options_.duration_s);
    totals_.latencies_us.reserve(1u << 20);
    for (size_t i = 0; i < conns_.size(); ++i) send_request(i, start);
    std::vector<epoll_event> events(256);
    while (SteadyClock::now() < window_end_ && open_ > 0) {
      const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 50);
      if (n < 0 && errno != EINTR) {
        fail(std::string("epoll_wait: ") + std::strerror(errno));
        break;
      }
      for (int k = 0; k < n; ++k) {
        const epoll_event& ev = events[static_cast<size_t>(k)];
        const size_t i = ev.data.u64;
        if ((ev.events & EPOLLOUT) && conns_[i].fd >= 0) flush(i);
        if ((ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && conns_[i].fd >= 0) on_readable(i);
      }
    }
    const auto end = std::min(SteadyClock::now(), window_end_);
    measured_s_ = std::chrono::duration<double>(end - window_start_).count();
  }

  const Totals& totals() const { return totals_; }
  double measured_seconds() const { return measured_s_; }

 private:
  static SteadyClock::duration to_duration(double s) {
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  }

  void fail(const std::string& what) {
    ++totals_.errors;
    if (totals_.first_error.empty()) totals_.first_error = what;
  }

  void drop(size_t i, const std::string& why) {
    fail("connection " + std::to_string(i) + ": " + why);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, conns_[i].fd, nullptr);
    ::close(conns_[i].fd);
    conns_[i].fd = -1;
    --open_;
  }

  void send_request(size_t i, SteadyClock::time_point now) {
    Conn& c = conns_[i];
    c.id = ++last_id_;
    char id[24];
    const auto res = std::to_chars(id, id + sizeof id, c.id);
    const std::string_view id_text(id, static_cast<size_t>(res.ptr - id));
    constexpr std::string_view kHead = "{\"id\":";
    std::string more;  // writes: a new group and a rid, both from the run and the id
    if (options_.writes) {
      char rid[33];
      std::snprintf(rid, sizeof rid, "%016llx%016llx", static_cast<unsigned long long>(run_),
                    static_cast<unsigned long long>(c.id));
      more = ",\"group\":\"w" + std::string(rid, 8) + "-" + std::string(id_text) + "\",\"rid\":\"" +
             rid + "\"}";
    }
    unsigned char header[kFrameHeaderSize];
    store_be32(header,
               static_cast<uint32_t>(kHead.size() + id_text.size() + c.tail.size() + more.size()));
    c.out.append(reinterpret_cast<const char*>(header), sizeof header);
    c.out.append(kHead).append(id_text).append(c.tail).append(more);
    c.sent = now;
    flush(i);
  }

  void flush(size_t i) {
    Conn& c = conns_[i];
    if (!c.out.empty()) {
      const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        drop(i, std::string("send: ") + std::strerror(errno));
        return;
      }
      if (n > 0) c.out.erase(0, static_cast<size_t>(n));
    }
    const bool want = !c.out.empty();
    if (want != c.watching_output) {
      epoll_event ev{};
      ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
      ev.data.u64 = i;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd, &ev);
      c.watching_output = want;
    }
  }

  void on_readable(size_t i) {
    char buf[64 * 1024];
    for (int r = 0; r < kReadsPerEvent; ++r) {
      const ssize_t n = ::recv(conns_[i].fd, buf, sizeof buf, 0);
      if (n == 0) {
        drop(i, "closed by the tracker");
        return;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        drop(i, std::string("recv: ") + std::strerror(errno));
        return;
      }
      conns_[i].in.append(buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof buf) break;
    }
    handle_frames(i);
  }

  void handle_frames(size_t i) {
    Conn& c = conns_[i];
    size_t used = 0;
    // Bounded by the bytes received: each pass consumes one whole frame.
    while (c.in.size() - used >= kFrameHeaderSize) {
      const uint32_t size = load_be32(reinterpret_cast<const unsigned char*>(c.in.data() + used));
      if (size > kTrackerMaxFrame) {
        drop(i, "oversized frame");
        return;
      }
      if (c.in.size() - used - kFrameHeaderSize < size) break;
      const std::string_view payload(c.in.data() + used + kFrameHeaderSize, size);
      used += kFrameHeaderSize + size;
      on_answer(i, payload);
      if (c.fd < 0) return;
    }
    c.in.erase(0, used);
  }

  void on_answer(size_t i, std::string_view payload) {
    Conn& c = conns_[i];
    const auto now = SteadyClock::now();
    ++totals_.answers;
    totals_.answer_bytes = payload.size();
    char prefix[48];
    // A write's answer is {"id":N,"ok":true}; a look-up's goes on after a comma.
    const int len = std::snprintf(prefix, sizeof prefix, "{\"id\":%lld,\"ok\":true%c",
                                  static_cast<long long>(c.id), options_.writes ? '}' : ',');
    if (payload.substr(0, static_cast<size_t>(len)) != std::string_view(prefix, len)) {
      fail("answer not ok: " + std::string(payload.substr(0, 300)));
    } else if (!options_.writes && totals_.answers % kFullCheckEvery == 1) {
      check_in_full(payload);
    }
    if (now >= window_start_ && now < window_end_) {
      ++totals_.counted;
      if (totals_.latencies_us.size() < kMaxLatencySamples) {
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - c.sent);
        totals_.latencies_us.push_back(static_cast<uint32_t>(us.count()));
      }
    }
    if (now < window_end_) send_request(i, now);
  }

  // The whole answer: the file asked for, listing every other peer.
  void check_in_full(std::string_view payload) {
    auto answer = Json::parse(payload);
    const Json* peers = answer ? answer->find("peers") : nullptr;
    if (!peers || !peers->is_array() || peers->size() != swarm_.listed_peers ||
        answer->get_string("file_id") != swarm_.file_id) {
      fail("answer does not list the swarm: " + std::string(payload.substr(0, 300)));
    }
  }

  const Options& options_;
  const Swarm& swarm_;
  const SwarmSpec& spec_;
  Fd epoll_;
  std::vector<Conn> conns_;
  size_t open_ = 0;
  int64_t last_id_ = 0;
  // Tells this run's group names and rids from an earlier run's on the same tracker.
  const uint64_t run_ = static_cast<uint64_t>(SteadyClock::now().time_since_epoch().count());
  SteadyClock::time_point window_start_{};
  SteadyClock::time_point window_end_{};
  double measured_s_ = 0;
  Totals totals_;
};

// The q-quantile (0..1) of the samples in milliseconds; reorders them.
double quantile_ms(std::vector<uint32_t>& us, double q) {
  if (us.empty()) return 0;
  const size_t k = std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())));
  std::nth_element(us.begin(), us.begin() + static_cast<std::ptrdiff_t>(k), us.end());
  return us[k] / 1000.0;
}

std::string json_text(const std::string& s) { return Json(s).dump(); }

int run(const Options& o) {
  fit_fd_limit(o.connections);
  SwarmSpec spec;
  spec.host = o.host;
  spec.port = o.port;
  spec.peers = o.peers;
  auto swarm = set_up_swarm(spec);
  if (!swarm) {
    std::fprintf(stderr, "gs-tracker-load: set-up failed: %s\n", swarm.error().message.c_str());
    return kExitFailed;
  }
  std::fprintf(stderr, "gs-tracker-load: %d peers, file_info lists %zu; opening %d connections\n",
               o.peers, swarm->listed_peers, o.connections);
  LoadLoop loop(o, *swarm, spec);
  if (auto s = loop.open_connections(); !s) {
    std::fprintf(stderr, "gs-tracker-load: %s\n", s.error().message.c_str());
    return kExitFailed;
  }
  loop.run();
  Totals t = loop.totals();
  const double secs = loop.measured_seconds();
  const double rate = secs > 0 ? static_cast<double>(t.counted) / secs : 0;
  const double p50 = quantile_ms(t.latencies_us, 0.5);
  const double p99 = quantile_ms(t.latencies_us, 0.99);
  std::fprintf(stderr,
               "gs-tracker-load: %.0f %s/s (%llu answers in %.2f s, %d connections), "
               "latency p50 %.2f ms p99 %.2f ms, answer %llu bytes, %llu errors%s%s\n",
               rate, o.writes ? "writes" : "lookups", static_cast<unsigned long long>(t.counted), secs,
               o.connections, p50, p99,
               static_cast<unsigned long long>(t.answer_bytes),
               static_cast<unsigned long long>(t.errors), t.errors ? ": " : "",
               t.first_error.c_str());
  std::printf(
      "{\"%s_per_s\":%.1f,\"answers\":%llu,\"all_answers\":%llu,\"seconds\":%.3f,"
      "\"connections\":%d,"
      "\"peers\":%d,\"listed_peers\":%zu,\"answer_bytes\":%llu,\"p50_ms\":%.3f,"
      "\"p99_ms\":%.3f,\"errors\":%llu,\"first_error\":%s}\n",
      o.writes ? "writes" : "lookups", rate, static_cast<unsigned long long>(t.counted),
      static_cast<unsigned long long>(t.answers),
      secs, o.connections, o.peers, swarm->listed_peers,
      static_cast<unsigned long long>(t.answer_bytes), p50, p99,
      static_cast<unsigned long long>(t.errors), json_text(t.first_error).c_str());
  return t.errors == 0 && t.counted > 0 ? 0 : kExitFailed;
}

}  // namespace
}  // namespace gs::bench

int main(int argc, char** argv) {
  gs::bench::Options options;
  if (auto code = gs::bench::parse_args(argc, argv, options)) return *code;
  return gs::bench::run(options);
}
