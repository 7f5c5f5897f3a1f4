#include "store.h"

#include <iterator>
#include <string_view>
#include <utility>
#include <variant>

#include "crypto.h"
#include "log.h"
#include "schema.h"

namespace gs::tracker {
namespace {

// steps[i] takes the tracker's tables from version i to i + 1 (lib/schema.h).
// Shipped steps are never edited; a change is a new step at the end of
// kSchemaSteps. A fresh file gets every step, so new and upgraded files
// always have the same schema.

// 0 -> 1. Names are the protocol's names, compared byte for byte.
// AUTOINCREMENT keys never reuse a value, even after deletes, so members.seq
// orders members by acceptance ("longest-standing member") and requests.seq
// orders requests by arrival, across restarts.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE users(
  name TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  created INTEGER NOT NULL
);
CREATE TABLE groups(
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL REFERENCES users(name),
  created INTEGER NOT NULL
);
CREATE TABLE members(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
  user TEXT NOT NULL REFERENCES users(name),
  joined INTEGER NOT NULL,
  UNIQUE(group_name, user)
);
CREATE TABLE requests(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
  user TEXT NOT NULL REFERENCES users(name),
  created INTEGER NOT NULL,
  UNIQUE(group_name, user)
);
CREATE TABLE sessions(
  token_hash TEXT PRIMARY KEY,
  user TEXT NOT NULL UNIQUE REFERENCES users(name),
  seat TEXT NOT NULL,
  created INTEGER NOT NULL
);
)sql";

// 1 -> 2: the file catalogue. A file belongs to its group and goes with
// it; a sharer belongs to its file and goes with it. sharers.seq orders the
// sharers of a file by when they started.
constexpr const char* kMigrateToV2 = R"sql(
CREATE TABLE files(
  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  file_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  piece_size INTEGER NOT NULL,
  hashes TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY(group_name, name)
);
CREATE INDEX files_by_id ON files(group_name, file_id);
CREATE TABLE sharers(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  group_name TEXT NOT NULL,
  name TEXT NOT NULL,
  user TEXT NOT NULL REFERENCES users(name),
  since INTEGER NOT NULL,
  UNIQUE(group_name, name, user),
  FOREIGN KEY(group_name, name) REFERENCES files(group_name, name) ON DELETE CASCADE
);
CREATE INDEX sharers_by_user ON sharers(group_name, user);
)sql";

// 2 -> 3: the outcomes of recent writes by request id (Write::rid), so a
// write retried after a failover is applied once. seq orders them for
// pruning to the newest Store::kKeptRequestIds.
constexpr const char* kMigrateToV3 = R"sql(
CREATE TABLE request_ids(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  rid TEXT NOT NULL UNIQUE,
  outcome TEXT NOT NULL
);
)sql";

// The cluster's signing key (one row).
constexpr const char* kMigrateToV4 = R"sql(
CREATE TABLE cluster_key(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seed TEXT NOT NULL,
  created INTEGER NOT NULL
);
)sql";

constexpr const char* kSchemaSteps[] = {kSchemaV1, kMigrateToV2, kMigrateToV3, kMigrateToV4};
static_assert(std::size(kSchemaSteps) == Store::kSchemaVersion,
              "append a step and bump kSchemaVersion together");

// Releases before schema_version kept the version in PRAGMA user_version. A
// file with none, which already holds tables (schema_version aside), is some
// other program's: refused rather than built upon.
Result<int64_t> take_legacy_version(Db& db) {
  auto version = take_legacy_user_version(db);
  if (!version || *version != 0) return version;
  auto tables = db.prepare("SELECT count(*) FROM sqlite_schema WHERE tbl_name != 'schema_version'");
  auto counted = tables.step();
  if (!counted) return counted.error();
  if (*counted && tables.column_int(0) != 0) {
    return make_error("db_foreign", "state file " + db.path() +
                                        " holds tables but is not a gs-tracker state file; "
                                        "move it aside or pick another --state-dir");
  }
  return int64_t{0};
}

// Every query below relies on these columns. Checking them once at open,
// with errors as values, means a tampered file is reported instead of
// tripping Db::prepare()'s abort later.
constexpr std::string_view kSchemaProbe = R"sql(
SELECT name, password_hash, created FROM users LIMIT 0;
SELECT name, owner, created FROM groups LIMIT 0;
SELECT seq, group_name, user, joined FROM members LIMIT 0;
SELECT seq, group_name, user, created FROM requests LIMIT 0;
SELECT token_hash, user, seat, created FROM sessions LIMIT 0;
SELECT group_name, name, file_id, size, piece_size, hashes, created FROM files LIMIT 0;
SELECT seq, group_name, name, user, since FROM sharers LIMIT 0;
SELECT seq, rid, outcome FROM request_ids LIMIT 0;
)sql";

// What a memo entry costs besides its strings (map node, record fields).
constexpr size_t kMemoEntryBytes = 128;

// Runs a query expected to give at most one row; `read` takes the row.
template <class T, class Read>
Result<std::optional<T>> query_one(Stmt& st, Read read) {
  auto row = st.step();
  if (!row) return row.error();
  if (!*row) return std::optional<T>();
  return std::optional<T>(read(st));
}

Result<bool> exists(Stmt& st) {
  auto row = st.step();
  if (!row) return row.error();
  return *row;
}

}  // namespace

class Store::Writing {
 public:
  explicit Writing(Store& store) : store_(store) { store_.forget_answers(); }
  ~Writing() { store_.forget_answers(); }
  Writing(const Writing&) = delete;
  Writing& operator=(const Writing&) = delete;

 private:
  Store& store_;
};

void Store::forget_answers() {
  sessions_memo_.clear();
  memberships_memo_.clear();
  files_memo_.clear();
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  auto db = Db::open(path);
  if (!db) return db.error();
  std::unique_ptr<Store> store(new Store(std::move(*db)));
  if (auto s = migrate(*store->db_, kSchemaComponent, kSchemaSteps, take_legacy_version); !s)
    return s.error();
  if (auto s = check_tables(*store->db_); !s) return s.error();
  return store;
}

Status Store::check_tables(Db& db) {
  if (auto s = db.exec(kSchemaProbe); !s) {
    return make_error("db_damaged", "state file " + db.path() +
                                        " does not have the tables of a gs-tracker (" +
                                        s.error().message + "); move it aside to start afresh");
  }
  return Ok{};
}

Result<Applied> Store::apply(const Write& w) {
  const Writing writing(*this);
  Transaction tx(*db_);
  if (!tx.begun()) return tx.begun().error();
  if (!w.rid.empty()) {
    auto known = outcome_of(w.rid);
    if (!known) return known.error();
    if (*known) return **known;
  }
  auto applied = std::visit([this](const auto& op) { return run(op); }, w.op);
  if (!applied) return applied;
  if (!w.rid.empty()) {
    if (auto s = keep_outcome(w.rid, *applied); !s) return s.error();
  }
  if (auto s = tx.commit(); !s) return s.error();
  return applied;
}

Result<std::optional<Applied>> Store::outcome_of(const std::string& rid) {
  auto st = stmts_.get("SELECT outcome FROM request_ids WHERE rid = ?");
  st->bind(1, rid);
  auto text = query_one<std::string>(*st, [](Stmt& s) { return s.column_text(0); });
  if (!text) return text.error();
  if (!*text) return std::optional<Applied>();
  auto json = Json::parse(**text);
  if (!json)
    return make_error("db_damaged",
                      "request id table holds a bad outcome: " + json.error().message);
  auto applied = applied_from_json(*json);
  if (!applied) return applied.error();
  return std::optional<Applied>(std::move(*applied));
}

Status Store::keep_outcome(const std::string& rid, const Applied& applied) {
  auto ins = stmts_.get("INSERT INTO request_ids(rid, outcome) VALUES(?, ?)");
  if (auto r = ins->bind(1, rid).bind(2, to_json(applied).dump()).run(); !r) return r;
  // Older ids than the newest kKeptRequestIds go; every tracker prunes the
  // same rows, since seq follows the order of writes.
  auto prune = stmts_.get("DELETE FROM request_ids WHERE seq <= ?");
  return prune->bind(1, db_->last_insert_rowid() - kKeptRequestIds).run();
}

Result<Applied> Store::run(const AddUser& w) {
  auto st = stmts_.get(
      "INSERT INTO users(name, password_hash, created) VALUES(?, ?, ?) "
      "ON CONFLICT(name) DO NOTHING");
  st->bind(1, w.user).bind(2, w.password_hash).bind(3, w.now);
  if (auto s = st->run(); !s) return s.error();
  return Applied::done_if(db_->changes() == 1);
}

Result<std::optional<std::string>> Store::password_hash(const std::string& user) {
  auto st = stmts_.get("SELECT password_hash FROM users WHERE name = ?");
  st->bind(1, user);
  return query_one<std::string>(*st, [](Stmt& s) { return s.column_text(0); });
}

namespace {

SessionRecord read_session(Stmt& st) {
  return SessionRecord{st.column_text(0), st.column_text(1), st.column_text(2), st.column_int(3)};
}

}  // namespace

Result<std::optional<SessionRecord>> Store::session_by_token(const std::string& token_hash) {
  if (const auto* known = sessions_memo_.find(token_hash)) return *known;
  auto st = stmts_.get("SELECT token_hash, user, seat, created FROM sessions WHERE token_hash = ?");
  st->bind(1, token_hash);
  auto found = query_one<SessionRecord>(*st, read_session);
  if (found) {
    const size_t bytes = *found ? (*found)->user.size() + (*found)->seat.size() : 0;
    sessions_memo_.put(token_hash, *found, kMemoEntryBytes + token_hash.size() + bytes);
  }
  return found;
}

Result<std::optional<SessionRecord>> Store::session_of_user(const std::string& user) {
  auto st = stmts_.get("SELECT token_hash, user, seat, created FROM sessions WHERE user = ?");
  st->bind(1, user);
  return query_one<SessionRecord>(*st, read_session);
}

Result<Applied> Store::run(const ReplaceSession& w) {
  const SessionRecord& s = w.session;
  auto del = stmts_.get("DELETE FROM sessions WHERE user = ?");
  if (auto r = del->bind(1, s.user).run(); !r) return r.error();
  auto ins = stmts_.get("INSERT INTO sessions(token_hash, user, seat, created) VALUES(?, ?, ?, ?)");
  ins->bind(1, s.token_hash).bind(2, s.user).bind(3, s.seat).bind(4, s.created);
  if (auto r = ins->run(); !r) return r.error();
  return Applied{};
}

Result<Applied> Store::run(const DeleteSession& w) {
  auto st = stmts_.get("DELETE FROM sessions WHERE token_hash = ?");
  if (auto r = st->bind(1, w.token_hash).run(); !r) return r.error();
  return Applied{};
}

Result<Applied> Store::run(const AddGroup& w) {
  auto ins = stmts_.get(
      "INSERT INTO groups(name, owner, created) VALUES(?, ?, ?) ON CONFLICT(name) DO NOTHING");
  if (auto r = ins->bind(1, w.group).bind(2, w.owner).bind(3, w.now).run(); !r) return r.error();
  if (db_->changes() != 1) return Applied::done_if(false);
  auto member = stmts_.get("INSERT INTO members(group_name, user, joined) VALUES(?, ?, ?)");
  if (auto r = member->bind(1, w.group).bind(2, w.owner).bind(3, w.now).run(); !r) return r.error();
  return Applied{};
}

Result<Applied> Store::run(const SetClusterKey& w) {
  auto raw = from_hex(w.seed);
  if (!raw || raw->size() != 32) return make_error("bad_record", "bad write record: a cluster key is 64 hex digits");
  auto ins = stmts_.get("INSERT INTO cluster_key(id, seed, created) VALUES(1, ?, ?) ON CONFLICT(id) DO NOTHING");
  if (auto r = ins->bind(1, w.seed).bind(2, w.now).run(); !r) return r.error();
  return Applied::done_if(db_->changes() == 1);
}

Result<std::optional<std::string>> Store::cluster_key_seed() {
  auto st = stmts_.get("SELECT seed FROM cluster_key WHERE id = 1");
  auto hex = query_one<std::string>(*st, [](Stmt& s) { return s.column_text(0); });
  if (!hex || !*hex) return hex;
  auto raw = from_hex(**hex);
  if (!raw || raw->size() != 32) return make_error("db_damaged", "the cluster key in the state file is damaged");
  return std::optional<std::string>(std::move(*raw));
}

Result<std::optional<std::string>> Store::group_owner(const std::string& group) {
  auto st = stmts_.get("SELECT owner FROM groups WHERE name = ?");
  st->bind(1, group);
  return query_one<std::string>(*st, [](Stmt& s) { return s.column_text(0); });
}

Result<bool> Store::is_member(const std::string& group, const std::string& user) {
  auto st = stmts_.get("SELECT 1 FROM members WHERE group_name = ? AND user = ?");
  st->bind(1, group).bind(2, user);
  return exists(*st);
}

Result<std::optional<Membership>> Store::membership(const std::string& group,
                                                    const std::string& user) {
  std::string key = memo_key(group, user);
  if (const auto* known = memberships_memo_.find(key)) return *known;
  auto st = stmts_.get(
      "SELECT g.owner, EXISTS(SELECT 1 FROM members m WHERE m.group_name = g.name AND m.user = ?) "
      "FROM groups g WHERE g.name = ?");
  st->bind(1, user).bind(2, group);
  auto found = query_one<Membership>(*st, [](Stmt& s) {
    return Membership{s.column_text(0), s.column_int(1) != 0};
  });
  if (found) {
    const size_t bytes = kMemoEntryBytes + key.size() + (*found ? (*found)->owner.size() : 0);
    memberships_memo_.put(std::move(key), *found, bytes);
  }
  return found;
}

Result<bool> Store::has_request(const std::string& group, const std::string& user) {
  auto st = stmts_.get("SELECT 1 FROM requests WHERE group_name = ? AND user = ?");
  st->bind(1, group).bind(2, user);
  return exists(*st);
}

Result<Applied> Store::run(const AddRequest& w) {
  auto st = stmts_.get("INSERT INTO requests(group_name, user, created) VALUES(?, ?, ?)");
  if (auto r = st->bind(1, w.group).bind(2, w.user).bind(3, w.now).run(); !r) return r.error();
  return Applied{};
}

Result<std::vector<std::string>> Store::requests(const std::string& group) {
  auto st = stmts_.get("SELECT user FROM requests WHERE group_name = ? ORDER BY seq");
  st->bind(1, group);
  std::vector<std::string> users;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    users.push_back(st->column_text(0));
  }
  return users;
}

Result<Applied> Store::run(const AcceptRequest& w) {
  auto del = stmts_.get("DELETE FROM requests WHERE group_name = ? AND user = ?");
  if (auto r = del->bind(1, w.group).bind(2, w.user).run(); !r) return r.error();
  if (db_->changes() != 1) return Applied::done_if(false);
  auto ins = stmts_.get("INSERT INTO members(group_name, user, joined) VALUES(?, ?, ?)");
  if (auto r = ins->bind(1, w.group).bind(2, w.user).bind(3, w.now).run(); !r) return r.error();
  return Applied{};
}

Result<Applied> Store::run(const RejectRequest& w) {
  auto del = stmts_.get("DELETE FROM requests WHERE group_name = ? AND user = ?");
  if (auto r = del->bind(1, w.group).bind(2, w.user).run(); !r) return r.error();
  return Applied::done_if(db_->changes() == 1);
}

Result<Applied> Store::run(const LeaveGroup& w) {
  const std::string& group = w.group;
  const std::string& user = w.user;
  auto del = stmts_.get("DELETE FROM members WHERE group_name = ? AND user = ?");
  if (auto r = del->bind(1, group).bind(2, user).run(); !r) return r.error();

  auto oldest = stmts_.get("SELECT user FROM members WHERE group_name = ? ORDER BY seq LIMIT 1");
  oldest->bind(1, group);
  auto next = query_one<std::string>(*oldest, [](Stmt& s) { return s.column_text(0); });
  if (!next) return next.error();
  oldest->reset();

  Applied applied;
  LeaveOutcome& out = applied.leave;
  if (!next->has_value()) {
    // The last member left: the group and whatever requests wait on it go;
    // its files and their sharers go with it (ON DELETE CASCADE).
    auto reqs = stmts_.get("DELETE FROM requests WHERE group_name = ?");
    if (auto r = reqs->bind(1, group).run(); !r) return r.error();
    auto ids =
        stmts_.get("SELECT DISTINCT file_id FROM files WHERE group_name = ? ORDER BY file_id");
    ids->bind(1, group);
    while (true) {
      auto row = ids->step();
      if (!row) return row.error();
      if (!*row) break;
      out.removed_file_ids.push_back(ids->column_text(0));
    }
    ids->reset();
    auto grp = stmts_.get("DELETE FROM groups WHERE name = ?");
    if (auto r = grp->bind(1, group).run(); !r) return r.error();
    out.deleted = true;
  } else {
    auto owner = stmts_.get("UPDATE groups SET owner = ? WHERE name = ? AND owner = ?");
    if (auto r = owner->bind(1, **next).bind(2, group).bind(3, user).run(); !r) return r.error();
    if (db_->changes() == 1) out.new_owner = **next;
    auto shares = stmts_.get("DELETE FROM sharers WHERE group_name = ? AND user = ?");
    if (auto r = shares->bind(1, group).bind(2, user).run(); !r) return r.error();
    auto removed = drop_unshared_files(group);
    if (!removed) return removed.error();
    out.removed_file_ids = std::move(*removed);
  }
  return applied;
}

Result<std::vector<GroupSummary>> Store::list_groups() {
  auto st = stmts_.get(
      "SELECT g.name, g.owner, (SELECT count(*) FROM members m WHERE m.group_name = g.name) "
      "FROM groups g ORDER BY g.name");
  std::vector<GroupSummary> groups;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    groups.push_back(GroupSummary{st->column_text(0), st->column_text(1), st->column_int(2)});
  }
  return groups;
}

namespace {

FileRecord read_file(Stmt& st) {
  return FileRecord{st.column_text(0), st.column_text(1), st.column_text(2), st.column_int(3),
                    st.column_int(4),  st.column_text(5), st.column_int(6)};
}

}  // namespace

Result<std::vector<std::string>> Store::drop_unshared_files(const std::string& group) {
  auto unshared = stmts_.get(
      "SELECT DISTINCT f.file_id FROM files f WHERE f.group_name = ? AND NOT EXISTS "
      "(SELECT 1 FROM sharers s WHERE s.group_name = f.group_name AND s.name = f.name) "
      "ORDER BY f.file_id");
  unshared->bind(1, group);
  std::vector<std::string> ids;
  while (true) {
    auto row = unshared->step();
    if (!row) return row.error();
    if (!*row) break;
    ids.push_back(unshared->column_text(0));
  }
  unshared->reset();
  auto del = stmts_.get(
      "DELETE FROM files WHERE group_name = ? AND NOT EXISTS "
      "(SELECT 1 FROM sharers s WHERE s.group_name = files.group_name AND s.name = files.name)");
  if (auto r = del->bind(1, group).run(); !r) return r.error();
  std::vector<std::string> gone;
  for (auto& id : ids) {
    auto left = has_file_id(group, id);
    if (!left) return left.error();
    if (!*left) gone.push_back(std::move(id));
  }
  return gone;
}

Result<Applied> Store::run(const ShareFile& w) {
  const FileRecord& file = w.file;
  auto ins = stmts_.get(
      "INSERT INTO files(group_name, name, file_id, size, piece_size, hashes, created) "
      "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(group_name, name) DO NOTHING");
  ins->bind(1, file.group)
      .bind(2, file.name)
      .bind(3, file.file_id)
      .bind(4, file.size)
      .bind(5, file.piece_size);
  ins->bind(6, file.hashes).bind(7, w.now);
  if (auto r = ins->run(); !r) return r.error();
  if (db_->changes() != 1) {
    auto same = stmts_.get("SELECT 1 FROM files WHERE group_name = ? AND name = ? AND file_id = ?");
    same->bind(1, file.group).bind(2, file.name).bind(3, file.file_id);
    auto found = exists(*same);
    if (!found) return found.error();
    if (!*found) return Applied::done_if(false);
  }
  auto sharer = stmts_.get(
      "INSERT INTO sharers(group_name, name, user, since) VALUES(?, ?, ?, ?) "
      "ON CONFLICT(group_name, name, user) DO NOTHING");
  if (auto r = sharer->bind(1, file.group).bind(2, file.name).bind(3, w.user).bind(4, w.now).run();
      !r)
    return r.error();
  return Applied{};
}

Result<std::optional<FileRecord>> Store::file(const std::string& group, const std::string& name) {
  std::string key = memo_key(group, name);
  if (const auto* known = files_memo_.find(key)) return *known;
  auto st = stmts_.get(
      "SELECT group_name, name, file_id, size, piece_size, hashes, created FROM files "
      "WHERE group_name = ? AND name = ?");
  st->bind(1, group).bind(2, name);
  auto found = query_one<FileRecord>(*st, read_file);
  if (found) {
    const size_t bytes = kMemoEntryBytes + 2 * key.size() + (*found ? (*found)->hashes.size() : 0);
    files_memo_.put(std::move(key), *found, bytes);
  }
  return found;
}

Result<std::vector<FileSummary>> Store::files(const std::string& group) {
  auto st = stmts_.get("SELECT name, file_id, size FROM files WHERE group_name = ? ORDER BY name");
  st->bind(1, group);
  std::vector<FileSummary> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(FileSummary{st->column_text(0), st->column_text(1), st->column_int(2)});
  }
  return out;
}

Result<bool> Store::has_file_id(const std::string& group, const std::string& file_id) {
  auto st = stmts_.get("SELECT 1 FROM files WHERE group_name = ? AND file_id = ? LIMIT 1");
  st->bind(1, group).bind(2, file_id);
  return exists(*st);
}

Result<bool> Store::is_sharer(const std::string& group, const std::string& name,
                              const std::string& user) {
  auto st = stmts_.get("SELECT 1 FROM sharers WHERE group_name = ? AND name = ? AND user = ?");
  st->bind(1, group).bind(2, name).bind(3, user);
  return exists(*st);
}

Result<bool> Store::shares_file_id(const std::string& group, const std::string& user,
                                   const std::string& file_id) {
  auto st = stmts_.get(
      "SELECT 1 FROM sharers s JOIN files f ON f.group_name = s.group_name AND f.name = s.name "
      "WHERE s.group_name = ? AND s.user = ? AND f.file_id = ? LIMIT 1");
  st->bind(1, group).bind(2, user).bind(3, file_id);
  return exists(*st);
}

Result<std::vector<std::string>> Store::sharers(const std::string& group, const std::string& name) {
  auto st = stmts_.get("SELECT user FROM sharers WHERE group_name = ? AND name = ? ORDER BY seq");
  st->bind(1, group).bind(2, name);
  std::vector<std::string> users;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    users.push_back(st->column_text(0));
  }
  return users;
}

Result<Applied> Store::run(const StopShare& w) {
  const std::string& group = w.group;
  const std::string& name = w.name;
  const std::string& user = w.user;
  auto id_st = stmts_.get("SELECT file_id FROM files WHERE group_name = ? AND name = ?");
  id_st->bind(1, group).bind(2, name);
  auto found = query_one<std::string>(*id_st, [](Stmt& st) { return st.column_text(0); });
  if (!found) return found.error();
  if (!*found) return Applied{};
  const std::string id = **found;
  id_st->reset();
  auto del = stmts_.get("DELETE FROM sharers WHERE group_name = ? AND name = ? AND user = ?");
  if (auto r = del->bind(1, group).bind(2, name).bind(3, user).run(); !r) return r.error();
  Applied applied;
  StopShareOutcome& out = applied.stop;
  if (db_->changes() == 1) {
    auto file = stmts_.get(
        "DELETE FROM files WHERE group_name = ? AND name = ? AND NOT EXISTS "
        "(SELECT 1 FROM sharers s WHERE s.group_name = files.group_name AND s.name = files.name)");
    if (auto r = file->bind(1, group).bind(2, name).run(); !r) return r.error();
    out.file_removed = db_->changes() == 1;
    if (out.file_removed) {
      auto left = has_file_id(group, id);
      if (!left) return left.error();
      out.file_id_gone = !*left;
    }
    auto still = shares_file_id(group, user, id);
    if (!still) return still.error();
    out.still_shares_id = *still;
  }
  return applied;
}

}  // namespace gs::tracker
