// The partial file of a download (DEST.gs-part) and the checks that let a
// download resume after a crash or after someone changed the file.
//
// The file is created sparse (ftruncate to the full size, never fallocate), so
// its holes show which regions were never written: after a kill -9, pieces
// that were written after the last commit of the piece bitmap are found by
// their data regions (SEEK_DATA / SEEK_HOLE) and re-hashed instead of being
// fetched again.
//
// Where the bytes go: the destination directory is opened once (DestDir)
// and everything after that is done by name relative to it (openat,
// renameat), never through a symbolic link: the partial file is created
// with O_EXCL and O_NOFOLLOW, reopened with O_NOFOLLOW, and renamed into
// place within that directory. A directory of the path swapped for a link
// to elsewhere, or a link put in place of the partial file or of DEST, makes
// a step fail; it never makes a download write outside its destination.
//
// Everything here that touches the disk blocks: call it from a worker thread.
// plan_resume() is pure and is where the resume policy lives.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>

#include "bitfield.h"
#include "fd.h"
#include "file_meta.h"
#include "result.h"

namespace gs::daemon {

inline constexpr std::string_view kPartSuffix = ".gs-part";

// Error codes of a disk that fails under a download: a write or a sync of
// the partial file (write_piece, sync_part, the sync of finalize_part), or
// creating or sizing it. The download pauses on these instead of failing
// (download.h), since room can be made and a device can come back; every
// other failure here is "io_error".
inline constexpr std::string_view kNoSpace = "no_space";          // ENOSPC, EDQUOT (also when creating)
inline constexpr std::string_view kWriteFailed = "write_failed";  // any other error of a write or a sync
// kNoSpace for `err` ENOSPC or EDQUOT, else `otherwise`.
std::string disk_error_code(int err, std::string_view otherwise);

// Pieces whose bytes sit at an address, file offset and length that are all
// multiples of this go to the disk with O_DIRECT (see write_piece).
inline constexpr size_t kDirectIoAlign = 4096;
// The region PartFile::allocate_around allocates at once: large enough that
// its exclusive lock is taken rarely (32 times per GiB), small enough that a
// nearly full disk still takes the pieces that fit around it.
inline constexpr uint64_t kAllocChunk = 32ull << 20;

// The directory of `path` ("/" for "/x") and its last component.
std::string parent_dir(const std::string& path);
std::string base_name(const std::string& path);

// A download's destination directory, opened once.
class DestDir {
 public:
  // `path`: absolute and without symbolic links (as realpath(3) gives it).
  // It is opened one component at a time without following any link: a
  // symbolic link anywhere in it is refused (io_error naming it), since a
  // path that had none when the download began and has one now was changed
  // by someone else.
  static Result<std::shared_ptr<DestDir>> open(const std::string& path);
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  // path()/name, for messages and for what must go by path (serving).
  std::string path_of(const std::string& name) const;

 private:
  DestDir(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Fd fd_;
  std::string path_;
};

// Which file a name or descriptor refers to.
struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  static FileIdentity of(const struct stat& st);
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

// An open partial file, shared by the loop and the worker jobs that write
// pieces into it (pwrite/pread at offsets, so one descriptor serves them
// all); closed when the last holder lets go.
class PartFile {
 public:
  // Creates `name` in `dir` and sizes it to `size` without allocating. An
  // old file (or link) of that name is removed first and the new one made
  // with O_EXCL: nothing that was there is ever written into.
  // `direct_io`: aligned piece writes may bypass the page cache (write_piece;
  // whether they do is then use_direct()'s).
  static Result<std::shared_ptr<PartFile>> create(std::shared_ptr<DestDir> dir, const std::string& name,
                                                  uint64_t size, bool direct_io);
  // Opens the existing regular file `name` in `dir`; error code "missing"
  // when it does not exist. A symbolic link, or a file with other hard
  // links (which would be written through), is refused (io_error).
  static Result<std::shared_ptr<PartFile>> open(std::shared_ptr<DestDir> dir, const std::string& name,
                                                bool direct_io);
  // The same, for a path whose directory is opened here (tests, tools).
  static Result<std::shared_ptr<PartFile>> create(const std::string& path, uint64_t size, bool direct_io);
  static Result<std::shared_ptr<PartFile>> open(const std::string& path, bool direct_io);
  ~PartFile();
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  const DestDir& dir() const { return *dir_; }
  const std::string& name() const { return name_; }
  // The file this descriptor has open (not whatever its name leads to now).
  FileIdentity identity() const { return identity_; }
  // A second descriptor with O_DIRECT for aligned piece writes; -1 when the
  // file system refused it, a direct write failed with EINVAL once, or the
  // page cache was chosen (use_direct).
  int direct_fd() const { return direct_ok_ && direct_chosen_ ? direct_fd_ : -1; }
  void stop_direct() { direct_ok_ = false; }
  // Whether aligned pieces go direct when they can: the write path chosen
  // for the file's file system (WritePaths). On until said otherwise.
  void use_direct(bool on) { direct_chosen_ = on; }
  // Allocates the blocks of the kAllocChunk-sized region around
  // [offset, offset + len) the first time a direct write lands in it
  // (fallocate mode 0: holes only, data already there kept; never past the
  // file's size). Why: ext4 holds a file's inode lock exclusively for the
  // whole of a direct write into a hole, disk round trip included, so the
  // workers writing pieces of one file waited for each other; a direct write
  // into allocated blocks takes the lock shared, and they overlap. Measured
  // on the bench machine (1 GiB, 4 workers): the workers' time blocked in
  // the kernel halved. Failing is harmless: the write goes on and reports
  // its own error (a full disk still pauses the download on that write).
  void allocate_around(uint64_t offset, uint64_t len);

 private:
  PartFile(int fd, std::shared_ptr<DestDir> dir, std::string name, const struct stat& st, bool direct_io);
  int fd_;
  int direct_fd_ = -1;
  std::atomic<bool> direct_ok_{false};
  std::atomic<bool> direct_chosen_{true};
  std::mutex alloc_mu_;
  std::vector<bool> allocated_;  // per kAllocChunk: allocate_around tried it
  std::shared_ptr<DestDir> dir_;
  std::string name_;
  std::string path_;
  FileIdentity identity_;
};

struct PartStat {
  int64_t size = 0;
  int64_t mtime_ns = 0;
};
Result<PartStat> stat_part(int fd);

// All of `data` at `offset` (short writes and EINTR retried): with O_DIRECT
// when `data` and `offset` are aligned (kDirectIoAlign), the file allows it
// and direct writes were chosen for it, else through the page cache.
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

// Whether `name` in the directory `dir_fd` is a regular file (not a
// symbolic link) holding exactly the file `meta` describes (every piece
// hashed; a missing file is false). Reads the whole file: for the rare
// recovery paths below, not for every completion. `found`, when given and
// the answer is true, gets the file's stat.
Result<bool> holds_file_at(int dir_fd, const std::string& name, const FileMeta& meta, struct stat* found = nullptr);
// The same for a path (its last component is not followed).
Result<bool> holds_file(const std::string& path, const FileMeta& meta);

// The final step: fsync the file, rename it to `dest_name` in its own
// directory (refusing to replace an existing one unless `replace`), fsync
// the directory so the rename itself survives a crash. The name renamed must
// still be `part`'s file, and afterwards `dest_name` must be it (io_error
// otherwise: someone swapped something in). A `dest_name` that already holds
// exactly `meta` is this download's own output, renamed by a run that died
// before it could record that: the partial file is removed and the step
// succeeds. Whatever is at `dest_name` is replaced or refused, never
// followed: a symbolic link there is not the download's, and with `replace`
// the link itself is replaced.
Status finalize_part(PartFile& part, const std::string& dest_name, const FileMeta& meta, bool replace);

}  // namespace gs::daemon
