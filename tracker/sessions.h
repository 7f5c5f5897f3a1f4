// Session liveness: which sessions have a daemon behind them right now.
//
// The session records themselves (token hash, user, seat) are durable and live
// in the store; liveness is not worth a disk write per heartbeat, so it is
// kept here, in memory, as the last time each session's daemon said anything.
// A session is live while that was within the TTL.
//
// After a tracker (re)start nothing has been heard from anyone yet, so every
// session counts as live for one TTL (the grace period): daemons reconnect and
// carry on, and nobody can take over a seat whose daemon is merely
// reconnecting.
#pragma once

#include <string>
#include <unordered_map>

#include "clock.h"

namespace gs::tracker {

class Sessions {
 public:
  // The grace period starts now.
  Sessions(const Clock& clock, Seconds ttl);

  // Forgets every session's last word and starts a new grace period now: a
  // tracker that just became the primary heard no heartbeat as a backup.
  void start_grace();
  // The session's daemon said something now.
  void touch(const std::string& token_hash);
  // The session ended (logout, replaced); its entry goes.
  void forget(const std::string& token_hash);
  bool live(const std::string& token_hash) const;
  // The same as of `now`: for callers that test many sessions at one time.
  bool live(const std::string& token_hash, Instant now) const;

  Seconds ttl() const { return ttl_; }
  // tracker.session_ttl_seconds, reloaded. A lowered TTL ends no session
  // that was live under the old one: for one old TTL from now the longer of
  // the two applies, time enough for every daemon to be heard again.
  void set_ttl(Seconds ttl);
  size_t tracked() const { return last_seen_.size(); }

 private:
  const Clock& clock_;
  Seconds ttl_;
  Instant grace_until_;
  Seconds relaxed_ttl_{0};   // the old, longer TTL after a lowering ...
  Instant relaxed_until_{};  // ... until then
  std::unordered_map<std::string, Instant> last_seen_;
};

}  // namespace gs::tracker
