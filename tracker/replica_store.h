// The durable store behind the replication state machine (replica.h): the
// kept suffix of the replicated log, the log position and the last view
// accepted, in the tracker's own state file next to the rows they describe.
//
// One file, so that one transaction holds everything append() changes: the
// writes' rows (Store::apply, whose own transaction nests inside), their log
// entries, the position and the view. A crash leaves all of it or none, and
// last() never names a write the rows do not have. A snapshot is the whole
// file (Db::image), so a backup that installs one gets the primary's rows,
// position, view and kept log suffix at once.
//
// Cost: every append() is one sqlite commit, as durable as the tracker's
// own writes (WAL, synchronous=NORMAL: a process crash loses nothing
// committed; the OS crashing may lose the last commits). The log keeps the
// newest `keep` entries; a backup further behind than that gets a snapshot.
//
// ReplicaStorage's calls return nothing or values, and are durable when they
// return. So a failure (disk full, an I/O error, a record that does not
// decode or apply) is thrown as a ReplicaStorageError, after the transaction
// rolled back: nothing of the call is left, and the caller decides (the
// primary fails the client's write; a backup stops the process). A caller
// that breaks the contract (entries that do not follow last()) gets a
// std::logic_error, as from the in-memory store of the tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"
#include "tracker/replica.h"
#include "tracker/statement_cache.h"
#include "tracker/store.h"
#include "tracker/write.h"

namespace gs::tracker {

class ReplicaStorageError : public std::runtime_error {
 public:
  explicit ReplicaStorageError(Error e) : std::runtime_error(e.message), error_(std::move(e)) {}
  const Error& error() const { return error_; }

 private:
  Error error_;
};

class SqliteReplicaStorage final : public ReplicaStorage {
 public:
  // The version of the replication tables this build writes (component
  // "replica" in schema_version, lib/schema.h).
  static constexpr int64_t kSchemaVersion = 1;
  static constexpr std::string_view kSchemaComponent = "replica";
  static constexpr size_t kDefaultKeep = 10000;

  // Makes or upgrades the replication tables in `store`'s file and reads the
  // position and view; throws ReplicaStorageError when it cannot (a file
  // written by a newer build, damaged tables). `keep`: log entries kept (at
  // least 1). The store must outlive this.
  explicit SqliteReplicaStorage(Store& store, size_t keep = kDefaultKeep);
  SqliteReplicaStorage(const SqliteReplicaStorage&) = delete;
  SqliteReplicaStorage& operator=(const SqliteReplicaStorage&) = delete;

  // From memory: the position and view are read at construction and kept
  // after every commit.
  View view() const override { return view_; }
  LogPos last() const override { return last_; }

  void save_view(const View& v) override;
  // Each entry's record is the JSON text of a Write (to_json(Write).dump()).
  void append(const View& v, const std::vector<Entry>& entries) override;
  std::optional<std::vector<Entry>> entries_after(uint64_t after, size_t max) const override;
  std::optional<uint64_t> epoch_at(uint64_t seq) const override;
  // The whole state file. The image keeps the kept log suffix: it is the
  // suffix of the log that the image's rows are the state of, so the
  // installer can ship from it in turn.
  std::string snapshot() const override;
  // Refuses (throws, with nothing changed) an image that is not a sound
  // gs-tracker state file of this build's schema with replication tables.
  void install_snapshot(const std::string& image) override;

  // The outcome of the last entry append() applied, once: the primary's
  // Service answers the client of the write it just submitted with it.
  std::optional<Applied> take_outcome();
  // The entry just before the oldest kept one; (0, 0) until one was dropped.
  LogPos base() const { return base_; }

 private:
  // What the replication tables say.
  struct Position {
    View view;
    LogPos last;
    LogPos base;
  };
  Status append_in_one_transaction(const View& v, const std::vector<Entry>& entries,
                                   Position& after, std::optional<Applied>& outcome);
  // Reads the position and view into the members; after a failed write too,
  // since a commit that reported an error may still have happened.
  Status reload();

  Store& store_;
  Db& db_;
  const size_t keep_;
  mutable StatementCache stmts_;  // on db_: const reads step statements too
  View view_;
  LogPos last_;
  LogPos base_;
  std::optional<Applied> outcome_;
};

}  // namespace gs::tracker
