// Durable record of this seat's shares, in the daemon's state file (gsd.db,
// table `shares`), so they survive restarts and are served and announced
// again by themselves.
//
// The table belongs to this store: it is created here, versioned as the
// component "shares" in schema_version (lib/schema.h), not by State's steps,
// so shares and downloads can evolve their tables independently.
// The store has its own connection to the file; sqlite (WAL) serialises it
// with State's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>

#include "db.h"
#include "file_meta.h"
#include "result.h"

namespace gs::daemon {

// What a file looked like when it was shared. Any difference later means its
// bytes can no longer be trusted to match the piece hashes.
struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;

  static FileStamp of(const struct stat& st);
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

// lstat(path) and compare with `stamp`. Errors (code "file_changed"):
// "file is gone" when it no longer exists, "file was replaced by a symbolic
// link" when a link is there now (never followed, wherever it points), "file
// changed since it was shared" when it differs, "cannot check PATH: reason"
// when lstat fails otherwise.
Status check_stamp(const std::string& path, const FileStamp& stamp);
// The same for an open descriptor (fstat): whether the file opened by name
// is the one that was shared, and unchanged.
Status check_stamp_fd(int fd, const FileStamp& stamp);

enum class ShareState { active, stopped, broken };
const char* share_state_name(ShareState s);

struct ShareRecord {
  std::string user;   // who shared it: only that user's shares are served and announced
  std::string group;
  std::string name;
  std::string path;   // absolute; without symbolic links since this version (realpath at upload)
  FileMeta meta;
  FileStamp stamp;
  ShareState state = ShareState::active;
  std::string reason;  // why it is stopped or broken; empty when active

  friend bool operator==(const ShareRecord&, const ShareRecord&) = default;
};

class ShareStore {
 public:
  static constexpr int kSchemaVersion = 1;
  static constexpr std::string_view kSchemaComponent = "shares";

  // Opens its own connection to the state file at `db_path` (already created
  // by State) and brings the table up to date.
  static Result<std::unique_ptr<ShareStore>> open(const std::string& db_path);

  // Inserts or replaces the share (user, group, name).
  Status put(const ShareRecord& rec);
  Status set_state(const std::string& user, const std::string& group, const std::string& name, ShareState state,
                   const std::string& reason);
  // Every share in the file, in insertion order. A row that fails validation
  // (hand-edited, damaged) is skipped with a warning rather than failing all.
  Result<std::vector<ShareRecord>> load_all();
  std::optional<ShareRecord> find(const std::string& user, const std::string& group, const std::string& name);

 private:
  explicit ShareStore(std::unique_ptr<Db> db) : db_(std::move(db)) {}

  std::unique_ptr<Db> db_;
};

}  // namespace gs::daemon
