// probe: the best a leecher could do on this machine, without any network.
// Reads SRC in 512 KiB pieces (thread 1), SHA-256s each piece and writes it to
// DST (thread 2), with a bounded queue of piece buffers between the two.
// Prints one line: "bytes seconds bytes_per_second".
//
//   g++ -O2 -std=c++20 probe.cc -o probe -lcrypto -pthread
//   probe SRC DST
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace {

constexpr size_t kPiece = 512 * 1024;
constexpr size_t kBuffers = 8;

struct Slot {
  std::vector<unsigned char> data = std::vector<unsigned char>(kPiece);
  size_t len = 0;
};

std::mutex mu;
std::condition_variable cv;
std::deque<Slot*> full, free_slots;
bool eof = false;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: probe SRC DST\n");
    return 2;
  }
  const int in = ::open(argv[1], O_RDONLY);
  const int out = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0) {
    std::perror("open");
    return 1;
  }
  std::vector<Slot> slots(kBuffers);
  for (auto& s : slots) free_slots.push_back(&s);

  const auto start = std::chrono::steady_clock::now();
  bool read_error = false;
  std::thread reader([&] {
    for (;;) {
      Slot* s;
      {
        std::unique_lock lk(mu);
        cv.wait(lk, [] { return !free_slots.empty(); });
        s = free_slots.front();
        free_slots.pop_front();
      }
      size_t got = 0;
      while (got < kPiece) {
        const ssize_t n = ::read(in, s->data.data() + got, kPiece - got);
        if (n < 0) {
          read_error = true;
          break;
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
      }
      s->len = got;
      std::lock_guard lk(mu);
      if (got == 0) {
        eof = true;
        free_slots.push_back(s);
        cv.notify_all();
        return;
      }
      full.push_back(s);
      cv.notify_all();
      if (got < kPiece) {
        eof = true;
        return;
      }
    }
  });

  unsigned long long total = 0;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  unsigned char x = 0;  // keeps the digests live
  bool write_error = false;
  for (;;) {
    Slot* s;
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [] { return !full.empty() || eof; });
      if (full.empty()) break;
      s = full.front();
      full.pop_front();
    }
    if (EVP_Digest(s->data.data(), s->len, digest, &dlen, EVP_sha256(), nullptr) != 1) return 1;
    x ^= digest[0];
    size_t put = 0;
    while (put < s->len) {
      const ssize_t n = ::write(out, s->data.data() + put, s->len - put);
      if (n <= 0) {
        write_error = true;
        break;
      }
      put += static_cast<size_t>(n);
    }
    total += s->len;
    std::lock_guard lk(mu);
    free_slots.push_back(s);
    cv.notify_all();
    if (write_error) break;
  }
  reader.join();
  ::close(in);
  if (::close(out) != 0) write_error = true;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (read_error || write_error) {
    std::fprintf(stderr, "probe: I/O error\n");
    return 1;
  }
  std::printf("%llu %.6f %.0f %u\n", total, secs, secs > 0 ? total / secs : 0.0, x);
  return 0;
}
