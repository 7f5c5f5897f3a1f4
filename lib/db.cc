#include "db.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <sqlite3.h>

namespace gs {
namespace {

Error db_error(sqlite3* db, const std::string& what) {
  return make_error("db_error", what + ": " + sqlite3_errmsg(db));
}

// quick_check reports damage as rows, not as an error code; a schema too
// damaged to prepare against is an error too.
Status quick_check(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, nullptr) != SQLITE_OK) {
    return db_error(db, "integrity check failed");
  }
  Status result = Ok{};
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    if (!text || std::string(text) != "ok") result = make_error("db_damaged", text ? text : "?");
  } else if (rc != SQLITE_DONE) {
    result = db_error(db, "integrity check failed");
  }
  sqlite3_finalize(st);
  return result;
}

}  // namespace

Stmt::Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::bind(int pos, int64_t v) {
  sqlite3_bind_int64(stmt_, pos, v);
  return *this;
}

Stmt& Stmt::bind(int pos, std::string_view v) {
  sqlite3_bind_text(stmt_, pos, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_blob(int pos, std::string_view v) {
  sqlite3_bind_blob(stmt_, pos, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_null(int pos) {
  sqlite3_bind_null(stmt_, pos);
  return *this;
}

Result<bool> Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_error(db_, "database step failed");
}

Status Stmt::run() {
  while (true) {
    auto r = step();
    if (!r) {
      reset();
      return r.error();
    }
    if (!*r) break;
  }
  reset();
  return Ok{};
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Stmt::column_int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Stmt::column_text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt_, col));
  const int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(p, static_cast<size_t>(n)) : std::string();
}

bool Stmt::column_is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Result<std::unique_ptr<Db>> Db::open(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return make_error("db_open", "cannot open state file " + path + ": " + msg);
  }
  std::unique_ptr<Db> db(new Db(raw, path));
  sqlite3_busy_timeout(raw, 5000);
  // journal_mode is the first statement that reads the file, so a file that is
  // not a database (or is damaged) is caught here with a message that says so.
  if (auto s = db->exec("PRAGMA journal_mode=WAL"); !s) {
    return make_error("db_damaged", "state file " + path +
                                        " is not a usable sqlite database (" + s.error().message +
                                        "); move it aside to start afresh");
  }
  if (auto s = quick_check(raw); !s) {
    return make_error("db_damaged", "state file " + path + " is damaged (" + s.error().message +
                                        "); move it aside to start afresh");
  }
  if (auto s = db->exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL"); !s) return s.error();
  return db;
}

void Db::use_little_memory() {
  sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
  sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 128, 32);
  // Page-cache pages beyond this are recycled instead of kept: a download's
  // row carries its piece hashes (0.5 MiB of hex at 4 GiB), and each commit
  // rewrites the row, which would otherwise keep ~2 MiB of cache resident.
  sqlite3_soft_heap_limit64(512 * 1024);
}

Db::~Db() { sqlite3_close_v2(db_); }

Status Db::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return make_error("db_error", msg);
  }
  return Ok{};
}

Stmt Db::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "fatal: cannot prepare SQL (%s): %.*s\n", sqlite3_errmsg(db_),
                 static_cast<int>(sql.size()), sql.data());
    std::abort();
  }
  return Stmt(db_, stmt);
}

int64_t Db::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int Db::changes() const { return sqlite3_changes(db_); }

bool Db::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Result<std::string> Db::image() const {
  sqlite3_int64 size = 0;
  // Flags 0: a copy that is ours, read page by page through this
  // connection's pager in one read transaction, so it is one consistent
  // state and includes what only the WAL holds yet.
  unsigned char* bytes = sqlite3_serialize(db_, "main", &size, 0);
  if (!bytes) return db_error(db_, "cannot take an image of state file " + path_);
  std::string out(reinterpret_cast<const char*>(bytes), static_cast<size_t>(size));
  sqlite3_free(bytes);
  return out;
}

Result<std::unique_ptr<Db>> Db::from_image(std::string_view image) {
  auto junk = [](const std::string& why) {
    return make_error("db_image", "not an image of a sound sqlite database: " + why);
  };
  // The header is 100 bytes and a page at least 512.
  constexpr std::string_view kMagic("SQLite format 3\0", 16);
  if (image.size() < 512 || image.substr(0, kMagic.size()) != kMagic) {
    return junk("it does not start with the sqlite header");
  }
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return make_error("db_error", "cannot open an in-memory database: " + msg);
  }
  std::unique_ptr<Db> db(new Db(raw, ":image:"));
  auto* copy = static_cast<unsigned char*>(sqlite3_malloc64(image.size()));
  if (!copy) return make_error("db_error", "out of memory for a database image");
  std::memcpy(copy, image.data(), image.size());
  // Bytes 18 and 19 say 2 in the image of a WAL database, and an in-memory
  // database refuses to read one ("WAL mode"); 1 (rollback journal) is the
  // same file otherwise. replace_with()'s backup sets them back for a WAL
  // destination.
  for (size_t at : {18, 19}) {
    if (copy[at] == 2) copy[at] = 1;
  }
  const auto size = static_cast<sqlite3_int64>(image.size());
  // FREEONCLOSE: sqlite owns `copy` from here, also when this fails.
  if (sqlite3_deserialize(raw, "main", copy, size, size,
                          SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) !=
      SQLITE_OK) {
    return junk(sqlite3_errmsg(raw));
  }
  // sqlite reads nothing until asked: quick_check reads every page.
  if (auto s = quick_check(raw); !s) return junk(s.error().message);
  return db;
}

Status Db::replace_with(Db& source) {
  // The backup needs the destination's write lock for itself; inside a
  // transaction of ours its single step would not be the atomic one.
  if (in_transaction()) {
    return make_error("db_error", "cannot replace state file " + path_ + " inside a transaction");
  }
  sqlite3_backup* backup = sqlite3_backup_init(db_, "main", source.db_, "main");
  if (!backup) return db_error(db_, "cannot replace state file " + path_);
  // One step (-1) copies every page in one write transaction of this
  // connection, committed as any other: all pages or, after a crash or an
  // error, none (finish rolls an unfinished step back).
  const int step = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (step != SQLITE_DONE) {
    return make_error("db_error", "cannot replace state file " + path_ + ": " +
                                      sqlite3_errmsg(db_));
  }
  return Ok{};
}

Status Db::replace_with(std::string_view image) {
  auto source = from_image(image);
  if (!source) return source.error();
  return replace_with(**source);
}

// A savepoint name is unique per connection only by nesting: ROLLBACK TO and
// RELEASE take the innermost of that name, which is this one, since
// transactions end in the reverse order of their start.
Transaction::Transaction(Db& db)
    : db_(db),
      nested_(db.in_transaction()),
      begun_(db_.exec(nested_ ? "SAVEPOINT gs_nested" : "BEGIN IMMEDIATE")) {}

Transaction::~Transaction() {
  if (done_ || !begun_) return;
  // ROLLBACK TO undoes the savepoint's writes but keeps it open; RELEASE ends it.
  (void)db_.exec(nested_ ? "ROLLBACK TO gs_nested; RELEASE gs_nested" : "ROLLBACK");
}

Status Transaction::commit() {
  // Without BEGIN the writes ran one by one: report it rather than claim atomicity.
  if (!begun_) return make_error("db_error", "transaction did not start: " + begun_.error().message);
  auto s = db_.exec(nested_ ? "RELEASE gs_nested" : "COMMIT");
  if (s) done_ = true;
  return s;
}

}  // namespace gs
