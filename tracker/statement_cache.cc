#include "statement_cache.h"

#include <utility>

namespace gs::tracker {

StatementCache::Handle::~Handle() {
  stmt_->reset();
  if (busy_) *busy_ = false;
}

StatementCache::Handle StatementCache::get(std::string_view sql) {
  auto it = entries_.find(sql);
  if (it == entries_.end()) {
    it = entries_.emplace(std::string(sql), Entry{std::make_unique<Stmt>(db_.prepare(sql))}).first;
  }
  Entry& e = it->second;
  if (e.busy) return Handle(db_.prepare(sql));
  return Handle(*e.stmt, e.busy);
}

}  // namespace gs::tracker
