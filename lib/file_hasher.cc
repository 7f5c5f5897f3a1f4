#include "file_hasher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "fd.h"

namespace gs {
namespace {

std::string errno_text(int e) { return std::generic_category().message(e); }


// Fills buf[0, len) from `offset`. Returns the number of bytes read, which is
// less than len only at end of file; -1 with errno set on a read error.
ssize_t pread_full(int fd, char* buf, size_t len, uint64_t offset) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::pread(fd, buf + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

// Test builds: GS_TEST_HASH_PIECE_DELAY_MS=N makes hashing take N ms more
// per piece, so that the suite can hash a small file for longer than
// gsctl's timeout (tests/e2e/test_shell.py).
#ifdef GS_TEST_HOOKS
void test_hash_delay() {
  static const long delay_ms = [] {
    const char* v = std::getenv("GS_TEST_HASH_PIECE_DELAY_MS");
    return v ? std::strtol(v, nullptr, 10) : 0L;
  }();
  if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
}
#else
void test_hash_delay() {}
#endif

bool same_file_state(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Shared by the hashing threads. Pieces are handed out from one counter so
// that the threads together read the file front to back (kernel readahead
// sees a sequential stream) and a slow thread never leaves a tail behind.
struct HashJob {
  HashJob(int fd_in, const std::string& path_in, FileMeta& meta_in,
          const std::atomic<bool>* cancel_in, std::atomic<uint64_t>* hashed_in)
      : fd(fd_in), path(path_in), meta(meta_in), cancel(cancel_in), hashed(hashed_in) {}

  int fd;
  const std::string& path;
  FileMeta& meta;
  const std::atomic<bool>* cancel;
  std::atomic<uint64_t>* hashed;
  std::atomic<uint32_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::optional<Error> error;  // first error wins

  void fail(Error e) {
    std::lock_guard lock(mu);
    if (!error) error = std::move(e);
    stop = true;
  }

  void run() {
    const uint32_t count = meta.piece_count();
    // Uninitialised on purpose: pread overwrites it, and zero-filling a piece
    // per thread would be wasted work. A small file needs no whole piece.
    const auto buf = std::make_unique_for_overwrite<char[]>(
        static_cast<size_t>(std::min<uint64_t>(meta.piece_size, meta.size)));
    Sha256 sha;
    while (!stop.load(std::memory_order_relaxed)) {
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        fail(make_error("cancelled", "hashing " + path + " was cancelled"));
        return;
      }
      const PieceIndex piece{next.fetch_add(1, std::memory_order_relaxed)};
      if (piece.value() >= count) return;
      const uint32_t len = meta.piece_length(piece);
      const ssize_t n = pread_full(fd, buf.get(), len, meta.piece_offset(piece));
      if (n < 0) {
        fail(make_error("io_error", "cannot read " + path + ": " + errno_text(errno)));
        return;
      }
      if (static_cast<size_t>(n) != len) {
        fail(make_error("io_error", path + " changed while being hashed (it got shorter)"));
        return;
      }
      sha.update(buf.get(), len);
      meta.piece_hashes[piece.value()] = sha.finish();
      test_hash_delay();
      if (hashed) hashed->fetch_add(len, std::memory_order_relaxed);
    }
  }
};

}  // namespace

Result<FileMeta> hash_file(const std::string& path, uint32_t piece_size, unsigned threads,
                           const std::atomic<bool>* cancel) {
  // O_NONBLOCK so that opening a FIFO does not hang; it is refused below.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    return make_error("io_error", "cannot open " + path + ": " + errno_text(errno));
  }
  return hash_fd(fd.get(), path, piece_size, threads, cancel);
}

Result<FileMeta> hash_fd(int fd, const std::string& path, uint32_t piece_size, unsigned threads,
                         const std::atomic<bool>* cancel, std::atomic<uint64_t>* hashed) {
  struct stat before {};
  if (::fstat(fd, &before) != 0) {
    return make_error("io_error", "cannot stat " + path + ": " + errno_text(errno));
  }
  if (!S_ISREG(before.st_mode)) return make_error("io_error", path + " is not a regular file");

  FileMeta meta;
  meta.size = static_cast<uint64_t>(before.st_size);
  meta.piece_size = piece_size;
  if (auto layout = FileMeta::valid_layout(meta.size, piece_size); !layout) {
    return make_error("bad_file_meta", path + ": " + layout.error().message);
  }
  const uint32_t count = meta.piece_count();
  meta.piece_hashes.resize(count);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<uint64_t>(threads, count));

  HashJob job(fd, path, meta, cancel, hashed);
  if (threads <= 1) {
    job.run();
  } else {
    std::vector<std::jthread> pool;
    pool.reserve(threads - 1);
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back([&job] { job.run(); });
    job.run();
  }  // jthreads join here
  if (job.error) return *job.error;
  if (cancel && cancel->load()) {
    return make_error("cancelled", "hashing " + path + " was cancelled");
  }

  // A writer may have changed bytes we already hashed; size and mtime catch
  // the ordinary cases (an editor saving, a copy still in progress).
  struct stat after {};
  if (::fstat(fd, &after) != 0) {
    return make_error("io_error", "cannot stat " + path + ": " + errno_text(errno));
  }
  if (!same_file_state(before, after)) {
    return make_error("io_error", path + " changed while being hashed");
  }
  meta.file_id = FileMeta::compute_id(meta.size, meta.piece_size, meta.piece_hashes);
  return meta;
}

Result<Sha256Digest> hash_piece(int fd, const FileMeta& meta, PieceIndex piece,
                                std::string& buffer) {
  if (!meta.has_piece(piece)) {
    return make_error("io_error", "piece " + std::to_string(piece.value()) + " is past the end of a " +
                                      std::to_string(meta.piece_count()) + "-piece file");
  }
  const uint32_t len = meta.piece_length(piece);
  buffer.resize(len);
  const ssize_t n = pread_full(fd, buffer.data(), len, meta.piece_offset(piece));
  if (n < 0) {
    return make_error("io_error", "cannot read piece " + std::to_string(piece.value()) + ": " +
                                      errno_text(errno));
  }
  if (static_cast<size_t>(n) != len) {
    return make_error("io_error", "short read of piece " + std::to_string(piece.value()) + ": " +
                                      std::to_string(n) + " of " + std::to_string(len) +
                                      " bytes");
  }
  return sha256(buffer);
}

}  // namespace gs
