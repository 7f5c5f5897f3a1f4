// The tracker's durable state: accounts, sessions, groups, members, join
// requests and each group's file catalogue (files and who shares them), in
// one sqlite file (WAL). All SQL of the tracker lives here, except that of
// the replication log's tables (its entries, position and view), which share
// the file and live in replica_store.cc. Who is online to serve a file right
// now is soft state and lives in LivePeers, not here.
//
// Every change is one Write (write.h) applied by apply(), in one transaction:
// the unit the replicated cluster orders and ships. The primary applies it
// here, sends the same Write to its backups, and answers the client once they
// have it durably (docs/replication.md).
//
// Methods return Result because a disk can fill up or fail under a running
// tracker; the caller turns such an error into an answer, not a crash.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db.h"
#include "query_memo.h"
#include "result.h"
#include "statement_cache.h"
#include "write.h"

namespace gs::tracker {

// A group as a catalogue request checks it: who owns it, and whether the
// asking user is a member.
struct Membership {
  std::string owner;
  bool member = false;
};

struct GroupSummary {
  std::string group;
  std::string owner;
  int64_t members = 0;
};

// What a listing shows of a file: no piece hashes, which can be large.
struct FileSummary {
  std::string name;
  std::string file_id;
  int64_t size = 0;
};

// Reads: session_by_token(), membership() and file() answer from memory when
// they can (query_memo.h); apply() empties those memos.
class Store {
 public:
  // The version of the tracker's tables this build writes (component
  // "tracker" in schema_version, lib/schema.h).
  static constexpr int64_t kSchemaVersion = 4;
  // How many request ids (Write::rid) the store remembers, newest first.
  static constexpr int64_t kKeptRequestIds = 10000;
  static constexpr std::string_view kSchemaComponent = "tracker";

  // Opens or creates the state file. A damaged file, a file of some other
  // program, or one written by a newer tracker is an error that says so.
  static Result<std::unique_ptr<Store>> open(const std::string& path);

  // Applies one write in one transaction (see write.h for what each does and
  // when it is refused). With a request id, the outcome is kept under it in
  // the same transaction; applying a write whose id is known changes nothing
  // and gives the kept outcome.
  Result<Applied> apply(const Write& w);
  // The kept outcome of the write with this request id, if any.
  Result<std::optional<Applied>> outcome_of(const std::string& rid);

  // For the replication log (replica_store.h), which keeps its tables in the
  // same file so that a write and its log entry commit together: its
  // transaction holds apply()'s, and a snapshot is the whole file.
  Db& db() { return *db_; }
  // After the whole database was replaced (a snapshot installed): what the
  // memos hold may be gone.
  void reloaded() { forget_answers(); }
  // Whether `db` has every table and column of this build's tracker, as
  // open() checks its own file; for an image before it replaces the file.
  static Status check_tables(Db& db);

  // Accounts.
  Result<std::optional<std::string>> password_hash(const std::string& user);

  // Sessions: at most one per user.
  Result<std::optional<SessionRecord>> session_by_token(const std::string& token_hash);
  Result<std::optional<SessionRecord>> session_of_user(const std::string& user);

  // Groups.
  Result<std::optional<std::string>> group_owner(const std::string& group);
  // The cluster's signing key: its raw 32-byte seed, once set.
  Result<std::optional<std::string>> cluster_key_seed();
  Result<bool> is_member(const std::string& group, const std::string& user);
  // group_owner() and is_member() in one query, for the checks every
  // catalogue request makes; nullopt when there is no such group.
  Result<std::optional<Membership>> membership(const std::string& group, const std::string& user);
  Result<bool> has_request(const std::string& group, const std::string& user);
  // Pending requesters, oldest first.
  Result<std::vector<std::string>> requests(const std::string& group);
  // Every group, by name.
  Result<std::vector<GroupSummary>> list_groups();

  // File catalogue. A (group, name) names one file; the same content (file
  // id) may be shared under several names.
  Result<std::optional<FileRecord>> file(const std::string& group, const std::string& name);
  // Every file of the group, by name.
  Result<std::vector<FileSummary>> files(const std::string& group);
  // Whether any file of the group has this id.
  Result<bool> has_file_id(const std::string& group, const std::string& file_id);
  Result<bool> is_sharer(const std::string& group, const std::string& name, const std::string& user);
  // Whether `user` shares this content in the group under any name.
  Result<bool> shares_file_id(const std::string& group, const std::string& user, const std::string& file_id);
  // Sharers of one file, earliest first.
  Result<std::vector<std::string>> sharers(const std::string& group, const std::string& name);

 private:
  explicit Store(std::unique_ptr<Db> db) : db_(std::move(db)), stmts_(*db_) {}
  // Deletes the group's files that have no sharer left; returns the ids no
  // file of the group has any more.
  Result<std::vector<std::string>> drop_unshared_files(const std::string& group);

  // apply() opens one first: it empties the memos then and when the write
  // is over, whether it committed or not.
  class Writing;
  void forget_answers();

  // One per kind of write, inside apply()'s transaction.
  Result<Applied> run(const AddUser& w);
  Result<Applied> run(const ReplaceSession& w);
  Result<Applied> run(const DeleteSession& w);
  Result<Applied> run(const AddGroup& w);
  Result<Applied> run(const AddRequest& w);
  // The request becomes membership.
  Result<Applied> run(const AcceptRequest& w);
  Result<Applied> run(const RejectRequest& w);
  // Removes a member and the member's shares in the group; files nobody
  // shares any more leave the catalogue. The owner's leaving hands the group
  // to the member accepted earliest; the last member's leaving deletes the
  // group with its pending requests and whole catalogue.
  Result<Applied> run(const LeaveGroup& w);
  // Makes `user` a sharer of `file`, adding the file to the catalogue if its
  // name is new. Refused when the name is taken by a file with another id
  // (nothing is written then). Sharing again what one shares is a no-op.
  Result<Applied> run(const ShareFile& w);
  // Ends one user's share of one file; the file leaves the catalogue with its
  // last sharer. A user who was not sharing it changes nothing.
  Result<Applied> run(const StopShare& w);
  Result<Applied> run(const SetClusterKey& w);
  Status keep_outcome(const std::string& rid, const Applied& applied);

  std::unique_ptr<Db> db_;
  // After db_: its statements are finalized before the database closes.
  StatementCache stmts_;
  QueryMemo<SessionRecord> sessions_memo_{16384, 8u << 20};  // by token hash
  QueryMemo<Membership> memberships_memo_{16384, 4u << 20};  // by group, user
  QueryMemo<FileRecord> files_memo_{1024, 8u << 20};         // by group, name
};

}  // namespace gs::tracker
