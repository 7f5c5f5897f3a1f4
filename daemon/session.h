// The one user session of this daemon (one seat, one user at a time).
//
// none --login--> logging_in --token--> active --logout / tracker says gone--> none
//
// The token is kept in the state file so that a restarted daemon carries on
// without a new login: on every new tracker link (at start, and after each
// reconnect or failover) it sends `resume` ahead of anything else. While
// active it sends a heartbeat every heartbeat_seconds, which keeps the
// session alive on the trackers. When a tracker says the session is gone
// (session_expired, or a later login replaced it), the daemon forgets it
// with a log line; the next command asks the user to log in again.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "json.h"
#include "log.h"
#include "result.h"
#include "state.h"
#include "tracker_api.h"

namespace gs::daemon {

class Session {
 public:
  enum class Phase { none, logging_in, active };
  using Done = std::function<void(Result<Json>)>;

  // Picks up a session stored by an earlier run.
  Session(State& state, TrackerApi& tracker, uint16_t peer_port);

  Phase phase() const { return phase_; }
  // The logged-in user, only when active.
  std::optional<std::string> user() const;
  // Valid only when active.
  const std::string& token() const { return token_; }

  // Result {user}, or already_logged_in, or the tracker's refusal.
  void login(const std::string& user, const std::string& password, Done done);
  // Forgets the session here at once, then tells the tracker. Result null;
  // tracker_unreachable (saying the local logout happened) when no tracker
  // could be told.
  void logout(Done done);

  // A new tracker link is up: resume the session there first.
  void on_link_up();
  // The heartbeat timer fired.
  void on_heartbeat_timer();
  // A tracker answered a request made with `token` with an error. Forgets the
  // session if the error says it is gone and it is still the current one;
  // returns true then.
  bool on_tracker_error(const std::string& token, const Error& error, bool is_resume = false);

  // The error for commands that need a session when there is none.
  Error not_logged_in() const;

  // The one way to call the tracker on behalf of the session: not_logged_in
  // at once when there is none; the token goes first; an answer saying the
  // session is gone ends it here (Event::ended) and reaches `done` as
  // not_logged_in. (Where ticket renewal belongs; following the primary of
  // the cluster, and resending after a redirect or a lost link, is the
  // tracker link's business, below this.)
  // `done` runs unless the tracker link is stopped first; a caller that may
  // be destroyed before the answer guards its own callback.
  void request(const std::string& op, TrackerApi::Fields fields, TrackerApi::Done done);

  // What shares and downloads follow: `ready` when the session is usable on a
  // tracker link (after a login, and after each successful resume, so shares
  // are announced again after a reconnect or failover); `ended` when it is
  // gone (logout, expiry, replaced), so serving and downloading pause.
  enum class Event { ready, ended };
  void add_observer(std::function<void(Event)> observer);

 private:
  void forget(const std::string& why, LogLevel level);
  void notify(Event event);

  State& state_;
  TrackerApi& tracker_;
  uint16_t peer_port_;
  Phase phase_ = Phase::none;
  std::string user_;
  std::string token_;
  bool heartbeat_in_flight_ = false;
  std::vector<std::function<void(Event)>> observers_;
};

}  // namespace gs::daemon
