#include "store.h"

#include <string_view>
#include <utility>

namespace gs::tracker {
namespace {

// Version 1. Names are the protocol's names, compared byte for byte.
// AUTOINCREMENT keys never reuse a value, even after deletes, so members.seq
// orders members by acceptance ("longest-standing member") and requests.seq
// orders requests by arrival, across restarts.
constexpr std::string_view kSchemaV1 = R"sql(
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

// Every query below relies on these columns. Checking them once at open,
// with errors as values, means a tampered file is reported instead of
// tripping Db::prepare()'s abort later.
constexpr std::string_view kSchemaProbe = R"sql(
SELECT name, password_hash, created FROM users LIMIT 0;
SELECT name, owner, created FROM groups LIMIT 0;
SELECT seq, group_name, user, joined FROM members LIMIT 0;
SELECT seq, group_name, user, created FROM requests LIMIT 0;
SELECT token_hash, user, seat, created FROM sessions LIMIT 0;
)sql";

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

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  auto db = Db::open(path);
  if (!db) return db.error();
  std::unique_ptr<Store> store(new Store(std::move(*db)));
  if (auto s = store->migrate(); !s) return s.error();
  if (auto s = store->check_schema(); !s) return s.error();
  return store;
}

Status Store::migrate() {
  auto version_st = db_->prepare("PRAGMA user_version");
  auto row = version_st.step();
  if (!row) return row.error();
  const int64_t version = *row ? version_st.column_int(0) : 0;
  version_st.reset();

  if (version > kSchemaVersion) {
    return make_error("db_version", "state file " + db_->path() + " has schema version " +
                                        std::to_string(version) + ", but this gs-tracker knows only up to " +
                                        std::to_string(kSchemaVersion) + "; run a newer gs-tracker");
  }
  if (version == kSchemaVersion) return Ok{};
  if (version < 0) {
    return make_error("db_version", "state file " + db_->path() + " has an invalid schema version " +
                                        std::to_string(version));
  }

  // Version 0 is a fresh file, unless some other program's tables are in it.
  auto tables = db_->prepare("SELECT count(*) FROM sqlite_schema");
  auto counted = tables.step();
  if (!counted) return counted.error();
  if (*counted && tables.column_int(0) != 0) {
    return make_error("db_foreign", "state file " + db_->path() +
                                        " holds tables but is not a gs-tracker state file; "
                                        "move it aside or pick another --state-dir");
  }
  tables.reset();

  Transaction tx(*db_);
  if (auto s = db_->exec(kSchemaV1); !s) return s.error();
  if (auto s = db_->exec("PRAGMA user_version = " + std::to_string(kSchemaVersion)); !s) return s.error();
  return tx.commit();
}

Status Store::check_schema() {
  if (auto s = db_->exec(kSchemaProbe); !s) {
    return make_error("db_damaged", "state file " + db_->path() + " does not have the tables of a gs-tracker (" +
                                        s.error().message + "); move it aside to start afresh");
  }
  return Ok{};
}

Result<bool> Store::add_user(const std::string& user, const std::string& password_hash, int64_t now) {
  auto st = db_->prepare(
      "INSERT INTO users(name, password_hash, created) VALUES(?, ?, ?) ON CONFLICT(name) DO NOTHING");
  st.bind(1, user).bind(2, password_hash).bind(3, now);
  if (auto s = st.run(); !s) return s.error();
  return db_->changes() == 1;
}

Result<std::optional<std::string>> Store::password_hash(const std::string& user) {
  auto st = db_->prepare("SELECT password_hash FROM users WHERE name = ?");
  st.bind(1, user);
  return query_one<std::string>(st, [](Stmt& s) { return s.column_text(0); });
}

namespace {

SessionRecord read_session(Stmt& st) {
  return SessionRecord{st.column_text(0), st.column_text(1), st.column_text(2), st.column_int(3)};
}

}  // namespace

Result<std::optional<SessionRecord>> Store::session_by_token(const std::string& token_hash) {
  auto st = db_->prepare("SELECT token_hash, user, seat, created FROM sessions WHERE token_hash = ?");
  st.bind(1, token_hash);
  return query_one<SessionRecord>(st, read_session);
}

Result<std::optional<SessionRecord>> Store::session_of_user(const std::string& user) {
  auto st = db_->prepare("SELECT token_hash, user, seat, created FROM sessions WHERE user = ?");
  st.bind(1, user);
  return query_one<SessionRecord>(st, read_session);
}

Status Store::replace_session(const SessionRecord& s) {
  Transaction tx(*db_);
  auto del = db_->prepare("DELETE FROM sessions WHERE user = ?");
  if (auto r = del.bind(1, s.user).run(); !r) return r;
  auto ins = db_->prepare("INSERT INTO sessions(token_hash, user, seat, created) VALUES(?, ?, ?, ?)");
  ins.bind(1, s.token_hash).bind(2, s.user).bind(3, s.seat).bind(4, s.created);
  if (auto r = ins.run(); !r) return r;
  return tx.commit();
}

Status Store::delete_session(const std::string& token_hash) {
  auto st = db_->prepare("DELETE FROM sessions WHERE token_hash = ?");
  return st.bind(1, token_hash).run();
}

Result<bool> Store::add_group(const std::string& group, const std::string& owner, int64_t now) {
  Transaction tx(*db_);
  auto ins = db_->prepare(
      "INSERT INTO groups(name, owner, created) VALUES(?, ?, ?) ON CONFLICT(name) DO NOTHING");
  if (auto r = ins.bind(1, group).bind(2, owner).bind(3, now).run(); !r) return r.error();
  if (db_->changes() != 1) return false;
  auto member = db_->prepare("INSERT INTO members(group_name, user, joined) VALUES(?, ?, ?)");
  if (auto r = member.bind(1, group).bind(2, owner).bind(3, now).run(); !r) return r.error();
  if (auto r = tx.commit(); !r) return r.error();
  return true;
}

Result<std::optional<std::string>> Store::group_owner(const std::string& group) {
  auto st = db_->prepare("SELECT owner FROM groups WHERE name = ?");
  st.bind(1, group);
  return query_one<std::string>(st, [](Stmt& s) { return s.column_text(0); });
}

Result<bool> Store::is_member(const std::string& group, const std::string& user) {
  auto st = db_->prepare("SELECT 1 FROM members WHERE group_name = ? AND user = ?");
  st.bind(1, group).bind(2, user);
  return exists(st);
}

Result<bool> Store::has_request(const std::string& group, const std::string& user) {
  auto st = db_->prepare("SELECT 1 FROM requests WHERE group_name = ? AND user = ?");
  st.bind(1, group).bind(2, user);
  return exists(st);
}

Status Store::add_request(const std::string& group, const std::string& user, int64_t now) {
  auto st = db_->prepare("INSERT INTO requests(group_name, user, created) VALUES(?, ?, ?)");
  return st.bind(1, group).bind(2, user).bind(3, now).run();
}

Result<std::vector<std::string>> Store::requests(const std::string& group) {
  auto st = db_->prepare("SELECT user FROM requests WHERE group_name = ? ORDER BY seq");
  st.bind(1, group);
  std::vector<std::string> users;
  while (true) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) break;
    users.push_back(st.column_text(0));
  }
  return users;
}

Result<bool> Store::accept_request(const std::string& group, const std::string& user, int64_t now) {
  Transaction tx(*db_);
  auto del = db_->prepare("DELETE FROM requests WHERE group_name = ? AND user = ?");
  if (auto r = del.bind(1, group).bind(2, user).run(); !r) return r.error();
  if (db_->changes() != 1) return false;
  auto ins = db_->prepare("INSERT INTO members(group_name, user, joined) VALUES(?, ?, ?)");
  if (auto r = ins.bind(1, group).bind(2, user).bind(3, now).run(); !r) return r.error();
  if (auto r = tx.commit(); !r) return r.error();
  return true;
}

Result<bool> Store::reject_request(const std::string& group, const std::string& user) {
  auto del = db_->prepare("DELETE FROM requests WHERE group_name = ? AND user = ?");
  if (auto r = del.bind(1, group).bind(2, user).run(); !r) return r.error();
  return db_->changes() == 1;
}

Result<LeaveOutcome> Store::leave_group(const std::string& group, const std::string& user) {
  Transaction tx(*db_);
  auto del = db_->prepare("DELETE FROM members WHERE group_name = ? AND user = ?");
  if (auto r = del.bind(1, group).bind(2, user).run(); !r) return r.error();

  auto oldest = db_->prepare("SELECT user FROM members WHERE group_name = ? ORDER BY seq LIMIT 1");
  oldest.bind(1, group);
  auto next = query_one<std::string>(oldest, [](Stmt& s) { return s.column_text(0); });
  if (!next) return next.error();
  oldest.reset();

  LeaveOutcome out;
  if (!next->has_value()) {
    // The last member left: the group and whatever requests wait on it go.
    auto reqs = db_->prepare("DELETE FROM requests WHERE group_name = ?");
    if (auto r = reqs.bind(1, group).run(); !r) return r.error();
    auto grp = db_->prepare("DELETE FROM groups WHERE name = ?");
    if (auto r = grp.bind(1, group).run(); !r) return r.error();
    out.deleted = true;
  } else {
    auto owner = db_->prepare("UPDATE groups SET owner = ? WHERE name = ? AND owner = ?");
    if (auto r = owner.bind(1, **next).bind(2, group).bind(3, user).run(); !r) return r.error();
    if (db_->changes() == 1) out.new_owner = **next;
  }
  if (auto r = tx.commit(); !r) return r.error();
  return out;
}

Result<std::vector<GroupSummary>> Store::list_groups() {
  auto st = db_->prepare(
      "SELECT g.name, g.owner, (SELECT count(*) FROM members m WHERE m.group_name = g.name) "
      "FROM groups g ORDER BY g.name");
  std::vector<GroupSummary> groups;
  while (true) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) break;
    groups.push_back(GroupSummary{st.column_text(0), st.column_text(1), st.column_int(2)});
  }
  return groups;
}

}  // namespace gs::tracker
