// Thin RAII layer over sqlite3: open in WAL mode, prepared statements, and
// transactions. Both daemons keep all durable state through this.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace gs {

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  ~Stmt();

  // Binds by 1-based position; returns *this for chaining.
  Stmt& bind(int pos, int64_t v);
  Stmt& bind(int pos, std::string_view v);
  Stmt& bind_blob(int pos, std::string_view v);
  Stmt& bind_null(int pos);

  // One step: true when a row is available, false when done.
  Result<bool> step();
  // Steps to completion; for statements that return no rows.
  Status run();
  void reset();

  int64_t column_int(int col) const;
  std::string column_text(int col) const;
  bool column_is_null(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  // Opens (creating if needed) with WAL, foreign keys and a busy timeout. A
  // file that is not a database, or is damaged, is an error that says so.
  static Result<std::unique_ptr<Db>> open(const std::string& path);
  // For a process whose databases are small and rarely busy (gsd): each
  // connection then allocates its page cache as pages are used instead of
  // ~90 KiB up front, with a smaller lookaside arena. About 0.2 MiB less
  // resident per connection, and a soft heap limit (512 KiB) so the page
  // cache does not keep what a large row rewrite brought in. Call before any
  // other sqlite use.
  static void use_little_memory();
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status exec(std::string_view sql);
  // Prepares SQL written by us; a failure here is a programming error, so it aborts.
  Stmt prepare(std::string_view sql);
  int64_t last_insert_id() const;
  int changes() const;
  // The rowid of the last row inserted on this connection.
  int64_t last_insert_rowid() const;
  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// Scoped transaction: rolls back unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  // Whether BEGIN worked: writes made when it did not are not atomic.
  const Status& begun() const { return begun_; }
  Status commit();

 private:
  Db& db_;
  Status begun_;
  bool done_ = false;
};

}  // namespace gs
