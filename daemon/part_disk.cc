#include "part_disk.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#ifdef GS_TEST_HOOKS
#include <atomic>
#include <cstdlib>

#include "log.h"
#endif

namespace gs::daemon {
namespace {

#ifdef GS_TEST_HOOKS
// Test hook: GS_TEST_WRITE_ERRORS=N makes the first N piece writes of this
// process fail as a failing device would (EIO), so that the e2e tests can
// show a write error pausing a download and the download getting over it.
bool injected_write_error() {
  static std::atomic<long> left = [] {
    const char* v = std::getenv("GS_TEST_WRITE_ERRORS");
    const long n = v ? std::strtol(v, nullptr, 10) : 0;
    if (n > 0)
      log_warn("test hook GS_TEST_WRITE_ERRORS=", n, " is active: the first ", n,
               " piece writes fail with EIO");
    return n > 0 ? n : 0;
  }();
  long n = left.load();
  while (n > 0 && !left.compare_exchange_weak(n, n - 1)) {
  }
  return n > 0;
}
#endif

class RealPartDisk final : public PartDisk {
 public:
  Status write(PartFile& part, uint64_t offset, std::string_view data) override {
#ifdef GS_TEST_HOOKS
    if (injected_write_error()) {
      return make_error(disk_error_code(EIO, kWriteFailed),
                        std::string("cannot write the partial file: ") + std::strerror(EIO));
    }
#endif
    return write_piece(part, offset, data);
  }
  Status sync(int fd) override { return sync_part(fd); }
  Result<DiskUse> use(const std::string& dir, const std::string& part_path) override {
    struct statvfs vfs {};
    if (statvfs(dir.c_str(), &vfs) != 0) {
      return make_error("io_error",
                        "cannot check the free space in " + dir + ": " + std::strerror(errno));
    }
    DiskUse out;
    out.free = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    struct stat st {};
    if (lstat(part_path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      out.part_allocated = static_cast<uint64_t>(st.st_blocks) * 512;
    }
    return out;
  }
};

}  // namespace

PartDisk& real_part_disk() {
  static RealPartDisk disk;
  return disk;
}

}  // namespace gs::daemon
