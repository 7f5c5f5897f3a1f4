// Durable record of every download: what is being fetched, where it lands,
// which pieces are verified AND written, and the counters people see.
//
// The tables live in gsd.db next to the session, through a connection of
// their own (sqlite in WAL mode lets two connections of one thread share the
// file), with their own schema version (component "downloads" in
// schema_version, lib/schema.h), so they evolve without touching State's.
//
// The caller decides when to save: commits are batched (at most one per
// second per download, plus at completion, pause and shutdown), and a piece
// is in `have` only once its bytes were written and synced.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "db.h"
#include "file_meta.h"
#include "result.h"

namespace gs::daemon {

// Verified bytes that came from one peer user.
struct SourceCount {
  std::string user;
  std::string addr;  // the last address they were reached at, "HOST:PORT"
  uint64_t bytes = 0;
  friend bool operator==(const SourceCount&, const SourceCount&) = default;
};

struct DownloadRecord {
  int64_t id = 0;        // the store's key; 0 until inserted
  std::string user;      // whose session started it; it resumes only under that user
  std::string group;
  std::string name;
  std::string dest;       // final path
  std::string part_path;  // where the bytes land until every piece is verified
  bool force = false;     // may replace an existing DEST at the final rename
  FileMeta meta;
  std::string have;      // Bitfield::to_bytes() of the pieces verified and written
  std::string state;     // "downloading" | "paused" | "complete" | "failed"
  std::string error;     // why it failed, or why the disk paused it; empty otherwise
  // Paused because the disk failed under it ("no_space" | "write_error",
  // disk_retry.h): it tries again by itself. Empty otherwise.
  std::string disk_trouble;
  uint64_t received_bytes = 0;
  uint64_t refetched_bytes = 0;
  std::vector<SourceCount> sources;
  // The partial file as of the last commit, to notice it being changed
  // behind the daemon's back: size in bytes (-1: unknown) and mtime in ns.
  int64_t part_size = -1;
  int64_t part_mtime_ns = 0;
  int64_t created = 0;  // unix seconds

  friend bool operator==(const DownloadRecord&, const DownloadRecord&) = default;
};

class DownloadStore {
 public:
  static constexpr int kSchemaVersion = 2;
  static constexpr std::string_view kSchemaComponent = "downloads";

  // Opens its own connection to the sqlite file at `db_path` (gsd.db) and
  // brings the download tables up to date.
  static Result<std::unique_ptr<DownloadStore>> open(const std::string& db_path);

  // Every stored download, oldest first. A row that does not validate (a
  // damaged file, a hand edit) is skipped with an error in the log rather
  // than keeping the daemon from starting.
  Result<std::vector<DownloadRecord>> load_all();
  // Sets record.id.
  Status insert(DownloadRecord& record);
  // Writes everything but id, user, group, meta and created (one statement,
  // so atomic).
  Status save(const DownloadRecord& record);
  Status remove(int64_t id);

 private:
  explicit DownloadStore(std::unique_ptr<Db> db) : db_(std::move(db)) {}

  std::unique_ptr<Db> db_;
};

}  // namespace gs::daemon
