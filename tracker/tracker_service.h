// The tracker's request handlers: one JSON request in, one JSON answer out,
// for every op of the tracker protocol (docs/protocol.md). No sockets here;
// the server feeds it frames and the unit tests feed it objects, with a fake
// clock to move session time.
//
// Writes all go through Store, one Store call per client write, after every
// check has passed. When trackers replicate, this is where a backup will
// refuse writes and the primary will ship each Store write to its backups
// before answering (DESIGN.md, "Trackers").
#pragma once

#include <string>
#include <string_view>

#include "clock.h"
#include "json.h"
#include "password.h"
#include "rate_limit.h"
#include "request_fields.h"
#include "result.h"
#include "sessions.h"
#include "store.h"

namespace gs::tracker {

struct ServiceConfig {
  Seconds session_ttl{20};
  KdfParams kdf;  // for new password hashes; stored hashes carry their own
  LoginLimiter::Params login_limit;
};

class Service {
 public:
  // The session grace period (sessions.h) starts now.
  Service(Store& store, const Clock& clock, ServiceConfig config);

  // Answers one request. Never throws: a malformed request gets bad_request,
  // a failing disk gets internal_error. The answer carries the request's id
  // (null when the request had no usable id).
  Json handle(const Json& request);

 private:
  using Fields = RequestFields;
  using Answer = Result<Json::Object>;
  using Handler = Answer (Service::*)(const Fields&);

  Answer dispatch(std::string_view op, const Fields& f);

  Answer create_user(const Fields& f);
  Answer login(const Fields& f);
  Answer resume(const Fields& f);
  Answer logout(const Fields& f);
  Answer heartbeat(const Fields& f);
  Answer create_group(const Fields& f);
  Answer join_group(const Fields& f);
  Answer leave_group(const Fields& f);
  Answer list_requests(const Fields& f);
  Answer accept_request(const Fields& f);
  Answer reject_request(const Fields& f);
  Answer list_groups(const Fields& f);

  // The user behind a live session token; not_logged_in or session_expired
  // otherwise. Counts as word from the session's daemon.
  Result<std::string> authenticate(const std::string& token);
  // The owner of an existing group, or no_such_group.
  Result<std::string> owner_of(const std::string& group);
  Result<std::string> owner_only(const std::string& group, const std::string& user);
  Error logged_in_elsewhere(const std::string& user) const;

  Store& store_;
  const Clock& clock_;
  ServiceConfig config_;
  Sessions sessions_;
  LoginLimiter limiter_;
};

}  // namespace gs::tracker
