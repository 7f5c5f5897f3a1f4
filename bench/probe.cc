// probe: the best a leecher could do on this machine, without any network.
// Reads SRC in 512 KiB pieces (one thread); four more threads (as many as
// gsd's workers; measured faster here than two) each take a piece, SHA-256
// it and pwrite it to DST at its offset, with a bounded queue of piece
// buffers between them: both cores busy, nothing else to do. DST is sized up
// front and written as gsd writes (see write_piece in
// daemon/download_part.cc): pieces with O_DIRECT from page-aligned buffers,
// and where that is refused, through the page cache with readahead() of the
// piece's range first. The probe uses the best way known, not a weaker one.
// A refused O_DIRECT or a failing readahead is reported on stderr, since
// the probe would then be a weaker one.
// Prints one line: "bytes seconds bytes_per_second".
//
//   g++ -O2 -std=c++20 probe.cc -o probe -lcrypto -pthread
//   probe SRC DST
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace {

constexpr size_t kPiece = 512 * 1024;
constexpr size_t kBuffers = 8;

constexpr int kWriters = 4;
constexpr size_t kAlign = 4096;  // O_DIRECT: buffer, offset and length
struct Slot {
  std::unique_ptr<unsigned char, void (*)(void*)> data{
      static_cast<unsigned char*>(std::aligned_alloc(kAlign, kPiece)), &std::free};
  size_t len = 0;
  off_t offset = 0;
};

// All of [data, data + len) at offset; false on an error (errno set).
bool write_all(int fd, const unsigned char* data, size_t len, off_t offset) {
  size_t put = 0;
  while (put < len) {
    const ssize_t n = ::pwrite(fd, data + put, len - put, offset + static_cast<off_t>(put));
    if (n <= 0) return false;
    put += static_cast<size_t>(n);
  }
  return true;
}

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
  const int out = ::open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0) {
    std::perror("open");
    return 1;
  }
  struct stat st {};
  if (::fstat(in, &st) != 0 || ::ftruncate(out, st.st_size) != 0) {
    std::perror("size DST");
    return 1;
  }
  const int out_direct = ::open(argv[2], O_WRONLY | O_DIRECT);
  std::atomic<bool> direct{out_direct >= 0};
  if (out_direct < 0) std::perror("probe: O_DIRECT");
  std::vector<Slot> slots(kBuffers);
  for (auto& s : slots) free_slots.push_back(&s);

  const auto start = std::chrono::steady_clock::now();
  bool read_error = false;
  std::thread reader([&] {
    off_t offset = 0;
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
        const ssize_t n = ::read(in, s->data.get() + got, kPiece - got);
        if (n < 0) {
          read_error = true;
          break;
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
      }
      s->len = got;
      s->offset = offset;
      offset += static_cast<off_t>(got);
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

  std::atomic<unsigned long long> total{0};
  std::atomic<unsigned> x{0};  // keeps the digests live
  std::atomic<bool> readahead_failed{false};
  auto writer = [&] {
    bool write_error = false;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    for (;;) {
      Slot* s;
      {
        std::unique_lock lk(mu);
        cv.wait(lk, [] { return !full.empty() || eof; });
        if (full.empty()) return;
        s = full.front();
        full.pop_front();
      }
      if (EVP_Digest(s->data.get(), s->len, digest, &dlen, EVP_sha256(), nullptr) != 1) {
        write_error = true;
      }
      x ^= digest[0];
      bool written = false;
      if (direct && s->len % kAlign == 0 && s->offset % static_cast<off_t>(kAlign) == 0) {
        written = write_all(out_direct, s->data.get(), s->len, s->offset);
        if (!written && errno == EINVAL && direct.exchange(false)) std::perror("probe: O_DIRECT write");
        if (!written && errno != EINVAL) write_error = true;
      }
      if (!written && !write_error) {
        if (readahead(out, s->offset, s->len) != 0 && !readahead_failed.exchange(true)) {
          std::perror("probe: readahead");
        }
        write_error = !write_all(out, s->data.get(), s->len, s->offset);
      }
      total += s->len;
      std::lock_guard lk(mu);
      free_slots.push_back(s);
      cv.notify_all();
      if (write_error) {
        // The reader and the other writer may be waiting on the queue: no
        // orderly stop is worth the code in a probe.
        std::fprintf(stderr, "probe: cannot hash or write %s\n", argv[2]);
        std::_Exit(1);
      }
    }
  };
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) writers.emplace_back(writer);
  for (auto& w : writers) w.join();
  reader.join();
  ::close(in);
  if (out_direct >= 0) ::close(out_direct);
  const bool close_error = ::close(out) != 0;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (read_error || close_error) {
    std::fprintf(stderr, "probe: I/O error\n");
    return 1;
  }
  const unsigned long long bytes = total;
  std::printf("%llu %.6f %.0f %u\n", bytes, secs, secs > 0 ? bytes / secs : 0.0, x.load());
  return 0;
}
