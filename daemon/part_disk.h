// The calls of a download that a full or failing disk makes fail: writing a
// piece into the partial file, syncing it, and asking how much room is left.
// Behind an interface so that unit tests can make them fail at will (a real
// full disk needs root and a small file system: tests/e2e/test_disk_full.py).
//
// Everything here blocks: called on the workers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "download_part.h"
#include "result.h"

namespace gs::daemon {

struct DiskUse {
  uint64_t free = 0;            // bytes this process may still write in the directory (statvfs f_bavail)
  uint64_t part_allocated = 0;  // bytes the partial file holds on disk (0 when it is missing)
};

class PartDisk {
 public:
  virtual ~PartDisk() = default;
  // write_piece and sync_part (download_part.h).
  virtual Status write(PartFile& part, uint64_t offset, std::string_view data) = 0;
  virtual Status sync(int fd) = 0;
  // The directory `dir` (by path: a look, nothing is written) and the file
  // `part_path` in it (not followed if it is a link).
  virtual Result<DiskUse> use(const std::string& dir, const std::string& part_path) = 0;
};

// The real calls.
PartDisk& real_part_disk();

}  // namespace gs::daemon
