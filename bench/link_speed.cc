// gs-link-speed: how fast one FramedConn link carries piece data, plain and
// TLS, measured in the same run so their ratio means something on a busy
// machine. The transport alone: no hashing, no disk writes, no picker.
//
//   gs-link-speed [--mib 512] [--rounds 3] [--piece-kib 512] [--only plain|tls]
//                 [--file PATH] [--depth N]
//
// A sender thread serves a file (--file, or one made in /tmp; page-cached) as PeerServer
// does: 5-byte piece heads with a FileRange each, two pieces queued, woken
// with a piece's worth of room. A receiver thread lands every payload in a
// page-aligned buffer through payload_buffer, as PeerClient does. --depth N:
// the receiver asks for each piece and keeps N requests outstanding, and the
// sender serves only what was asked for (the daemon's request pipeline). Each round
// runs plain, then TLS; prints the rate of each, the CPU seconds of each
// thread and, at the end, the median TLS / plain ratio.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <event2/event.h>

#include "file_source.h"
#include "framed_conn.h"
#include "identity.h"
#include "tls.h"

namespace gs {
namespace {

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Result {
  double seconds = 0;
  double sender_cpu = 0;
  double receiver_cpu = 0;
  bool ok = false;
};

struct Sender {
  event_base* base = nullptr;
  const FileSource* file = nullptr;
  uint64_t piece = 0;
  uint64_t next = 0;
  FramedConn* link = nullptr;
  double cpu = 0;
  int depth = 0;          // 0: send everything; else only what was asked for
  uint64_t asked = 0;     // pieces requested
  uint64_t served = 0;
  bool reading = true;

  void pump() {
    const uint64_t size = file->size();
    while (next < size && link->pending_output() < 2 * piece && (depth == 0 || served < asked)) {
      ++served;
      const uint64_t len = std::min(piece, size - next);
      const char head[5] = {7, 0, 0, 0, 0};
      if (!link->send_frame({std::string_view(head, sizeof head), FileRange{file, next, len}})) return;
      next += len;
    }
    // As PeerServer: requests wait in the socket while two pieces are queued.
    const bool full = link->pending_output() >= 2 * piece;
    if (depth > 0 && full == reading) {
      reading = !full;
      link->set_reading(reading);
    }
    link->set_drain_threshold(next < size ? piece : 0);
    if (next >= size && link->pending_output() == 0) link->close_after_flush("done");
  }
};

Result run_once(const FileSource& file, uint64_t piece, const TlsContext* tls_s, const TlsContext* tls_c,
                int depth) {
  Result r;
  std::promise<uint16_t> port_p;
  auto port_f = port_p.get_future();
  std::atomic<bool> sender_done{false};
  std::thread st([&] {
    Sender s;
    s.base = event_base_new();
    s.file = &file;
    s.piece = piece;
    s.depth = depth;
    const double cpu0 = thread_cpu();
    auto l = Listener::open(s.base, Endpoint{"127.0.0.1", 0}, [&](evutil_socket_t fd, const std::string& p) {
      FramedConn::Handlers h;
      h.on_drained = [&](FramedConn&) { s.pump(); };
      h.on_frame = [&](FramedConn&, std::string_view) {
        ++s.asked;
        s.pump();
      };
      h.on_close = [&](FramedConn&, const CloseReason&) {
        s.link = nullptr;
        event_base_loopbreak(s.base);
      };
      s.link = FramedConn::accept(s.base, fd, 16 << 20, p, std::move(h), {tls_s, {}});
      if (s.link) s.pump();
    });
    if (!l) {
      port_p.set_value(0);
      return;
    }
    port_p.set_value((*l)->port());
    event_base_dispatch(s.base);
    s.cpu = thread_cpu() - cpu0;
    r.sender_cpu = s.cpu;
    delete *l;
    event_base_free(s.base);
    sender_done = true;
  });
  const uint16_t port = port_f.get();
  if (port == 0) {
    st.join();
    return r;
  }
  event_base* base = event_base_new();
  const size_t cap = piece + 64;
  char* landing = static_cast<char*>(aligned_alloc(4096, (cap + 4095) / 4096 * 4096));
  uint64_t got = 0;
  const uint64_t want = file.size();
  FramedConn* link = nullptr;
  FramedConn::Handlers h;
  h.payload_buffer = [&](FramedConn&, size_t size, std::string_view) -> char* {
    return size <= cap ? landing : nullptr;
  };
  uint64_t asked = 0;
  const uint64_t pieces = (want + piece - 1) / piece;
  const auto ask = [&](FramedConn& c) {
    if (asked < pieces) {
      ++asked;
      c.send("R");
    }
  };
  if (depth > 0) {
    h.on_connected = [&](FramedConn& c) {
      for (int i = 0; i < depth; ++i) ask(c);
    };
  }
  h.on_frame = [&](FramedConn& c, std::string_view payload) {
    got += payload.size() >= 5 ? payload.size() - 5 : 0;
    if (got >= want) {
      c.close("done");
    } else if (depth > 0) {
      ask(c);
    }
  };
  h.on_close = [&](FramedConn&, const CloseReason&) {
    link = nullptr;
    event_base_loopbreak(base);
  };
  auto to = resolve(Endpoint{"127.0.0.1", port});
  const double cpu0 = thread_cpu();
  const auto t0 = std::chrono::steady_clock::now();
  link = FramedConn::connect(base, *to, 16 << 20, "sender", std::move(h), {tls_c, {}});
  if (link) event_base_dispatch(base);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.receiver_cpu = thread_cpu() - cpu0;
  r.ok = got == want;
  event_base_free(base);
  free(landing);
  st.join();
  return r;
}

std::string make_file(uint64_t size) {
  char path[] = "/tmp/gs-link-speed-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return {};
  std::mt19937_64 rng(42);
  std::vector<uint64_t> block(1 << 17);
  for (uint64_t done = 0; done < size;) {
    for (auto& w : block) w = rng();
    const size_t n = static_cast<size_t>(std::min<uint64_t>(block.size() * 8, size - done));
    if (write(fd, block.data(), n) != static_cast<ssize_t>(n)) break;
    done += n;
  }
  close(fd);
  return path;
}

int run(int argc, char** argv) {
  uint64_t mib = 512;
  int rounds = 3;
  uint64_t piece_kib = 512;
  std::string only;
  std::string given;
  int depth = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--mib") mib = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--rounds") rounds = std::atoi(argv[i + 1]);
    else if (a == "--piece-kib") piece_kib = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--only") only = argv[i + 1];
    else if (a == "--file") given = argv[i + 1];
    else if (a == "--depth") depth = std::atoi(argv[i + 1]);
  }
  uint64_t size = mib << 20;
  if (!given.empty()) {
    struct stat st{};
    if (stat(given.c_str(), &st) != 0) return 1;
    size = static_cast<uint64_t>(st.st_size);
  }
  const std::string path = given.empty() ? make_file(size) : given;
  auto file = FileSource::open(path, size);
  if (!file) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    return 1;
  }
  auto id_s = Identity::ephemeral();
  auto id_c = Identity::ephemeral();
  auto tls_s = TlsContext::create(*id_s);
  auto tls_c = TlsContext::create(*id_c);
  if (!tls_s || !tls_c) return 1;
  std::vector<double> ratios;
  for (int i = 0; i < rounds; ++i) {
    double plain = 0, secure = 0;
    for (int mode = 0; mode < 2; ++mode) {
      const bool tls = mode == 1;
      if (!only.empty() && only != (tls ? "tls" : "plain")) continue;
      const Result r = run_once(**file, piece_kib << 10, tls ? tls_s->get() : nullptr,
                                tls ? tls_c->get() : nullptr, depth);
      const double rate = static_cast<double>(size) / r.seconds / (1 << 20);
      (tls ? secure : plain) = rate;
      std::printf("%-5s %8.1f MiB/s  %.3f s  cpu sender %.3f s receiver %.3f s%s\n", tls ? "tls" : "plain",
                  rate, r.seconds, r.sender_cpu, r.receiver_cpu, r.ok ? "" : "  INCOMPLETE");
      std::fflush(stdout);
    }
    if (plain > 0 && secure > 0) ratios.push_back(secure / plain);
  }
  if (given.empty()) unlink(path.c_str());
  if (!ratios.empty()) {
    std::sort(ratios.begin(), ratios.end());
    std::printf("median tls/plain %.3f (", ratios[ratios.size() / 2]);
    for (double x : ratios) std::printf(" %.3f", x);
    std::printf(" )\n");
  }
  return 0;
}

}  // namespace
}  // namespace gs

int main(int argc, char** argv) { return gs::run(argc, argv); }
