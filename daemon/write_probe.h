// The measurement behind daemon.write_path = "auto": how fast a directory's
// file system makes written bytes durable through each write path
// (write_path.h).
//
// Each round writes `round_bytes` into a new sparse temporary file in the
// directory, the way write_piece does (direct: O_DIRECT from an aligned
// buffer; buffered: readahead of the range, then pwrite), fdatasyncs it and
// closes it. Rounds alternate between the paths and each path keeps its
// best round: the machine is shared, and a disturbance only ever slows a
// round down. The file is made with O_TMPFILE where the file system has it
// (nothing is ever visible), else under a hidden random name removed as soon
// as it is open. At most one round's file exists at a time, and every write
// repeats one 128 KiB block, so the probe costs little memory.
//
// Blocks for up to about `budget` (one chunk and one fdatasync may run past
// it): run it on a worker thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "result.h"
#include "write_path.h"

namespace gs::daemon {

struct WriteProbeLimits {
  uint64_t round_bytes = uint64_t{8} << 20;
  // One pwrite. A single writer with 2 MiB keeps about as much in flight as
  // gsd's four workers writing 512 KiB pieces.
  size_t chunk = size_t{2} << 20;
  int rounds = 3;  // per path
  // Past it no further round starts; a path with no finished round by then
  // fails the probe (a disk that slow is no place for direct writes).
  std::chrono::milliseconds budget{2000};
};

// The best rate of each path in `dir_fd` (direct = 0 where O_DIRECT is
// refused). An error when a buffered round fails (no space, I/O error) or
// no round of some path finished within the budget.
Result<WriteRates> probe_write_paths(int dir_fd, const WriteProbeLimits& limits = {});

}  // namespace gs::daemon
