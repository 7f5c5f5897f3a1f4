#include "share_store.h"

#include <cerrno>
#include <cstring>

#include "log.h"
#include "names.h"
#include "schema.h"

namespace gs::daemon {
namespace {

// steps[i] takes the shares table from version i to i + 1 (lib/schema.h).
// Shipped steps are never edited; a change is a new step at the end.
constexpr const char* kSchemaSteps[] = {
    // 0 -> 1. dev and ino are the stat values bit-cast to int64 (sqlite has
    // no unsigned integers); hashes are the lowercase hex of all piece hashes.
    "CREATE TABLE IF NOT EXISTS shares("
    "  user TEXT NOT NULL,"
    "  \"group\" TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  file_id TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  piece_size INTEGER NOT NULL,"
    "  hashes TEXT NOT NULL,"
    "  dev INTEGER NOT NULL,"
    "  ino INTEGER NOT NULL,"
    "  mtime_ns INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('active', 'stopped', 'broken')),"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (user, \"group\", name));",
};
static_assert(std::size(kSchemaSteps) == ShareStore::kSchemaVersion, "append a step and bump kSchemaVersion together");

// Releases before schema_version kept the version in State's meta table, key
// 'shares_schema'; the row goes with the transaction that moves it over.
Result<int64_t> take_shares_schema(Db& db) {
  auto exists = has_table(db, "meta");
  if (!exists) return exists.error();
  if (!*exists) return int64_t{0};
  std::string v;
  {
    auto q = db.prepare("SELECT value FROM meta WHERE key = 'shares_schema'");
    auto row = q.step();
    if (!row) return make_error("db_error", "cannot read " + db.path() + ": " + row.error().message);
    if (!*row) return int64_t{0};
    v = q.column_text(0);
  }
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
    return make_error("db_damaged", "state file " + db.path() + " has a malformed shares_schema");
  }
  if (auto s = db.exec("DELETE FROM meta WHERE key = 'shares_schema'"); !s) {
    return make_error("db_error", "cannot update " + db.path() + ": " + s.error().message);
  }
  return std::stoll(v);
}

std::optional<ShareState> parse_state(const std::string& s) {
  if (s == "active") return ShareState::active;
  if (s == "stopped") return ShareState::stopped;
  if (s == "broken") return ShareState::broken;
  return std::nullopt;
}

}  // namespace

FileStamp FileStamp::of(const struct stat& st) {
  FileStamp s;
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.dev = static_cast<uint64_t>(st.st_dev);
  s.ino = static_cast<uint64_t>(st.st_ino);
  return s;
}

namespace {

Status compare_stamp(const struct stat& st, const FileStamp& stamp) {
  if (S_ISLNK(st.st_mode)) return make_error("file_changed", "file was replaced by a symbolic link");
  if (!S_ISREG(st.st_mode) || !(FileStamp::of(st) == stamp)) {
    return make_error("file_changed", "file changed since it was shared");
  }
  return Ok{};
}

}  // namespace

Status check_stamp(const std::string& path, const FileStamp& stamp) {
  struct stat st {};
  // lstat: a link put in the file's place is not the file, wherever it points.
  if (::lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return make_error("file_changed", "file is gone");
    return make_error("file_changed", "cannot check " + path + ": " + std::strerror(err));
  }
  return compare_stamp(st, stamp);
}

Status check_stamp_fd(int fd, const FileStamp& stamp) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error("file_changed", std::string("cannot check the file: ") + std::strerror(errno));
  return compare_stamp(st, stamp);
}

const char* share_state_name(ShareState s) {
  switch (s) {
    case ShareState::active: return "active";
    case ShareState::stopped: return "stopped";
    case ShareState::broken: return "broken";
  }
  return "broken";
}

Result<std::unique_ptr<ShareStore>> ShareStore::open(const std::string& db_path) {
  auto db = Db::open(db_path);
  if (!db) return db.error();
  std::unique_ptr<ShareStore> store(new ShareStore(std::move(*db)));
  if (auto s = migrate(*store->db_, kSchemaComponent, kSchemaSteps, take_shares_schema); !s) return s.error();
  return store;
}

Status ShareStore::put(const ShareRecord& rec) {
  auto st = db_->prepare(
      "INSERT INTO shares(user, \"group\", name, path, file_id, size, piece_size, hashes, dev, ino, mtime_ns, "
      "state, reason) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT(user, \"group\", name) DO UPDATE SET path = excluded.path, file_id = excluded.file_id, "
      "size = excluded.size, piece_size = excluded.piece_size, hashes = excluded.hashes, dev = excluded.dev, "
      "ino = excluded.ino, mtime_ns = excluded.mtime_ns, state = excluded.state, reason = excluded.reason");
  const std::string file_id = rec.meta.file_id_hex();
  const std::string hashes = rec.meta.hashes_hex();
  st.bind(1, std::string_view(rec.user))
      .bind(2, std::string_view(rec.group))
      .bind(3, std::string_view(rec.name))
      .bind(4, std::string_view(rec.path))
      .bind(5, std::string_view(file_id))
      .bind(6, static_cast<int64_t>(rec.meta.size))
      .bind(7, static_cast<int64_t>(rec.meta.piece_size))
      .bind(8, std::string_view(hashes))
      .bind(9, static_cast<int64_t>(rec.stamp.dev))
      .bind(10, static_cast<int64_t>(rec.stamp.ino))
      .bind(11, rec.stamp.mtime_ns)
      .bind(12, std::string_view(share_state_name(rec.state)))
      .bind(13, std::string_view(rec.reason));
  return st.run();
}

Status ShareStore::set_state(const std::string& user, const std::string& group, const std::string& name,
                             ShareState state, const std::string& reason) {
  auto st = db_->prepare("UPDATE shares SET state = ?, reason = ? WHERE user = ? AND \"group\" = ? AND name = ?");
  st.bind(1, std::string_view(share_state_name(state)))
      .bind(2, std::string_view(reason))
      .bind(3, std::string_view(user))
      .bind(4, std::string_view(group))
      .bind(5, std::string_view(name));
  return st.run();
}

namespace {

constexpr const char* kSelect =
    "SELECT user, \"group\", name, path, file_id, size, piece_size, hashes, dev, ino, mtime_ns, state, reason "
    "FROM shares";

// One row into a record, every field checked: the file may have been edited
// by hand or damaged, and what it says decides which bytes get served.
Result<ShareRecord> read_row(const Stmt& q) {
  ShareRecord r;
  r.user = q.column_text(0);
  r.group = q.column_text(1);
  r.name = q.column_text(2);
  r.path = q.column_text(3);
  const int64_t size = q.column_int(5);
  const int64_t piece_size = q.column_int(6);
  if (!valid_name(r.user) || !valid_name(r.group) || !valid_file_name(r.name)) {
    return make_error("db_damaged", "bad user, group or name");
  }
  if (r.path.empty() || r.path[0] != '/' || r.path.find('\0') != std::string::npos) {
    return make_error("db_damaged", "bad path");
  }
  if (size < 0 || piece_size < 1 || piece_size > UINT32_MAX) return make_error("db_damaged", "bad size");
  auto meta = FileMeta::from_parts(static_cast<uint64_t>(size), static_cast<uint32_t>(piece_size), q.column_text(7),
                                   q.column_text(4));
  if (!meta) return meta.error();
  r.meta = std::move(*meta);
  r.stamp.size = r.meta.size;
  r.stamp.dev = static_cast<uint64_t>(q.column_int(8));
  r.stamp.ino = static_cast<uint64_t>(q.column_int(9));
  r.stamp.mtime_ns = q.column_int(10);
  auto state = parse_state(q.column_text(11));
  if (!state) return make_error("db_damaged", "bad state");
  r.state = *state;
  r.reason = q.column_text(12);
  return r;
}

}  // namespace

Result<std::vector<ShareRecord>> ShareStore::load_all() {
  auto q = db_->prepare(std::string(kSelect) + " ORDER BY rowid");
  std::vector<ShareRecord> out;
  while (true) {
    auto row = q.step();
    if (!row) return make_error("state_error", "cannot read the shares in " + db_->path() + ": " + row.error().message);
    if (!*row) break;
    auto rec = read_row(q);
    if (!rec) {
      log_warn("state file ", db_->path(), ": skipping a damaged share row (", rec.error().message, ")");
      continue;
    }
    out.push_back(std::move(*rec));
  }
  return out;
}

std::optional<ShareRecord> ShareStore::find(const std::string& user, const std::string& group,
                                            const std::string& name) {
  auto q = db_->prepare(std::string(kSelect) + " WHERE user = ? AND \"group\" = ? AND name = ?");
  q.bind(1, std::string_view(user)).bind(2, std::string_view(group)).bind(3, std::string_view(name));
  auto row = q.step();
  if (!row || !*row) return std::nullopt;
  auto rec = read_row(q);
  if (!rec) return std::nullopt;
  return std::move(*rec);
}

}  // namespace gs::daemon
