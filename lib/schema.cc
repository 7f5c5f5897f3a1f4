#include "schema.h"

#include <optional>
#include <string>

#include "log.h"

namespace gs {
namespace {

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_version(component TEXT PRIMARY KEY, version INTEGER NOT "
    "NULL)";

Error read_error(const Db& db, const std::string& what, const Error& e) {
  return make_error("db_error",
                    "cannot read " + what + " of state file " + db.path() + ": " + e.message);
}

Result<int64_t> user_version(Db& db) {
  auto q = db.prepare("PRAGMA user_version");
  auto row = q.step();
  if (!row) return read_error(db, "the user_version", row.error());
  return *row ? q.column_int(0) : 0;
}

Status set_user_version(Db& db, int64_t v) {
  return db.exec("PRAGMA user_version = " + std::to_string(v));
}

// The recorded version of `component`; nullopt when it has no row yet.
Result<std::optional<int64_t>> recorded_version(Db& db, const std::string& component) {
  auto q = db.prepare("SELECT version FROM schema_version WHERE component = ?");
  q.bind(1, std::string_view(component));
  auto row = q.step();
  if (!row) return read_error(db, "the " + component + " schema version", row.error());
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>(q.column_int(0));
}

}  // namespace

Result<bool> has_table(Db& db, std::string_view table) {
  auto q = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?");
  q.bind(1, table);
  auto row = q.step();
  if (!row) return read_error(db, "the table list", row.error());
  return *row;
}

Result<int64_t> take_legacy_user_version(Db& db) {
  auto v = user_version(db);
  if (!v) return v.error();
  if (*v == kUserVersionMark || *v == 0) return int64_t{0};
  if (auto s = set_user_version(db, kUserVersionMark); !s) return s.error();
  return *v;
}

Status migrate(Db& db, std::string_view component_name, std::span<const char* const> steps,
               LegacyVersion legacy) {
  const std::string component(component_name);
  const auto known = static_cast<int64_t>(steps.size());
  // Reading the version inside the write transaction: two connections to one
  // file (gsd's stores) cannot both see an old version and both upgrade.
  Transaction tx(db);
  if (!tx.begun()) return read_error(db, "the schema version", tx.begun().error());
  if (auto s = db.exec(kCreateTable); !s) return read_error(db, "the schema version", s.error());
  auto recorded = recorded_version(db, component);
  if (!recorded) return recorded.error();

  int64_t from = 0;
  if (*recorded) {
    from = **recorded;
  } else if (legacy) {
    auto old = legacy(db);
    if (!old) return old.error();
    from = *old;
  }
  if (from < 0) {
    return make_error("db_damaged", "state file " + db.path() +
                                        " has a negative schema version for its " + component +
                                        " tables; move it aside to start afresh");
  }
  if (from > known) {
    return make_error("db_version", "state file " + db.path() +
                                        " was written by a newer release: its " + component +
                                        " tables are at schema version " + std::to_string(from) +
                                        ", this build knows versions up to " +
                                        std::to_string(known) + "; run a newer release");
  }
  for (int64_t v = from; v < known; ++v) {
    if (auto s = db.exec(steps[static_cast<size_t>(v)]); !s) {
      return make_error("db_migrate",
                        "cannot upgrade state file " + db.path() + ": the step of its " +
                            component + " tables from schema version " + std::to_string(v) +
                            " to " + std::to_string(v + 1) + " failed (" + s.error().message + ")" +
                            (v == 0 ? "; is it another program's database?" : "") +
                            "; the file was left as it was");
    }
  }
  if (*recorded != known) {
    auto put = db.prepare(
        "INSERT INTO schema_version(component, version) VALUES(?, ?) "
        "ON CONFLICT(component) DO UPDATE SET version = excluded.version");
    put.bind(1, std::string_view(component)).bind(2, known);
    if (auto s = put.run(); !s) return s.error();
  }
  // A fresh file gets the mark now; a legacy user_version other than 0 is
  // left for the component it belongs to, which takes it in its own turn.
  auto uv = user_version(db);
  if (!uv) return uv.error();
  if (*uv == 0) {
    if (auto s = set_user_version(db, kUserVersionMark); !s) return s.error();
  }
  if (auto s = tx.commit(); !s) return s;
  if (from != 0 && from != known) {
    log_info("upgraded the ", component, " tables of state file ", db.path(),
             " from schema version ", from, " to ", known);
  }
  return Ok{};
}

}  // namespace gs
