// Looks into a state file from outside, through its own connection: what
// schema_version records, the file's user_version, which tables it has, its
// bytes. For the tests of lib/schema and of the stores that use it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "db.h"

namespace gs::test {

// One integer from a query; nullopt when it gives no row.
inline std::optional<int64_t> query_int(const std::string& path, const std::string& sql) {
  auto db = Db::open(path);
  EXPECT_TRUE(db.ok()) << db.error().message;
  if (!db.ok()) return std::nullopt;
  auto q = (*db)->prepare(sql);
  auto row = q.step();
  EXPECT_TRUE(row.ok());
  if (!row.ok() || !*row) return std::nullopt;
  return q.column_int(0);
}

inline bool has_table(const std::string& path, const std::string& table) {
  return query_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '" +
                             table + "'") == 1;
}

// The version schema_version records for `component`; nullopt without a row
// (or without the table).
inline std::optional<int64_t> recorded_version(const std::string& path,
                                               std::string_view component) {
  if (!has_table(path, "schema_version")) return std::nullopt;
  return query_int(path, "SELECT version FROM schema_version WHERE component = '" +
                             std::string(component) + "'");
}

inline int64_t user_version(const std::string& path) {
  return query_int(path, "PRAGMA user_version").value_or(-1);
}

inline void exec(const std::string& path, const std::string& sql) {
  auto db = Db::open(path);
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto s = (*db)->exec(sql);
  ASSERT_TRUE(s.ok()) << s.error().message;
}

// With every connection closed, sqlite has folded the WAL into the file, so
// equal bytes mean nothing was written.
inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace gs::test
