#include "tracker_service.h"

#include <exception>
#include <utility>

#include "crypto.h"
#include "log.h"
#include "names.h"

namespace gs::tracker {
namespace {

// The state file failed under us (disk full, I/O error). The details go to
// the log for the operator; the client gets words it can act on.
Error internal(const Error& e) {
  log_error("state file error: ", e.message);
  return make_error("internal_error", "the tracker could not use its state file; try again later");
}

std::string token_hash(const std::string& token) { return to_hex(sha256(token)); }

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// For logs: enough of a seat id to tell daemons apart.
std::string short_seat(const std::string& seat) { return seat.substr(0, 12); }

}  // namespace

Service::Service(Store& store, const Clock& clock, ServiceConfig config)
    : store_(store),
      clock_(clock),
      config_(config),
      sessions_(clock, config.session_ttl),
      limiter_(config.login_limit) {}

Json Service::handle(const Json& request) {
  Json id = nullptr;
  Answer answer = Json::Object{};
  try {
    if (!request.is_object()) {
      answer = bad_request("a request must be a JSON object");
    } else if (const Json* v = request.find("id"); !v) {
      answer = bad_request("missing field 'id'");
    } else if (!v->is_int()) {
      answer = bad_request("field 'id' must be an integer");
    } else {
      id = *v;
      const Fields fields(request);
      auto op = fields.string("op");
      answer = op ? dispatch(*op, fields) : Answer(op.error());
    }
  } catch (const std::exception& e) {
    // Nothing here should throw; if something does (say, out of memory), this
    // request fails and the tracker goes on serving everyone else.
    log_error("request failed: ", e.what());
    answer = make_error("internal_error", "the tracker failed to handle this request; try again later");
  }

  Json::Object out{{"id", std::move(id)}};
  if (answer) {
    out.emplace_back("ok", true);
    for (auto& field : *answer) out.push_back(std::move(field));
  } else {
    out.emplace_back("ok", false);
    out.emplace_back("error", answer.error().code);
    out.emplace_back("message", answer.error().message);
  }
  return Json(std::move(out));
}

Service::Answer Service::dispatch(std::string_view op, const Fields& f) {
  static constexpr std::pair<std::string_view, Handler> kOps[] = {
      {"create_user", &Service::create_user},       {"login", &Service::login},
      {"resume", &Service::resume},                 {"logout", &Service::logout},
      {"heartbeat", &Service::heartbeat},           {"create_group", &Service::create_group},
      {"join_group", &Service::join_group},         {"leave_group", &Service::leave_group},
      {"list_requests", &Service::list_requests},   {"accept_request", &Service::accept_request},
      {"reject_request", &Service::reject_request}, {"list_groups", &Service::list_groups},
  };
  for (const auto& [name, handler] : kOps) {
    if (name == op) return (this->*handler)(f);
  }
  // Echoed only when it is plain name characters (see request_fields.h).
  if (valid_name(op)) return bad_request("unknown op '" + std::string(op) + "'");
  return bad_request("unknown op");
}

Error Service::logged_in_elsewhere(const std::string& user) const {
  return make_error("logged_in_elsewhere",
                    "user " + quoted(user) + " is logged in on another daemon; log out there first (or wait up to " +
                        std::to_string(sessions_.ttl().count()) + " s after it stops)");
}

Result<std::string> Service::authenticate(const std::string& token) {
  const std::string hash = token_hash(token);
  auto session = store_.session_by_token(hash);
  if (!session) return internal(session.error());
  if (!*session) {
    return make_error("not_logged_in",
                      "not logged in: this session has ended (logged out, or replaced by a later login)");
  }
  if (!sessions_.live(hash)) {
    return make_error("session_expired", "your session expired (the tracker heard nothing from your daemon for over " +
                                             std::to_string(sessions_.ttl().count()) + " s); resume it or log in again");
  }
  sessions_.touch(hash);
  return (*session)->user;
}

Result<std::string> Service::owner_of(const std::string& group) {
  auto owner = store_.group_owner(group);
  if (!owner) return internal(owner.error());
  if (!*owner) return make_error("no_such_group", "no such group " + quoted(group));
  return **owner;
}

Result<std::string> Service::owner_only(const std::string& group, const std::string& user) {
  auto owner = owner_of(group);
  if (!owner) return owner;
  if (*owner != user) {
    return make_error("not_owner", "only the owner of " + quoted(group) + " can do that (the owner is " +
                                       quoted(*owner) + ")");
  }
  return owner;
}

Service::Answer Service::create_user(const Fields& f) {
  auto user = f.name("user", "user");
  if (!user) return user.error();
  auto password = f.password("password");
  if (!password) return password.error();

  const Error exists = make_error("user_exists", "user " + quoted(*user) + " already exists");
  // Checked first so a taken name does not cost a key derivation.
  auto known = store_.password_hash(*user);
  if (!known) return internal(known.error());
  if (*known) return exists;

  auto hash = hash_password(*password, config_.kdf);
  if (!hash) return internal(hash.error());
  auto added = store_.add_user(*user, *hash, clock_.unix_seconds());
  if (!added) return internal(added.error());
  if (!*added) return exists;
  log_info("created user ", quoted(*user));
  return Json::Object{};
}

Service::Answer Service::login(const Fields& f) {
  auto user = f.name("user", "user");
  if (!user) return user.error();
  auto password = f.password("password");
  if (!password) return password.error();
  auto seat = f.seat("seat");
  if (!seat) return seat.error();

  // Before the password check, so a blocked guesser does not even cost us
  // a key derivation.
  if (auto wait = limiter_.blocked(*user, clock_.now())) {
    return make_error("rate_limited", "too many wrong passwords for user " + quoted(*user) + "; try again in " +
                                          std::to_string(wait->count()) + " s");
  }
  auto stored = store_.password_hash(*user);
  if (!stored) return internal(stored.error());
  if (!*stored) return make_error("unknown_user", "no such user " + quoted(*user));
  if (!verify_password(*password, **stored)) {
    limiter_.failure(*user, clock_.now());
    log_info("wrong password for user ", quoted(*user));
    return make_error("wrong_password", "wrong password for user " + quoted(*user));
  }
  limiter_.success(*user);

  // Only after the password: whether someone is logged in is not for strangers.
  auto current = store_.session_of_user(*user);
  if (!current) return internal(current.error());
  if (*current && (*current)->seat != *seat && sessions_.live((*current)->token_hash)) {
    return logged_in_elsewhere(*user);
  }

  const std::string token = to_hex(random_bytes(32));
  const SessionRecord session{token_hash(token), *user, *seat, clock_.unix_seconds()};
  if (auto s = store_.replace_session(session); !s) return internal(s.error());
  if (*current) sessions_.forget((*current)->token_hash);
  sessions_.touch(session.token_hash);
  log_info("user ", quoted(*user), " logged in (seat ", short_seat(*seat), ")");
  return Json::Object{{"token", token}};
}

Service::Answer Service::resume(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto seat = f.seat("seat");
  if (!seat) return seat.error();

  const std::string hash = token_hash(*token);
  auto session = store_.session_by_token(hash);
  if (!session) return internal(session.error());
  if (!*session) {
    return make_error("session_expired",
                      "your session has ended (logged out, or replaced by a later login); log in again");
  }
  const SessionRecord& s = **session;
  if (s.seat != *seat) {
    // The token was issued to another daemon (a copied state directory?).
    if (sessions_.live(hash)) return logged_in_elsewhere(s.user);
    return make_error("session_expired", "this session belongs to another daemon; log in again");
  }
  // A session that went quiet past the TTL revives here: nobody replaced it.
  sessions_.touch(hash);
  log_info("user ", quoted(s.user), " resumed its session (seat ", short_seat(*seat), ")");
  return Json::Object{{"user", s.user}};
}

Service::Answer Service::logout(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  const std::string hash = token_hash(*token);
  auto session = store_.session_by_token(hash);
  if (!session) return internal(session.error());
  if (!*session) return Json::Object{};  // already over: logging out is done
  if (auto s = store_.delete_session(hash); !s) return internal(s.error());
  sessions_.forget(hash);
  log_info("user ", quoted((*session)->user), " logged out");
  return Json::Object{};
}

Service::Answer Service::heartbeat(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto user = authenticate(*token);
  if (!user) return user.error();
  return Json::Object{};
}

Service::Answer Service::create_group(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto user = authenticate(*token);
  if (!user) return user.error();

  auto added = store_.add_group(*group, *user, clock_.unix_seconds());
  if (!added) return internal(added.error());
  if (!*added) return make_error("group_exists", "group " + quoted(*group) + " already exists");
  log_info("user ", quoted(*user), " created group ", quoted(*group));
  return Json::Object{};
}

Service::Answer Service::join_group(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto user = authenticate(*token);
  if (!user) return user.error();

  auto owner = owner_of(*group);
  if (!owner) return owner.error();
  auto member = store_.is_member(*group, *user);
  if (!member) return internal(member.error());
  if (*member) return make_error("already_member", "you are already a member of " + quoted(*group));
  auto pending = store_.has_request(*group, *user);
  if (!pending) return internal(pending.error());
  if (*pending) {
    return make_error("request_pending", "your request to join " + quoted(*group) + " is already pending");
  }
  if (auto s = store_.add_request(*group, *user, clock_.unix_seconds()); !s) return internal(s.error());
  log_info("user ", quoted(*user), " asked to join group ", quoted(*group));
  return Json::Object{};
}

Service::Answer Service::leave_group(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto user = authenticate(*token);
  if (!user) return user.error();

  auto owner = owner_of(*group);
  if (!owner) return owner.error();
  auto member = store_.is_member(*group, *user);
  if (!member) return internal(member.error());
  if (!*member) return make_error("not_member", "you are not a member of " + quoted(*group));
  auto outcome = store_.leave_group(*group, *user);
  if (!outcome) return internal(outcome.error());

  if (outcome->deleted) {
    log_info("user ", quoted(*user), " left group ", quoted(*group), ", its last member: group deleted");
  } else if (outcome->new_owner) {
    log_info("owner ", quoted(*user), " left group ", quoted(*group), "; ", quoted(*outcome->new_owner),
             " owns it now");
  } else {
    log_info("user ", quoted(*user), " left group ", quoted(*group));
  }
  return Json::Object{{"deleted", outcome->deleted},
                      {"new_owner", outcome->new_owner ? Json(*outcome->new_owner) : Json(nullptr)}};
}

Service::Answer Service::list_requests(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto user = authenticate(*token);
  if (!user) return user.error();

  if (auto owner = owner_only(*group, *user); !owner) return owner.error();
  auto users = store_.requests(*group);
  if (!users) return internal(users.error());
  Json::Array list;
  for (auto& u : *users) list.push_back(Json::Object{{"user", std::move(u)}});
  return Json::Object{{"requests", std::move(list)}};
}

Service::Answer Service::accept_request(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto requester = f.name("user", "user");
  if (!requester) return requester.error();
  auto user = authenticate(*token);
  if (!user) return user.error();

  if (auto owner = owner_only(*group, *user); !owner) return owner.error();
  auto accepted = store_.accept_request(*group, *requester, clock_.unix_seconds());
  if (!accepted) return internal(accepted.error());
  if (!*accepted) {
    return make_error("no_such_request",
                      "no pending request from " + quoted(*requester) + " for " + quoted(*group));
  }
  log_info("user ", quoted(*requester), " joined group ", quoted(*group), " (accepted by ", quoted(*user), ")");
  return Json::Object{};
}

Service::Answer Service::reject_request(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto requester = f.name("user", "user");
  if (!requester) return requester.error();
  auto user = authenticate(*token);
  if (!user) return user.error();

  if (auto owner = owner_only(*group, *user); !owner) return owner.error();
  auto rejected = store_.reject_request(*group, *requester);
  if (!rejected) return internal(rejected.error());
  if (!*rejected) {
    return make_error("no_such_request",
                      "no pending request from " + quoted(*requester) + " for " + quoted(*group));
  }
  log_info("request of ", quoted(*requester), " to join group ", quoted(*group), " rejected by ", quoted(*user));
  return Json::Object{};
}

Service::Answer Service::list_groups(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto user = authenticate(*token);
  if (!user) return user.error();

  auto groups = store_.list_groups();
  if (!groups) return internal(groups.error());
  Json::Array list;
  for (auto& g : *groups) {
    list.push_back(Json::Object{{"group", std::move(g.group)}, {"owner", std::move(g.owner)}, {"members", g.members}});
  }
  return Json::Object{{"groups", std::move(list)}};
}

}  // namespace gs::tracker
