// Schema versions of the sqlite state files (gsd.db, tracker.db), kept one way.
//
// A component is a set of tables with one owner (gsd's State, ShareStore and
// DownloadStore; the tracker's Store). Its code holds an ordered list of
// steps, SQL scripts where steps[i] takes its tables from version i to i + 1,
// and the file holds its version in one table:
//
//   schema_version(component TEXT PRIMARY KEY, version INTEGER NOT NULL)
//
// A step that has shipped is never edited, only followed by new ones: an old
// file is brought forward by the same steps a new one is built with, so both
// end up with the same tables. To change a component's tables, append a step
// to its list (and bump the kSchemaVersion its static_assert checks).
//
// Files written before this table kept their versions elsewhere (PRAGMA
// user_version, a `download_schema` table, a meta row 'shares_schema'). A
// component with no row yet reads its old marker once, through a
// LegacyVersion, which also removes it in the transaction that writes the row.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "db.h"
#include "result.h"

namespace gs {

// Reads and removes the marker a file from before schema_version kept for one
// component; 0 when it has none. Runs inside migrate()'s transaction, so a
// failure after it leaves the marker in place.
using LegacyVersion = Result<int64_t> (*)(Db& db);

// Brings `component` to version steps.size(), all in one transaction: reads
// its version (from schema_version, or else through `legacy`), runs every
// step it is missing, records the new version. Nothing is changed when
//  - a step fails (error "db_migrate", naming the file, component and step),
//  - the file is at a version above steps.size(), written by a newer build
//    (error "db_version", naming the file and both versions).
// SQL that cannot run inside a transaction (VACUUM, PRAGMA foreign_keys,
// journal_mode) cannot be a step.
Status migrate(Db& db, std::string_view component, std::span<const char* const> steps,
               LegacyVersion legacy = nullptr);

// The LegacyVersion of components that used PRAGMA user_version (gsd's State,
// the tracker's Store): reads it and leaves kUserVersionMark in its place.
Result<int64_t> take_legacy_user_version(Db& db);

// PRAGMA user_version of every file versioned by schema_version. Releases from
// before the table took user_version for their schema version; this is above
// any they knew, so they refuse such a file as "newer" instead of using
// tables they do not understand.
constexpr int64_t kUserVersionMark = 1000;

// Whether the file has a table of this name, for LegacyVersion readers.
Result<bool> has_table(Db& db, std::string_view table);

}  // namespace gs
