// Prepared statements kept for the life of the state file, one per SQL text.
//
// Preparing a statement parses and plans its SQL; for the short queries the
// tracker runs on every request that cost more than running them (a peer
// look-up spent a third of its time in sqlite3_prepare_v2 and finalize). The
// cache prepares each SQL text once and hands it out again and again.
//
// A Handle resets its statement when it goes away: the next user finds no
// old bindings, and no half-stepped query keeps a read transaction open. If
// the statement is already out (one method calls another that uses the same
// SQL), the second Handle gets a private statement of its own instead.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "db.h"

namespace gs::tracker {

class StatementCache {
 public:
  explicit StatementCache(Db& db) : db_(db) {}
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  class Handle {
   public:
    ~Handle();
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Stmt& operator*() { return *stmt_; }
    Stmt* operator->() { return stmt_; }

   private:
    friend class StatementCache;
    Handle(Stmt& cached, bool& busy) : stmt_(&cached), busy_(&busy) { busy = true; }
    explicit Handle(Stmt&& own) : own_(std::move(own)), stmt_(&*own_) {}
    std::optional<Stmt> own_;  // only when the cached one was out
    Stmt* stmt_;
    bool* busy_ = nullptr;
  };

  // The statement for `sql`, which must be SQL written by us (Db::prepare
  // aborts on SQL that does not compile).
  Handle get(std::string_view sql);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::unique_ptr<Stmt> stmt;
    bool busy = false;
  };
  // Lets find() take a string_view without building a std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Db& db_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
};

}  // namespace gs::tracker
