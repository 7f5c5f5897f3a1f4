#include "write_probe.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "crypto.h"
#include "download_part.h"
#include "fd.h"

namespace gs::daemon {
namespace {

using Clock = std::chrono::steady_clock;

// A new empty file in `dir_fd` that no other process can open by name, or
// -1 with errno set.
int temp_file(int dir_fd) {
  const int fd = ::openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return fd;
  // No O_TMPFILE on this kernel or file system: a hidden random name,
  // removed at once (the open descriptor keeps the file until it closes).
  const std::string name = ".gs-write-probe-" + to_hex(random_bytes(8));
  const int named = ::openat(dir_fd, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (named < 0) return -1;
  if (unlinkat(dir_fd, name.c_str(), 0) != 0) {
    const int err = errno;
    ::close(named);
    errno = err;
    return -1;
  }
  return named;
}

// What a write is made of: one block, repeated. A whole chunk in memory
// would add its size to the daemon's peak memory for a moment's probe.
constexpr size_t kBlock = 128 * 1024;

// `size` bytes at `offset`, taken from `block` (kBlock bytes, aligned) over
// and over, in as few pwritev calls as it takes. 0, or the errno that
// stopped it.
int write_repeated(int fd, const char* block, size_t size, uint64_t offset) {
  constexpr int kMaxIov = 64;
  size_t done = 0;
  while (done < size) {
    iovec iov[kMaxIov];
    int count = 0;
    for (size_t at = done; at < size && count < kMaxIov; ++count) {
      const size_t skip = at % kBlock;
      const size_t len = std::min(kBlock - skip, size - at);
      iov[count] = iovec{const_cast<char*>(block) + skip, len};
      at += len;
    }
    const ssize_t n = pwritev(fd, iov, count, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

struct Round {
  double seconds = 0;
  int err = 0;        // what failed (errno), 0 when it did not
  bool late = false;  // the budget ran out before it finished
};

// One round: a new sparse file of `bytes`, written in `chunk`s with `path`
// the way write_piece writes pieces, then fdatasynced.
Round write_round(int dir_fd, WritePath path, const char* block, size_t chunk, uint64_t bytes,
                  Clock::time_point deadline) {
  Round r;
  Fd fd(temp_file(dir_fd));
  if (fd.get() < 0) {
    r.err = errno;
    return r;
  }
  // Set on the open file rather than at open: EINVAL here means "no
  // O_DIRECT on this file system", not "no O_TMPFILE".
  if (path == WritePath::direct && fcntl(fd.get(), F_SETFL, fcntl(fd.get(), F_GETFL) | O_DIRECT) != 0) {
    r.err = errno;
    return r;
  }
  const auto start = Clock::now();
  if (ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) {
    r.err = errno;
    return r;
  }
  for (uint64_t at = 0; at < bytes; at += chunk) {
    if (Clock::now() > deadline) {
      r.late = true;
      return r;
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk, bytes - at));
    if (path == WritePath::buffered) (void)readahead(fd.get(), static_cast<off64_t>(at), n);
    if ((r.err = write_repeated(fd.get(), block, n, at)) != 0) return r;
  }
  if (fdatasync(fd.get()) != 0) {
    r.err = errno;
    return r;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

Error probe_error(WritePath path, int err) {
  return make_error("io_error", std::string("a ") + std::string(write_path_name(path)) +
                                    " write of the probe failed: " + std::strerror(err));
}

}  // namespace

Result<WriteRates> probe_write_paths(int dir_fd, const WriteProbeLimits& limits) {
  // O_DIRECT wants the buffer, offsets and lengths aligned.
  const size_t chunk = std::max(kDirectIoAlign, limits.chunk / kDirectIoAlign * kDirectIoAlign);
  const uint64_t bytes = std::max<uint64_t>(kDirectIoAlign, limits.round_bytes / kDirectIoAlign * kDirectIoAlign);
  std::unique_ptr<char, decltype(&std::free)> block(static_cast<char*>(std::aligned_alloc(kDirectIoAlign, kBlock)),
                                                     &std::free);
  if (!block) return make_error("io_error", "no memory for the write probe");
  // Noise (splitmix64): a file system that compresses would make zeros look fast.
  uint64_t x = random_u64();
  for (size_t i = 0; i < kBlock; i += sizeof x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    z ^= z >> 31;
    std::memcpy(block.get() + i, &z, sizeof z);
  }

  const auto deadline = Clock::now() + limits.budget;
  double best_direct = 0;
  double best_buffered = 0;
  bool direct_usable = true;
  bool late = false;
  for (int round = 0; round < limits.rounds && !late; ++round) {
    // Direct first in even rounds, buffered first in odd ones: a drift of the
    // machine's speed during the probe favours neither.
    const WritePath order[2] = {round % 2 == 0 ? WritePath::direct : WritePath::buffered,
                                round % 2 == 0 ? WritePath::buffered : WritePath::direct};
    for (WritePath path : order) {
      if (path == WritePath::direct && !direct_usable) continue;
      if (Clock::now() > deadline) {
        late = true;
        break;
      }
      const Round r = write_round(dir_fd, path, block.get(), chunk, bytes, deadline);
      if (r.late) {
        late = true;
        break;
      }
      if (r.err == EINVAL && path == WritePath::direct) {
        direct_usable = false;  // no O_DIRECT here, or it wants a larger alignment
        continue;
      }
      if (r.err != 0) return probe_error(path, r.err);
      const double rate = static_cast<double>(bytes) / std::max(r.seconds, 1e-6);
      double& best = path == WritePath::direct ? best_direct : best_buffered;
      best = std::max(best, rate);
    }
  }
  if (best_buffered == 0 || (direct_usable && best_direct == 0)) {
    return make_error("too_slow", "no round of " + std::string(best_buffered == 0 ? "buffered" : "direct") +
                                      " writes finished within " + std::to_string(limits.budget.count()) + " ms");
  }
  return WriteRates{direct_usable ? best_direct : 0, best_buffered};
}

}  // namespace gs::daemon
