// What the Service and the Server need of the tracker's cluster, behind one
// interface: the Cluster (cluster.h) runs the replication protocol of
// docs/replication.md; unit tests of the Service put a fake in its place.
//
// The rules it lets the Service keep (docs/replication.md, "Requests from
// clients"):
//  - only the primary serves: any other tracker answers not_primary, naming
//    the primary it knows;
//  - every write goes through write(): appended to the log and applied to
//    the store in one transaction, then shipped to the backups;
//  - an answer leaves only once everything the tracker had applied when it
//    was made is committed (on every member of the in-sync set durably), so
//    a client never sees a write, its own or another's, that a failover
//    could take back.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>

#include "json.h"
#include "result.h"
#include "write.h"

namespace gs::tracker {

// Largest frame on a link between two trackers: an append batch (at most
// Replica::Params::max_batch_bytes of records, base64) or a snapshot chunk,
// in JSON.
inline constexpr size_t kReplicaMaxFrame = 16u << 20;

class Replication {
 public:
  virtual ~Replication() = default;

  // Whether this tracker is the primary now, and so serves clients. Not
  // const: a tracker that was paused (SIGSTOP) finds out here, before it
  // serves anyone from what may be a stale state (docs/replication.md rule 7).
  virtual bool serving() = 0;
  // The primary to send clients to (1-based), if one is known.
  virtual std::optional<int> primary() const = 0;
  // Appends and applies one write (primary only). The error not_primary
  // when this tracker is not the primary (any more); internal errors when
  // the state file failed, with nothing applied.
  virtual Result<Applied> write(const Write& w) = 0;
  // `release(true)` once everything applied up to now is committed, or
  // `release(false)` if this tracker stops being the primary first (what it
  // held may or may not survive: the client retries on the next primary).
  // Releases come in the order of the calls, maybe before this returns.
  virtual void after_commit(std::function<void(bool committed)> release) = 0;

  // The answer to `cluster`: this tracker's own view of the cluster.
  virtual Json::Object status() const = 0;
  // The fields a client's hello answer carries: role, primary, epoch.
  virtual Json::Object hello_fields() const = 0;
  // One frame from tracker `from`'s link; an error when it is not a
  // replication message (the link is then closed).
  virtual Status receive(int from, std::string_view frame) = 0;
  // Trackers in the cluster: a replication link names one of 1..count.
  virtual int count() const = 0;
  virtual int self() const = 0;
};

}  // namespace gs::tracker
