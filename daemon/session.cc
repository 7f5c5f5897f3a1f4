#include "session.h"

#include "control_request.h"
#include "log.h"

namespace gs::daemon {

Session::Session(State& state, TrackerApi& tracker, uint16_t peer_port)
    : state_(state), tracker_(tracker), peer_port_(peer_port) {
  if (const auto& s = state_.session()) {
    phase_ = Phase::active;
    user_ = s->user;
    token_ = s->token;
    log_info("session of '", user_, "' found in the state file; resuming it once a tracker is reachable");
  }
}

std::optional<std::string> Session::user() const {
  if (phase_ != Phase::active) return std::nullopt;
  return user_;
}

Error Session::not_logged_in() const {
  if (phase_ == Phase::logging_in) {
    return make_error("not_logged_in", "not logged in yet; the login as '" + user_ + "' is still in progress");
  }
  return make_error("not_logged_in", "not logged in; run 'gsctl login USER' first");
}

void Session::login(const std::string& user, const std::string& password, Done done) {
  if (phase_ == Phase::active) {
    done(make_error("already_logged_in", "already logged in as '" + user_ + "'; log out first"));
    return;
  }
  if (phase_ == Phase::logging_in) {
    done(make_error("already_logged_in", "a login as '" + user_ + "' is in progress"));
    return;
  }
  phase_ = Phase::logging_in;
  user_ = user;
  TrackerApi::Fields fields{{"user", user},
                            {"password", password},
                            {"seat", state_.seat()},
                            {"port", static_cast<int64_t>(peer_port_)}};
  tracker_.request("login", std::move(fields), [this, user, done = std::move(done)](Result<Json> r) {
    // Only login() leaves the none phase and nothing leaves logging_in but
    // this answer, so the phase is still ours here.
    if (!r) {
      phase_ = Phase::none;
      user_.clear();
      done(r.error());
      return;
    }
    const auto token = r->get_string("token");
    if (!token || !valid_token(*token)) {
      phase_ = Phase::none;
      user_.clear();
      done(make_error("tracker_unreachable", "the tracker's answer to the login has no valid token"));
      return;
    }
    phase_ = Phase::active;
    token_ = *token;
    heartbeat_in_flight_ = false;
    if (auto s = state_.save_session({user, *token}); !s) {
      // Still logged in for this run; only a restart would lose it.
      log_error("cannot save the session to ", state_.db_path(), ": ", s.error().message,
                "; it will not survive a restart");
    }
    log_info("logged in as '", user, "'");
    Json result = Json::object();
    result["user"] = user;
    done(std::move(result));
    notify(Event::ready);
  });
}

void Session::logout(Done done) {
  if (phase_ != Phase::active) {
    done(not_logged_in());
    return;
  }
  const std::string token = token_;
  forget("logged out '" + user_ + "'", LogLevel::info);
  tracker_.request("logout", {{"token", token}}, [done = std::move(done)](Result<Json> r) {
    if (!r && r.error().code == "tracker_unreachable") {
      done(make_error("tracker_unreachable", "logged out here, but no tracker could be told (" + r.error().message +
                                                 "); the session ends there when its time runs out"));
      return;
    }
    // Any other answer (an unknown token included) means the tracker no
    // longer has the session.
    done(null_result());
  });
}

void Session::on_link_up() {
  if (phase_ != Phase::active) return;
  const std::string token = token_;
  const std::string user = user_;
  TrackerApi::Fields fields{{"token", token}, {"seat", state_.seat()}, {"port", static_cast<int64_t>(peer_port_)}};
  tracker_.request(
      "resume", std::move(fields),
      [this, token, user](Result<Json> r) {
        if (r) {
          if (phase_ == Phase::active && token == token_) {
            log_info("session of '", user, "' resumed");
            notify(Event::ready);
          }
          return;
        }
        if (!on_tracker_error(token, r.error(), /*is_resume=*/true)) {
          // The next link will try again.
          log_warn("could not resume the session of '", user, "': ", r.error().message);
        }
      },
      TrackerApi::Priority::first);
}

void Session::on_heartbeat_timer() {
  // One at a time, and only over a live link: queued heartbeats would pile
  // up while the trackers are away, and the resume on reconnect does their job.
  if (phase_ != Phase::active || heartbeat_in_flight_ || !tracker_.link_ready()) return;
  heartbeat_in_flight_ = true;
  const std::string token = token_;
  tracker_.request("heartbeat", {{"token", token}}, [this, token](Result<Json> r) {
    heartbeat_in_flight_ = false;
    if (!r && !on_tracker_error(token, r.error())) {
      log_debug("heartbeat failed: ", r.error().message);
    }
  });
}

void Session::request(const std::string& op, TrackerApi::Fields fields, TrackerApi::Done done) {
  if (phase_ != Phase::active) return done(not_logged_in());
  const std::string token = token_;
  fields.insert(fields.begin(), std::pair<std::string, Json>("token", token));
  tracker_.request(op, std::move(fields), [this, token, done = std::move(done)](Result<Json> r) {
    if (!r && on_tracker_error(token, r.error())) {
      return done(make_error("not_logged_in", "the tracker ended this daemon's session: " + r.error().message));
    }
    done(std::move(r));
  });
}

bool Session::on_tracker_error(const std::string& token, const Error& error, bool is_resume) {
  const bool gone = error.code == "session_expired" || error.code == "not_logged_in" ||
                    (is_resume && error.code == "logged_in_elsewhere");
  if (!gone || phase_ != Phase::active || token != token_) return false;
  forget("the tracker ended the session of '" + user_ + "': " + error.message, LogLevel::warn);
  return true;
}

void Session::forget(const std::string& why, LogLevel level) {
  phase_ = Phase::none;
  user_.clear();
  token_.clear();
  log_at(level, why);
  if (auto s = state_.clear_session(); !s) {
    log_error("cannot remove the session from ", state_.db_path(), ": ", s.error().message);
  }
  notify(Event::ended);
}

void Session::add_observer(std::function<void(Event)> observer) { observers_.push_back(std::move(observer)); }

void Session::notify(Event event) {
  for (auto& o : observers_) o(event);
}

}  // namespace gs::daemon
