// Login attempt limiting per source address, beside the per-account rule of
// rate_limit.h. That rule stops one account being guessed fast; it does
// nothing against one address trying a few passwords on each of many
// accounts (password spraying). This one counts the failed logins from one
// address (wrong passwords and unknown users), whatever the account. Pure:
// it is told the time and each failure and answers whether the next attempt
// may run.
//
// Rule: the shape of the account's rule, with its own numbers: after
// `failures_before_delay` failures the address gets one more try per
// `delay`. Unlike an account's streak, a right password does not clear the
// count (a guesser with an account of its own would log into it between
// guesses to wipe it); instead the count drains by itself, one failure
// forgiven per `delay`. So over any span of time T an address has at most
// failures_before_delay + T / delay logins fail, however many connections it
// uses: failures of logins that were checked at once all count, and the
// wait grows with them. (A cell-rate algorithm: each address keeps one
// instant, when its count will have drained to zero.)
//
// The address is the gsd daemon's host, not a person: every user of a host
// (one gsd each) or of a NAT shares one count. Hence the larger threshold
// (50 by default, against 5 per account) and the drain: the occasional
// typos of many users, fewer than one per `delay` on average, never add up
// to a wait. What it cannot tell apart: someone on that address who guesses
// on purpose keeps the count full, and everyone there then waits up to
// `delay` for each login (right ones included, as for an account). An
// operator with many users behind one address raises the threshold, or sets
// delay 0 to turn the rule off and keep only the per-account one.
//
// IPv6 addresses count per /64 (address_key): a host commonly has a whole
// /64 and could take a fresh address for each guess.
//
// Memory: at most `max_tracked` addresses. A drained address is dropped;
// at the cap, the addresses nearest to drained go first, as they stand for
// the fewest failures, so a flood of new addresses mostly pushes out itself.
//
// Soft state, like the per-account counts: each tracker keeps its own, for
// the logins it serves (only the primary serves); a new primary starts with
// none, and nothing is replicated or kept across a restart.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "clock.h"

namespace gs::tracker {

// What failures are counted under: the address itself for IPv4 (and for
// anything that is not a numeric address), its /64 for IPv6
// ("2001:db8:1:2::/64"). "" stays "".
std::string address_key(std::string_view host);

class AddressLimiter {
 public:
  struct Params {
    int failures_before_delay = 50;
    Seconds delay{30};  // 0: the rule is off
    size_t max_tracked = 10000;
  };

  explicit AddressLimiter(Params params) : params_(params) {}
  // Reloaded settings, but for max_tracked (sized at startup); the counts
  // so far stay.
  void set_params(Params params) {
    params.max_tracked = params_.max_tracked;
    params_ = params;
  }

  // How long logins from `host` must still wait, rounded up to whole
  // seconds; nullopt when one may run now. An empty host (not known) is
  // never held back.
  std::optional<Seconds> blocked(const std::string& host, Instant now) const;
  // A login from `host` failed (wrong password or unknown user).
  void failure(const std::string& host, Instant now);

  // Addresses being tracked (for tests and to see that memory stays bounded).
  size_t tracked() const { return drained_at_.size(); }

 private:
  // Makes room for one more address: drops drained ones, then, if still at
  // the cap, those nearest to drained, down to 7/8 of the cap so that the
  // next insertions do not each pay for a sweep.
  void make_room(Instant now);

  Params params_;
  // By address_key: when the address's count will have drained to zero.
  std::unordered_map<std::string, Instant> drained_at_;
};

}  // namespace gs::tracker
