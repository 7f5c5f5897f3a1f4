// Tracker writes as values. Every change to the tracker's durable state is
// one Write, applied by Store::apply in one transaction. The primary of the
// cluster builds it after every check has passed, with every random and
// time value fixed in it (the session token's hash, the clock), so applying
// the same Writes in the same order gives the same rows on every tracker
// (docs/replication.md). That is also why a Write is data and not a call:
// it is what the primary logs and ships to its backups.
//
// `rid` is the client's request id, if it sent one: Store::apply keeps the
// outcome under it, so a write retried after a failover is answered with its
// first outcome instead of being applied twice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "json.h"
#include "result.h"

namespace gs::tracker {

struct SessionRecord {
  std::string token_hash;  // hex SHA-256 of the token; the token itself is never stored
  std::string user;
  std::string seat;
  int64_t created = 0;  // unix seconds
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

// Each names what it does; `now` is unix seconds as the primary read them.
struct AddUser {
  std::string user;
  std::string password_hash;
  int64_t now = 0;
};
// Makes `session` its user's one session, ending any previous one.
struct ReplaceSession {
  SessionRecord session;
};
struct DeleteSession {
  std::string token_hash;
};
// The owner becomes the first member.
struct AddGroup {
  std::string group;
  std::string owner;
  int64_t now = 0;
};
struct AddRequest {
  std::string group;
  std::string user;
  int64_t now = 0;
};
// The request becomes membership.
struct AcceptRequest {
  std::string group;
  std::string user;
  int64_t now = 0;
};
struct RejectRequest {
  std::string group;
  std::string user;
};
// Removes a member and the member's shares in the group; see Store.
struct LeaveGroup {
  std::string group;
  std::string user;
};
// Makes `user` a sharer of `file` (file.created is ignored; `now` is used).
struct ShareFile {
  FileRecord file;
  std::string user;
  int64_t now = 0;
};
struct StopShare {
  std::string group;
  std::string name;
  std::string user;
};

// The cluster's signing key (access tickets, lib/ticket.h), made once by
// the first primary and kept by every tracker like any other state: a later
// primary signs with the same key, so the key daemons pinned stays valid.
// Refused (done = false) when the cluster has one already.
struct SetClusterKey {
  std::string seed;  // hex of the 32-byte Ed25519 private seed
  int64_t now = 0;
};

using WriteOp = std::variant<AddUser, ReplaceSession, DeleteSession, AddGroup, AddRequest,
                             AcceptRequest, RejectRequest, LeaveGroup, ShareFile, StopShare, SetClusterKey>;

struct Write {
  Write(WriteOp o, std::string r = {}) : op(std::move(o)), rid(std::move(r)) {}  // NOLINT(google-explicit-constructor)
  WriteOp op;
  std::string rid;  // empty: the client sent none
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

// What stop_share did to the catalogue.
struct StopShareOutcome {
  bool file_removed = false;     // the user was its last sharer
  bool file_id_gone = false;     // and no other name in the group has its content
  bool still_shares_id = false;  // the user shares the same content under another name
};

// What a write did. `done` is false when it was refused by the state it met:
// AddUser and AddGroup on a taken name, Accept/RejectRequest without such a
// request, ShareFile on a name taken by other content. The other two fields
// belong to LeaveGroup and StopShare.
struct Applied {
  bool done = true;
  LeaveOutcome leave;
  StopShareOutcome stop;

  static Applied done_if(bool done) {
    Applied a;
    a.done = done;
    return a;
  }
};

// The op's name as logged and shipped ("add_user", ...).
std::string_view write_name(const WriteOp& op);

// Encodings for the replication log and the request-id table. Decoding is
// strict: a record that is not exactly what encode makes is an error.
Json to_json(const Write& w);
Result<Write> write_from_json(const Json& j);
Json to_json(const Applied& a);
Result<Applied> applied_from_json(const Json& j);

}  // namespace gs::tracker
