// Thin RAII layer over sqlite3: open in WAL mode, prepared statements,
// transactions, and whole-database images. Both daemons keep all durable
// state through this.
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
  // Whether a transaction is open on this connection (Transaction nests then).
  bool in_transaction() const;

  // The whole database as one byte string: the file as sqlite would write it
  // with every committed change, the WAL's included. For a replica that has
  // fallen too far behind to catch up from the log (tracker/replica_store.h).
  Result<std::string> image() const;
  // An image from image() as a database of its own, in memory: for reading
  // it (checking what it holds) before replace_with() takes it. An image
  // that is not a sound sqlite database is an error ("db_image"). The
  // path() of the result is ":image:".
  static Result<std::unique_ptr<Db>> from_image(std::string_view image);
  // Replaces this whole database with `source`'s, in one write transaction:
  // a crash leaves either the old database or the new one, never a mix.
  // Statements prepared on this connection stay valid (sqlite prepares them
  // again on their next step, the schema having changed). Not inside a
  // Transaction; both must have the same page size (every file here uses
  // sqlite's default). On an error nothing changed.
  Status replace_with(Db& source);
  // from_image() then replace_with(): junk is refused with nothing changed.
  Status replace_with(std::string_view image);

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// Scoped transaction: rolls back unless commit() succeeded.
//
// Inside another transaction on the same connection it is a SAVEPOINT: its
// commit() keeps its writes for the outer transaction to commit or roll back,
// and its rollback undoes only its own writes. That is how a replicated
// write (Store::apply, one transaction) is applied inside the transaction
// that also logs it (tracker/replica_store.cc). Nested transactions end in
// the reverse order of their start, as scopes do.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // Whether BEGIN worked: writes made when it did not are not atomic.
  const Status& begun() const { return begun_; }
  Status commit();

 private:
  Db& db_;
  const bool nested_;
  Status begun_;
  bool done_ = false;
};

}  // namespace gs
