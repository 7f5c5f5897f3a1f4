#include "replica_store.h"

#include <iterator>
#include <sstream>
#include <utility>

#include "json.h"
#include "schema.h"

namespace gs::tracker {
namespace {

// 0 -> 1. One row each in replica_view and replica_pos (id 1), made here so
// that every later statement is an UPDATE. A new file holds epoch 0 with an
// empty isr: the Replica reads that as "every tracker" (a new cluster).
constexpr const char* kReplicaV1 = R"sql(
CREATE TABLE replica_view (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch INTEGER NOT NULL,
  version INTEGER NOT NULL,
  isr TEXT NOT NULL
);
INSERT INTO replica_view VALUES (1, 0, 0, '');
CREATE TABLE replica_pos (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq INTEGER NOT NULL,
  last_epoch INTEGER NOT NULL,
  base_seq INTEGER NOT NULL,
  base_epoch INTEGER NOT NULL
);
INSERT INTO replica_pos VALUES (1, 0, 0, 0, 0);
CREATE TABLE replica_log (
  seq INTEGER PRIMARY KEY,
  epoch INTEGER NOT NULL,
  record TEXT NOT NULL
);
)sql";

constexpr const char* kReplicaSteps[] = {kReplicaV1};
static_assert(std::size(kReplicaSteps) == SqliteReplicaStorage::kSchemaVersion,
              "append a step and bump kSchemaVersion together");

constexpr std::string_view kReplicaProbe = R"sql(
SELECT id, epoch, version, isr FROM replica_view LIMIT 0;
SELECT id, last_seq, last_epoch, base_seq, base_epoch FROM replica_pos LIMIT 0;
SELECT seq, epoch, record FROM replica_log LIMIT 0;
)sql";

std::string isr_text(const std::vector<int>& isr) {
  std::string out;
  for (int i : isr) {
    if (!out.empty()) out += ' ';
    out += std::to_string(i);
  }
  return out;
}

Result<std::vector<int>> isr_from_text(const std::string& text) {
  std::vector<int> isr;
  std::istringstream in(text);
  int i = 0;
  while (in >> i) isr.push_back(i);
  if (!in.eof()) return make_error("db_damaged", "replica_view holds a bad isr: '" + text + "'");
  return isr;
}

uint64_t u64(int64_t v) { return static_cast<uint64_t>(v); }
int64_t i64(uint64_t v) { return static_cast<int64_t>(v); }

[[noreturn]] void raise(Error e) { throw ReplicaStorageError(std::move(e)); }

template <class T>
T value_or_raise(Result<T> r) {
  if (!r) raise(r.error());
  return std::move(*r);
}

void ok_or_raise(const Status& s) {
  if (!s) raise(s.error());
}

}  // namespace

SqliteReplicaStorage::SqliteReplicaStorage(Store& store, size_t keep)
    : store_(store), db_(store.db()), keep_(keep == 0 ? 1 : keep), stmts_(db_) {
  ok_or_raise(migrate(db_, kSchemaComponent, kReplicaSteps));
  if (auto s = db_.exec(kReplicaProbe); !s) {
    raise(make_error("db_damaged", "state file " + db_.path() +
                                       " does not have the replication tables of a gs-tracker (" +
                                       s.error().message + "); move it aside to start afresh"));
  }
  ok_or_raise(reload());
}

Status SqliteReplicaStorage::reload() {
  auto view = stmts_.get("SELECT epoch, version, isr FROM replica_view WHERE id = 1");
  auto row = view->step();
  if (!row) return row.error();
  if (!*row) return make_error("db_damaged", "replica_view has no row");
  View v;
  v.epoch = u64(view->column_int(0));
  v.version = u64(view->column_int(1));
  auto isr = isr_from_text(view->column_text(2));
  if (!isr) return isr.error();
  v.isr = std::move(*isr);

  auto pos = stmts_.get(
      "SELECT last_seq, last_epoch, base_seq, base_epoch FROM replica_pos WHERE id = 1");
  row = pos->step();
  if (!row) return row.error();
  if (!*row) return make_error("db_damaged", "replica_pos has no row");
  view_ = std::move(v);
  last_ = {u64(pos->column_int(0)), u64(pos->column_int(1))};
  base_ = {u64(pos->column_int(2)), u64(pos->column_int(3))};
  return Ok{};
}

void SqliteReplicaStorage::save_view(const View& v) {
  auto st = stmts_.get("UPDATE replica_view SET epoch = ?, version = ?, isr = ? WHERE id = 1");
  const Status s = st->bind(1, i64(v.epoch)).bind(2, i64(v.version)).bind(3, isr_text(v.isr)).run();
  if (!s) {
    (void)reload();
    raise(s.error());
  }
  view_ = v;
}

void SqliteReplicaStorage::append(const View& v, const std::vector<Entry>& entries) {
  LogPos at = last_;
  for (const Entry& e : entries) {
    if (e.seq != at.seq + 1 || e.epoch < at.epoch) {
      throw std::logic_error("append of entry " + std::to_string(e.seq) + "/" +
                             std::to_string(e.epoch) + " after " + std::to_string(at.seq) + "/" +
                             std::to_string(at.epoch));
    }
    at = {e.seq, e.epoch};
  }
  Position after;
  std::optional<Applied> outcome;
  const Status s = append_in_one_transaction(v, entries, after, outcome);
  if (!s) {
    // Rolled back; the memos may hold what the rolled-back writes read.
    store_.reloaded();
    (void)reload();
    raise(s.error());
  }
  view_ = after.view;
  last_ = after.last;
  base_ = after.base;
  if (outcome) outcome_ = std::move(outcome);
}

Status SqliteReplicaStorage::append_in_one_transaction(const View& v,
                                                       const std::vector<Entry>& entries,
                                                       Position& after,
                                                       std::optional<Applied>& outcome) {
  Transaction tx(db_);
  if (!tx.begun()) return tx.begun().error();
  after = {v, last_, base_};
  for (const Entry& e : entries) {
    auto json = Json::parse(e.record);
    if (!json) return make_error("bad_record", "log entry " + std::to_string(e.seq) +
                                                   " is not JSON: " + json.error().message);
    auto write = write_from_json(*json);
    if (!write) return make_error("bad_record", "log entry " + std::to_string(e.seq) +
                                                    " is not a write: " + write.error().message);
    auto applied = store_.apply(*write);
    if (!applied) return applied.error();
    outcome = std::move(*applied);
    auto ins = stmts_.get("INSERT INTO replica_log(seq, epoch, record) VALUES(?, ?, ?)");
    if (auto r = ins->bind(1, i64(e.seq)).bind(2, i64(e.epoch)).bind(3, e.record).run(); !r) {
      return r;
    }
    after.last = {e.seq, e.epoch};
  }
  // The oldest entries beyond `keep` go; base names the newest one gone.
  if (after.last.seq > keep_ + after.base.seq) {
    const uint64_t new_base = after.last.seq - keep_;
    auto epoch = stmts_.get("SELECT epoch FROM replica_log WHERE seq = ?");
    epoch->bind(1, i64(new_base));
    auto row = epoch->step();
    if (!row) return row.error();
    if (*row) {
      after.base = {new_base, u64(epoch->column_int(0))};
      auto drop = stmts_.get("DELETE FROM replica_log WHERE seq <= ?");
      if (auto r = drop->bind(1, i64(new_base)).run(); !r) return r;
    }
  }
  auto pos = stmts_.get(
      "UPDATE replica_pos SET last_seq = ?, last_epoch = ?, base_seq = ?, base_epoch = ? "
      "WHERE id = 1");
  if (auto r = pos->bind(1, i64(after.last.seq))
                   .bind(2, i64(after.last.epoch))
                   .bind(3, i64(after.base.seq))
                   .bind(4, i64(after.base.epoch))
                   .run();
      !r) {
    return r;
  }
  auto view = stmts_.get("UPDATE replica_view SET epoch = ?, version = ?, isr = ? WHERE id = 1");
  if (auto r = view->bind(1, i64(v.epoch)).bind(2, i64(v.version)).bind(3, isr_text(v.isr)).run();
      !r) {
    return r;
  }
  return tx.commit();
}

std::optional<std::vector<Entry>> SqliteReplicaStorage::entries_after(uint64_t after,
                                                                      size_t max) const {
  if (after < base_.seq) return std::nullopt;
  auto st = stmts_.get("SELECT seq, epoch, record FROM replica_log WHERE seq > ? ORDER BY seq LIMIT ?");
  st->bind(1, i64(after)).bind(2, static_cast<int64_t>(max));
  std::vector<Entry> out;
  for (;;) {
    auto row = st->step();
    if (!row) raise(row.error());
    if (!*row) break;
    out.push_back({u64(st->column_int(0)), u64(st->column_int(1)), st->column_text(2)});
  }
  return out;
}

std::optional<uint64_t> SqliteReplicaStorage::epoch_at(uint64_t seq) const {
  if (seq == 0) return 0;
  if (seq == base_.seq) return base_.epoch;
  if (seq < base_.seq || seq > last_.seq) return std::nullopt;
  if (seq == last_.seq) return last_.epoch;
  auto st = stmts_.get("SELECT epoch FROM replica_log WHERE seq = ?");
  st->bind(1, i64(seq));
  auto row = st->step();
  if (!row) raise(row.error());
  if (!*row) return std::nullopt;
  return u64(st->column_int(0));
}

std::string SqliteReplicaStorage::snapshot() const { return value_or_raise(db_.image()); }

void SqliteReplicaStorage::install_snapshot(const std::string& image) {
  auto source = value_or_raise(Db::from_image(image));
  ok_or_raise(Store::check_tables(*source));
  if (auto s = source->exec(kReplicaProbe); !s) {
    raise(make_error("db_image", "the snapshot has no replication tables: " + s.error().message));
  }
  const Status replaced = db_.replace_with(*source);
  store_.reloaded();
  ok_or_raise(reload());
  ok_or_raise(replaced);
  outcome_.reset();
}

std::optional<Applied> SqliteReplicaStorage::take_outcome() {
  std::optional<Applied> out = std::move(outcome_);
  outcome_.reset();
  return out;
}

}  // namespace gs::tracker
