#include "download_part.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "download_steps.h"
#include "file_hasher.h"

namespace gs::daemon {
namespace {

Error io_error(const std::string& what, const std::string& path, int err) {
  return make_error(disk_error_code(err, "io_error"), what + " " + path + ": " + std::strerror(err));
}

// Whether `name` in `dir_fd` is a symbolic link (to say so rather than
// "too many levels of symbolic links" or "not a directory").
bool is_link_at(int dir_fd, const std::string& name) {
  struct stat st {};
  return fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

Error link_refused(const std::string& path) {
  return make_error("io_error", path + " is a symbolic link; a download never follows one");
}

}  // namespace

std::string disk_error_code(int err, std::string_view otherwise) {
  return std::string(err == ENOSPC || err == EDQUOT ? kNoSpace : otherwise);
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Result<std::shared_ptr<DestDir>> DestDir::open(const std::string& path) {
  if (path.empty() || path[0] != '/') return make_error("io_error", "not an absolute directory: " + path);
  // Components but the last are opened with O_PATH (search permission is
  // all they need); the last for reading, so that it can be fsynced.
  Fd fd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("cannot open", "/", errno);
  std::string walked;
  size_t at = 1;
  std::vector<std::string> parts;
  while (at < path.size()) {
    size_t slash = path.find('/', at);
    if (slash == std::string::npos) slash = path.size();
    if (slash > at) parts.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    walked += "/" + part;
    if (part == "." || part == "..") return make_error("io_error", "not a canonical directory path: " + path);
    const int flags = (i + 1 == parts.size() ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    Fd next(::openat(fd.get(), part.c_str(), flags));
    if (next.get() < 0) {
      const int err = errno;
      if (is_link_at(fd.get(), part)) return link_refused(walked);
      return io_error("cannot open directory", walked, err);
    }
    fd = std::move(next);
  }
  if (parts.empty()) {
    fd = Fd(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return io_error("cannot open", "/", errno);
  }
  return std::shared_ptr<DestDir>(new DestDir(std::move(fd), path));
}

std::string DestDir::path_of(const std::string& name) const {
  return (path_ == "/" ? std::string() : path_) + "/" + name;
}

FileIdentity FileIdentity::of(const struct stat& st) {
  return FileIdentity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

Result<std::shared_ptr<PartFile>> PartFile::create(std::shared_ptr<DestDir> dir, const std::string& name,
                                                   uint64_t size, bool direct_io) {
  const std::string path = dir->path_of(name);
  // Never O_TRUNC on what is there: it may be a link, or another file's
  // hard link. A new file, or nothing.
  if (unlinkat(dir->fd(), name.c_str(), 0) != 0 && errno != ENOENT) return io_error("cannot remove", path, errno);
  const int fd = ::openat(dir->fd(), name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) return make_error("io_error", "cannot create " + path + ": something else was put there meanwhile");
    return io_error("cannot create", path, err);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return io_error("cannot stat", path, err);
  }
  std::shared_ptr<PartFile> f(new PartFile(fd, std::move(dir), name, st, direct_io));
  // ftruncate, not fallocate: the holes are how a resume after a crash finds
  // the pieces written after the last commit.
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) return io_error("cannot size", path, errno);
  return f;
}

Result<std::shared_ptr<PartFile>> PartFile::open(std::shared_ptr<DestDir> dir, const std::string& name,
                                                 bool direct_io) {
  const std::string path = dir->path_of(name);
  const int fd = ::openat(dir->fd(), name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return make_error("missing", path + " does not exist");
    if (is_link_at(dir->fd(), name)) return link_refused(path);
    return io_error("cannot open", path, err);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error("io_error", path + " is not a regular file");
  }
  if (st.st_nlink > 1) {
    ::close(fd);
    return make_error("io_error", path + " has other hard links; a download never writes into another file");
  }
  return std::shared_ptr<PartFile>(new PartFile(fd, std::move(dir), name, st, direct_io));
}

Result<std::shared_ptr<PartFile>> PartFile::create(const std::string& path, uint64_t size, bool direct_io) {
  auto dir = DestDir::open(parent_dir(path));
  if (!dir) return dir.error();
  return create(std::move(*dir), base_name(path), size, direct_io);
}

Result<std::shared_ptr<PartFile>> PartFile::open(const std::string& path, bool direct_io) {
  auto dir = DestDir::open(parent_dir(path));
  if (!dir) return dir.error();
  return open(std::move(*dir), base_name(path), direct_io);
}

PartFile::PartFile(int fd, std::shared_ptr<DestDir> dir, std::string name, const struct stat& st, bool direct_io)
    : fd_(fd), dir_(std::move(dir)), name_(std::move(name)), path_(dir_->path_of(name_)),
      identity_(FileIdentity::of(st)) {
  // Refused on file systems without O_DIRECT: the page cache it is, then.
  // Opened by name, so only kept if it is the same file as fd_.
  if (direct_io) {
    direct_fd_ = ::openat(dir_->fd(), name_.c_str(), O_WRONLY | O_DIRECT | O_NOFOLLOW | O_CLOEXEC);
    struct stat dst {};
    if (direct_fd_ >= 0 && (fstat(direct_fd_, &dst) != 0 || !(FileIdentity::of(dst) == identity_))) {
      ::close(direct_fd_);
      direct_fd_ = -1;
    }
  }
  direct_ok_ = direct_fd_ >= 0;
}

void PartFile::allocate_around(uint64_t offset, uint64_t len) {
  if (len == 0) return;
  std::lock_guard<std::mutex> lock(alloc_mu_);
  const uint64_t last = (offset + len - 1) / kAllocChunk;
  for (uint64_t chunk = offset / kAllocChunk; chunk <= last; ++chunk) {
    if (chunk >= allocated_.size()) allocated_.resize(chunk + 1, false);
    if (allocated_[chunk]) continue;
    allocated_[chunk] = true;  // tried once: a failure is not retried for every piece
    struct stat st {};
    if (fstat(fd_, &st) != 0) return;
    const uint64_t from = chunk * kAllocChunk;
    const uint64_t to = std::min<uint64_t>(from + kAllocChunk, static_cast<uint64_t>(st.st_size));
    if (to > from) (void)fallocate(fd_, 0, static_cast<off_t>(from), static_cast<off_t>(to - from));
  }
}

PartFile::~PartFile() {
  ::close(fd_);
  if (direct_fd_ >= 0) ::close(direct_fd_);
}

Result<PartStat> stat_part(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return make_error("io_error", std::string("cannot stat the partial file: ") + std::strerror(errno));
  return PartStat{static_cast<int64_t>(st.st_size),
                  static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

namespace {

// 0, or the errno that stopped it (EIO for a write that made no progress).
int write_all(int fd, uint64_t offset, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

Status write_result(int err) {
  if (err == 0) return Ok{};
  return make_error(disk_error_code(err, kWriteFailed), std::string("cannot write the partial file: ") + std::strerror(err));
}

bool aligned(uint64_t v) { return v % kDirectIoAlign == 0; }

}  // namespace

Status write_piece(PartFile& part, uint64_t offset, std::string_view data) {
  // A verified piece goes straight to the disk when direct writes were
  // chosen for its file system (WritePaths measures both paths there): it
  // was hashed in memory already, so caching it would only push other
  // files' pages out of the page cache, and it spares the CPU the copy into
  // newly made page-cache pages (on one VM, whose fresh memory is faulted in
  // from the host, that copy made writes ~4 x slower; on other disks direct
  // writes are the slower ones). fdatasync still covers these writes (it
  // works on the file, not the descriptor).
  const int direct = part.direct_fd();
  if (direct >= 0 && aligned(reinterpret_cast<uintptr_t>(data.data())) && aligned(offset) && aligned(data.size())) {
    part.allocate_around(offset, data.size());
    const int err = write_all(direct, offset, data);
    if (err != EINVAL) return write_result(err);
    part.stop_direct();  // alignment the file system wants is larger, or it has no O_DIRECT
  }
  // Bring the piece's range into the page cache first (zeros, for the hole a
  // missing piece is), then overwrite it. A buffered write that has to create
  // its page-cache pages does so 4 KiB at a time under the file's inode lock,
  // so the worker threads writing pieces of the same file queue up behind
  // each other; readahead creates them in large folios without that lock, in
  // parallel. Measured on the bench machine (4 threads, 512 KiB pieces in
  // random order into a 1 GiB sparse file): 230 MiB/s plain, 1,700 MiB/s with
  // this. Failing is harmless: the write then creates the pages itself.
  (void)readahead(part.fd(), static_cast<off64_t>(offset), data.size());
  return write_result(write_all(part.fd(), offset, data));
}

Status sync_part(int fd) {
  if (fdatasync(fd) != 0) {
    const int err = errno;
    return make_error(disk_error_code(err, kWriteFailed), std::string("cannot sync the partial file: ") + std::strerror(err));
  }
  return Ok{};
}

Result<std::vector<Region>> data_regions(int fd, uint64_t size) {
  std::vector<Region> out;
  off_t at = 0;
  const off_t end = static_cast<off_t>(size);
  while (at < end) {
    const off_t data = lseek(fd, at, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // no data past `at`
      if (errno == EINVAL) {
        // The file system cannot say: treat the rest as data, so every piece
        // in it is re-hashed rather than silently trusted or lost.
        out.push_back({static_cast<uint64_t>(at), static_cast<uint64_t>(end - at)});
        break;
      }
      return make_error("io_error", std::string("cannot scan the partial file: ") + std::strerror(errno));
    }
    if (data >= end) break;
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return make_error("io_error", std::string("cannot scan the partial file: ") + std::strerror(errno));
    if (hole > end) hole = end;
    if (hole <= data) break;  // cannot happen; never loop forever on it
    out.push_back({static_cast<uint64_t>(data), static_cast<uint64_t>(hole - data)});
    at = hole;
  }
  return out;
}

ResumePlan plan_resume(const FileMeta& meta, const Bitfield& done, const PartStat& saved, const PartStat& now,
                       const std::vector<Region>& regions) {
  ResumePlan plan;
  const auto file_size = static_cast<uint64_t>(std::max<int64_t>(now.size, 0));
  plan.changed = saved.size < 0 || saved.size != now.size || saved.mtime_ns != now.mtime_ns ||
                 file_size != meta.size;
  size_t r = 0;  // regions are sorted: one walk for all pieces
  for (PieceIndex p : all_pieces(meta.piece_count())) {
    const uint64_t begin = meta.piece_offset(p);
    const uint64_t end = begin + meta.piece_length(p);
    const bool inside = end <= file_size;
    while (r < regions.size() && regions[r].offset + regions[r].length <= begin) ++r;
    const bool touches_data = r < regions.size() && regions[r].offset < end;
    const bool marked = p.value() < done.size() && done.get(p);
    if (marked) {
      if (!plan.changed) {
        plan.keep.push_back(p);
      } else if (inside) {
        plan.check.push_back(p);
      } else {
        plan.lost.push_back(p);
      }
    } else if (inside && touches_data) {
      plan.check.push_back(p);
    }
  }
  return plan;
}

Result<bool> holds_file_at(int dir_fd, const std::string& name, const FileMeta& meta, struct stat* found) {
  // O_NOFOLLOW: a link is not a file we wrote, wherever it points. O_NONBLOCK: a FIFO does not hang.
  const int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ELOOP || is_link_at(dir_fd, name)) return false;
    return io_error("cannot open", name, err);
  }
  struct stat st {};
  bool same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == meta.size;
  std::string buffer;
  for (PieceIndex p : all_pieces(meta.piece_count())) {
    if (!same) break;
    auto h = hash_piece(fd, meta, p, buffer);
    same = h && *h == meta.piece_hash(p);
  }
  ::close(fd);
  if (same && found) *found = st;
  return same;
}

Result<bool> holds_file(const std::string& path, const FileMeta& meta) {
  const std::string dir = parent_dir(path);
  Fd dfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() < 0) {
    if (errno == ENOENT) return false;
    return io_error("cannot open", dir, errno);
  }
  return holds_file_at(dfd.get(), base_name(path), meta);
}

namespace {

Status sync_dir(const DestDir& dir) {
  if (fsync(dir.fd()) != 0) return io_error("cannot sync", dir.path(), errno);
  return Ok{};
}

// Whether `name` in `dir` is (still) the file `part` has open.
bool names_part(const DestDir& dir, const std::string& name, const PartFile& part) {
  struct stat st {};
  return fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
         FileIdentity::of(st) == part.identity();
}

}  // namespace

Status finalize_part(PartFile& part, const std::string& dest_name, const FileMeta& meta, bool replace) {
  const DestDir& dir = part.dir();
  const int dfd = dir.fd();
  const std::string dest = dir.path_of(dest_name);
  if (fsync(part.fd()) != 0) {
    const int err = errno;
    return make_error(disk_error_code(err, kWriteFailed), "cannot sync " + part.path() + ": " + std::strerror(err));
  }
  crash_at(DownloadStep::final_synced);
  // The name to rename must still be our file: a link or another file put in
  // its place would otherwise become DEST.
  if (!names_part(dir, part.name(), part)) {
    return make_error("io_error", part.path() + " was replaced by something else while downloading; not renaming it");
  }
  int rc = -1;
  if (!replace) {
    rc = renameat2(dfd, part.name().c_str(), dfd, dest_name.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && errno == EEXIST) {
      // Our own finished output (an earlier run renamed it and died before
      // saying so) is recognised by its content, never trusted by its name.
      auto ours = holds_file_at(dfd, dest_name, meta);
      if (!ours) return ours.error();
      if (!*ours) return make_error("dest_exists", dest + " appeared while downloading; pass --force to overwrite it");
      if (unlinkat(dfd, part.name().c_str(), 0) != 0 && errno != ENOENT) return io_error("cannot remove", part.path(), errno);
      return sync_dir(dir);
    }
    // File systems without RENAME_NOREPLACE: the check at the start of the
    // download has to do.
    if (rc != 0 && errno != EINVAL && errno != ENOSYS) return io_error("cannot rename " + part.path() + " to", dest, errno);
  }
  // renameat replaces whatever DEST is, a symbolic link included, and never
  // follows it.
  if (rc != 0 && renameat(dfd, part.name().c_str(), dfd, dest_name.c_str()) != 0) {
    return io_error("cannot rename " + part.path() + " to", dest, errno);
  }
  crash_at(DownloadStep::renamed);
  if (auto s = sync_dir(dir); !s) return s;
  crash_at(DownloadStep::rename_durable);
  if (!names_part(dir, dest_name, part)) {
    return make_error("io_error", dest + " is not the downloaded file: something was swapped in while it was renamed");
  }
  return Ok{};
}

}  // namespace gs::daemon
