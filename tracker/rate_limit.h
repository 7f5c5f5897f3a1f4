// Login attempt limiting per user account. Pure: it is told the time and the
// outcome of each attempt and answers whether the next attempt may run.
//
// Rule: after `failures_before_delay` consecutive wrong passwords, the account
// refuses logins for `delay` after each further failure, so online guessing
// drops to one try per `delay` while the owner, after a few typos, waits once
// and goes on. A success clears the streak; so does `forget_after` without
// failures, so old typos do not count against a later day. The same per
// source address, over every account: address_limit.h.
//
// Soft state: each tracker counts the logins it serves (only the primary
// serves); nothing is replicated, and a new primary starts with no counts.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

#include "clock.h"

namespace gs::tracker {

class LoginLimiter {
 public:
  struct Params {
    int failures_before_delay = 5;
    Seconds delay{30};
    Seconds forget_after{3600};
  };

  explicit LoginLimiter(Params params) : params_(params) {}
  // Reloaded settings; the failures counted so far stay counted.
  void set_params(Params params) { params_ = params; }

  // How long the caller must still wait before trying `user` again, rounded
  // up to whole seconds; nullopt when an attempt may run now.
  std::optional<Seconds> blocked(const std::string& user, Instant now) const;
  void failure(const std::string& user, Instant now);
  void success(const std::string& user);

  // Streaks being tracked (for tests and to see that memory stays bounded).
  size_t tracked() const { return streaks_.size(); }

 private:
  struct Streak {
    int failures = 0;
    Instant last_failure{};
  };
  bool forgotten(const Streak& s, Instant now) const;
  void prune(Instant now);

  Params params_;
  std::unordered_map<std::string, Streak> streaks_;
  size_t prune_at_ = 1024;  // map size that triggers the next sweep
};

}  // namespace gs::tracker
