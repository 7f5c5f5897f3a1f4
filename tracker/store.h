// The tracker's durable state: accounts, sessions, groups, members and join
// requests, in one sqlite file (WAL). All SQL of the tracker lives here.
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
#include <vector>

#include "db.h"
#include "result.h"

namespace gs::tracker {

struct SessionRecord {
  std::string token_hash;  // hex SHA-256 of the token; the token itself is never stored
  std::string user;
  std::string seat;
  int64_t created = 0;  // unix seconds
};

struct GroupSummary {
  std::string group;
  std::string owner;
  int64_t members = 0;
};

// What leave_group did: the group went away with its last member, or its
// owner left and `new_owner` took over, or neither.
struct LeaveOutcome {
  bool deleted = false;
  std::optional<std::string> new_owner;
};

class Store {
 public:
  // The schema version this build writes (PRAGMA user_version).
  static constexpr int64_t kSchemaVersion = 1;

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
  Result<bool> has_request(const std::string& group, const std::string& user);
  Status add_request(const std::string& group, const std::string& user, int64_t now);
  // Pending requesters, oldest first.
  Result<std::vector<std::string>> requests(const std::string& group);
  // Request becomes membership; false when there was no such request.
  Result<bool> accept_request(const std::string& group, const std::string& user, int64_t now);
  // False when there was no such request.
  Result<bool> reject_request(const std::string& group, const std::string& user);
  // Removes a member. The owner's leaving hands the group to the member
  // accepted earliest; the last member's leaving deletes the group and its
  // pending requests.
  Result<LeaveOutcome> leave_group(const std::string& group, const std::string& user);
  // Every group, by name.
  Result<std::vector<GroupSummary>> list_groups();

 private:
  explicit Store(std::unique_ptr<Db> db) : db_(std::move(db)) {}
  Status migrate();
  Status check_schema();

  std::unique_ptr<Db> db_;
};

}  // namespace gs::tracker
