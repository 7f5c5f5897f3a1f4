#include "part_disk.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

namespace gs::daemon {
namespace {

class RealPartDisk final : public PartDisk {
 public:
  Status write(PartFile& part, uint64_t offset, std::string_view data) override {
    return write_piece(part, offset, data);
  }
  Status sync(int fd) override { return sync_part(fd); }
  Result<DiskUse> use(const std::string& dir, const std::string& part_path) override {
    struct statvfs vfs {};
    if (statvfs(dir.c_str(), &vfs) != 0) {
      return make_error("io_error", "cannot check the free space in " + dir + ": " + std::strerror(errno));
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
