// The partial file of a download (DEST.gs-part) and the checks that let a
// download resume after a crash or after someone changed the file.
//
// The file is created sparse (ftruncate to the full size, never fallocate), so
// its holes show which regions were never written: after a kill -9, pieces
// that were written after the last commit of the piece bitmap are found by
// their data regions (SEEK_DATA / SEEK_HOLE) and re-hashed instead of being
// fetched again.
//
// Everything here that touches the disk blocks: call it from a worker thread.
// plan_resume() is pure and is where the resume policy lives.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bitfield.h"
#include "file_meta.h"
#include "result.h"

namespace gs::daemon {

inline constexpr std::string_view kPartSuffix = ".gs-part";

// Pieces whose bytes sit at an address, file offset and length that are all
// multiples of this go to the disk with O_DIRECT (see write_piece).
inline constexpr size_t kDirectIoAlign = 4096;

// An open partial file, shared by the loop and the worker jobs that write
// pieces into it (pwrite/pread at offsets, so one descriptor serves them
// all); closed when the last holder lets go.
class PartFile {
 public:
  // Creates (or empties) `path` and sizes it to `size` without allocating.
  // `direct_io`: aligned piece writes may bypass the page cache (write_piece).
  static Result<std::shared_ptr<PartFile>> create(const std::string& path, uint64_t size, bool direct_io);
  // Opens an existing file; error code "missing" when it does not exist.
  static Result<std::shared_ptr<PartFile>> open(const std::string& path, bool direct_io);
  ~PartFile();
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // A second descriptor with O_DIRECT for aligned piece writes; -1 when the
  // file system refused it or a direct write failed with EINVAL once.
  int direct_fd() const { return direct_ok_ ? direct_fd_ : -1; }
  void stop_direct() { direct_ok_ = false; }

 private:
  PartFile(int fd, std::string path, bool direct_io);
  int fd_;
  int direct_fd_ = -1;
  std::atomic<bool> direct_ok_{false};
  std::string path_;
};

struct PartStat {
  int64_t size = 0;
  int64_t mtime_ns = 0;
};
Result<PartStat> stat_part(int fd);

// All of `data` at `offset` (short writes and EINTR retried): with O_DIRECT
// when `data` and `offset` are aligned (kDirectIoAlign) and the file allows
// it, else through the page cache.
Status write_piece(PartFile& part, uint64_t offset, std::string_view data);
// fdatasync: what was written so far survives a power cut.
Status sync_part(int fd);

struct Region {
  uint64_t offset = 0;
  uint64_t length = 0;
};
// The regions of the first `size` bytes that hold data, in order. Where the
// file system cannot tell (no SEEK_DATA), all of it counts as data.
Result<std::vector<Region>> data_regions(int fd, uint64_t size);

// The verdict on each piece when a download resumes.
struct ResumePlan {
  std::vector<PieceIndex> keep;   // marked done and trusted as they are
  std::vector<PieceIndex> check;  // to re-hash; those that verify count as done
  std::vector<PieceIndex> lost;   // marked done, but no longer in the file
  // The file is not what the last commit saw (size or mtime): every piece
  // marked done is re-hashed.
  bool changed = false;
};

// Pure. `done`: the committed bitmap; `saved`: size and mtime at that commit
// (saved.size < 0: unknown, treated as changed); `now`: the file as found;
// `regions`: its data regions. Pieces marked done are kept unless the file
// changed; then those still inside the file are re-checked and the rest are
// lost. Pieces not marked done that touch a data region are re-checked: their
// bytes may have been written after the last commit.
ResumePlan plan_resume(const FileMeta& meta, const Bitfield& done, const PartStat& saved, const PartStat& now,
                       const std::vector<Region>& regions);

// Whether `path` holds exactly the file `meta` describes (every piece
// hashed; a missing file is false). Reads the whole file: for the rare
// recovery paths below, not for every completion.
Result<bool> holds_file(const std::string& path, const FileMeta& meta);

// The final step: fsync the file, rename it to `dest` (refusing to replace an
// existing `dest` unless `replace`), fsync the directory so the rename itself
// survives a crash. A `dest` that already holds exactly `meta` is this
// download's own output, renamed by a run that died before it could record
// that: the partial file is removed and the step succeeds.
Status finalize_part(int fd, const std::string& part_path, const std::string& dest, const FileMeta& meta,
                     bool replace);

}  // namespace gs::daemon
