// One tracker's part in its cluster: the replication state machine
// (replica.h) run on the tracker's loop. A timer ticks it, the Server hands
// it the other trackers' messages, TrackerLinks carries its own, and the
// state file (SqliteReplicaStorage) keeps the log and the view with the
// tracker's tables. To the Service it is the Replication: whether to serve,
// where writes go, and when an answer may leave (replication.h).
//
// Every role change and other event of the Replica is logged in one line
// ("cluster: primary of e4.0 [1 2 3] at last 118/2: ...").
//
// A state file that fails under a backup (a disk error while applying what
// the primary sent) leaves the replica in a state it cannot trust: the
// cluster then stops the loop, and the tracker exits with a failure, to be
// restarted from its durable state (crash-stop). On the primary the same
// failure fails only the client's write, which was rolled back.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include <event2/event.h>

#include "endpoint.h"
#include "replica.h"
#include "replica_store.h"
#include "replication.h"
#include "tracker_links.h"

namespace gs::tracker {

class Cluster final : public Replication {
 public:
  struct Config {
    int self = 1;                    // 1-based
    std::vector<Endpoint> trackers;  // the whole trackers file
    Replica::Params params;
    bool force_primary = false;      // --force-primary (docs/replication.md rule 9)
    TrackerLinks::Params links;
  };

  Cluster(event_base* base, SqliteReplicaStorage& storage, Config config);
  ~Cluster() override;
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Called each time this tracker becomes the primary.
  void on_primary(std::function<void()> f) { on_primary_ = std::move(f); }
  // Starts ticking and connecting to the others.
  void start();
  // Stops ticking, fails the answers it holds, closes its links.
  void stop();
  // Whether a state-file failure stopped it (the tracker must exit).
  bool failed() const { return failed_; }
  // Where this tracker stands now (the STATUS= line, tracker/status_line.h).
  Role role() const { return replica_.role(); }
  const View& view() const { return replica_.view(); }

  // Replication
  bool serving() override;
  std::optional<int> primary() const override;
  Result<Applied> write(const Write& w) override;
  void after_commit(std::function<void(bool committed)> release) override;
  Json::Object status() const override;
  Json::Object hello_fields() const override;
  Status receive(int from, std::string_view frame) override;
  int count() const override { return static_cast<int>(config_.trackers.size()); }
  int self() const override { return config_.self; }

 private:
  static void on_timer(evutil_socket_t, short, void* self);
  static void on_flush(evutil_socket_t, short, void* self);
  // Runs after_call() on the next turn of the loop: for calls into the
  // Replica made inside the Service's handler, where releasing answers (and
  // so serving the requests queued behind them) would re-enter it.
  void flush_soon();
  Instant called(Instant now) { return last_call_ = now; }
  // After every call into the Replica: its messages go out, its events to
  // the log, held answers are settled, a new role is acted on.
  void after_call();
  void settle();
  // A state-file failure on a path that cannot refuse (see above).
  void fail(const std::string& what);

  event_base* base_;
  SqliteReplicaStorage& storage_;
  const Config config_;
  Replica replica_;
  TrackerLinks links_;
  event* timer_ = nullptr;
  event* flush_ = nullptr;
  Instant last_call_{};  // of the last call into the Replica
  struct Held {
    uint64_t seq = 0;  // the log's last when the answer was made
    std::function<void(bool)> release;
  };
  std::deque<Held> held_;  // in seq order
  Role role_ = Role::recovering;
  std::function<void()> on_primary_;
  bool failed_ = false;
};

}  // namespace gs::tracker
