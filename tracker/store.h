// The tracker's durable state: accounts, sessions, groups, members, join
// requests and each group's file catalogue (files and who shares them), in
// one sqlite file (WAL). All SQL of the tracker lives here. Who is online to
// serve a file right now is soft state and lives in LivePeers, not here.
//
// Each write method is one transaction and is the whole of one client write.
// That is the unit the replicated cluster will order and ship: the primary
// applies it here, sends the same write to its backups, and answers the client
// once they have acknowledged (DESIGN.md, "Trackers").
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

namespace gs::tracker {

struct SessionRecord {
  std::string token_hash;  // hex SHA-256 of the token; the token itself is never stored
  std::string user;
  std::string seat;
  int64_t created = 0;  // unix seconds
};

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

// What leave_group did: the group went away with its last member, or its
// owner left and `new_owner` took over, or neither. The leaver's shares in
// the group end either way; files nobody shares any more leave the
// catalogue, and `removed_file_ids` are the ids that no file of the group has
// any more (the same content may remain under another name).
struct LeaveOutcome {
  bool deleted = false;
  std::optional<std::string> new_owner;
  std::vector<std::string> removed_file_ids;
};

// One file of a group's catalogue, as checked by FileMeta::from_parts and
// kept in its canonical (lowercase hex) form.
struct FileRecord {
  std::string group;
  std::string name;
  std::string file_id;  // 64 hex digits
  int64_t size = 0;
  int64_t piece_size = 0;
  std::string hashes;  // hex of every piece hash, in order
  int64_t created = 0;
};

// What a listing shows of a file: no piece hashes, which can be large.
struct FileSummary {
  std::string name;
  std::string file_id;
  int64_t size = 0;
};

// What stop_share did to the catalogue.
struct StopShareOutcome {
  bool file_removed = false;    // the user was its last sharer
  bool file_id_gone = false;    // and no other name in the group has its content
  bool still_shares_id = false;  // the user shares the same content under another name
};

// Reads: session_by_token(), membership() and file() answer from memory when
// they can (query_memo.h); every write method empties those memos.
class Store {
 public:
  // The version of the tracker's tables this build writes (component
  // "tracker" in schema_version, lib/schema.h).
  static constexpr int64_t kSchemaVersion = 2;
  static constexpr std::string_view kSchemaComponent = "tracker";

  // Opens or creates the state file. A damaged file, a file of some other
  // program, or one written by a newer tracker is an error that says so.
  static Result<std::unique_ptr<Store>> open(const std::string& path);

  // Accounts. add_user() is false when the name is taken.
  Result<bool> add_user(const std::string& user, const std::string& password_hash, int64_t now);
  Result<std::optional<std::string>> password_hash(const std::string& user);

  // Sessions: at most one per user.
  Result<std::optional<SessionRecord>> session_by_token(const std::string& token_hash);
  Result<std::optional<SessionRecord>> session_of_user(const std::string& user);
  // Makes `s` the user's session, ending any previous one.
  Status replace_session(const SessionRecord& s);
  Status delete_session(const std::string& token_hash);

  // Groups. add_group() is false when the name is taken; the owner becomes
  // the first member.
  Result<bool> add_group(const std::string& group, const std::string& owner, int64_t now);
  Result<std::optional<std::string>> group_owner(const std::string& group);
  Result<bool> is_member(const std::string& group, const std::string& user);
  // group_owner() and is_member() in one query, for the checks every
  // catalogue request makes; nullopt when there is no such group.
  Result<std::optional<Membership>> membership(const std::string& group, const std::string& user);
  Result<bool> has_request(const std::string& group, const std::string& user);
  Status add_request(const std::string& group, const std::string& user, int64_t now);
  // Pending requesters, oldest first.
  Result<std::vector<std::string>> requests(const std::string& group);
  // Request becomes membership; false when there was no such request.
  Result<bool> accept_request(const std::string& group, const std::string& user, int64_t now);
  // False when there was no such request.
  Result<bool> reject_request(const std::string& group, const std::string& user);
  // Removes a member and the member's shares in the group; files nobody
  // shares any more leave the catalogue. The owner's leaving hands the group
  // to the member accepted earliest; the last member's leaving deletes the
  // group with its pending requests and whole catalogue.
  Result<LeaveOutcome> leave_group(const std::string& group, const std::string& user);
  // Every group, by name.
  Result<std::vector<GroupSummary>> list_groups();

  // File catalogue. A (group, name) names one file; the same content (file
  // id) may be shared under several names.
  //
  // Makes `user` a sharer of `file`, adding the file to the catalogue if its
  // name is new. False when the name is taken by a file with another id
  // (nothing is written then). Sharing again what one shares is a no-op.
  Result<bool> share_file(const FileRecord& file, const std::string& user, int64_t now);
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
  // Ends one user's share of one file; the file leaves the catalogue with its
  // last sharer. A user who was not sharing it changes nothing.
  Result<StopShareOutcome> stop_share(const std::string& group, const std::string& name, const std::string& user);

 private:
  explicit Store(std::unique_ptr<Db> db) : db_(std::move(db)), stmts_(*db_) {}
  Status check_schema();
  // Deletes the group's files that have no sharer left; returns the ids no
  // file of the group has any more.
  Result<std::vector<std::string>> drop_unshared_files(const std::string& group);

  // Every write method opens one first: it empties the memos then and when
  // the write is over, whether it committed or not.
  class Writing;
  void forget_answers();

  std::unique_ptr<Db> db_;
  // After db_: its statements are finalized before the database closes.
  StatementCache stmts_;
  QueryMemo<SessionRecord> sessions_memo_{16384, 8u << 20};  // by token hash
  QueryMemo<Membership> memberships_memo_{16384, 4u << 20};  // by group, user
  QueryMemo<FileRecord> files_memo_{1024, 8u << 20};         // by group, name
};

}  // namespace gs::tracker
