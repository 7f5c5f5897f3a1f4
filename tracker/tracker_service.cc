#include "tracker_service.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "crypto.h"
#include "file_meta.h"
#include "log.h"
#include "ticket.h"
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

// Messages end up on terminals: control characters (which names no longer
// hold, but a name stored before that rule may) are shown as \xNN.
std::string quoted_file(const std::string& name) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (const char c : name) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Json::Object{{key, value}, ...} copies every value out of its initializer
// list. Answers that carry a peer list or piece hashes, the bulk of what a
// look-up sends, are built with object_of(key, value, ...), which moves.
void add_fields(Json::Object&) {}

template <class Value, class... Rest>
void add_fields(Json::Object& object, const char* key, Value&& value, Rest&&... rest) {
  object.emplace_back(key, std::forward<Value>(value));
  add_fields(object, std::forward<Rest>(rest)...);
}

template <class... KeysAndValues>
Json::Object object_of(KeysAndValues&&... fields) {
  static_assert(sizeof...(KeysAndValues) % 2 == 0, "object_of takes keys and values in pairs");
  Json::Object object;
  object.reserve(sizeof...(KeysAndValues) / 2);
  add_fields(object, std::forward<KeysAndValues>(fields)...);
  return object;
}

Error no_such_group(const std::string& group) {
  return make_error("no_such_group", "no such group " + quoted(group));
}

// For logs: enough of a seat id to tell daemons apart.
std::string short_seat(const std::string& seat) { return seat.substr(0, 12); }

}  // namespace

Service::Service(Store& store, const Clock& clock, ServiceConfig config, WorkerPool* pool,
                 Replication* cluster)
    : store_(store),
      clock_(clock),
      pool_(pool),
      cluster_(cluster),
      config_(config),
      sessions_(clock, config.session_ttl),
      limiter_(config.login_limit),
      address_limiter_(config.address_limit),
      next_prune_(clock.now() + config.session_ttl) {}

void Service::set_config(const ServiceConfig& config) {
  config_ = config;
  sessions_.set_ttl(config.session_ttl);
  limiter_.set_params(config.login_limit);
  address_limiter_.set_params(config.address_limit);
}

void Service::became_primary() {
  sessions_.start_grace();
  peers_ = LivePeers();
  next_prune_ = clock_.now() + sessions_.ttl();
  if (cluster_key()) return;
  // The first primary of the cluster makes its signing key. Not a client's
  // write: no request id.
  const std::string rid = std::exchange(rid_, std::string());
  const auto key = Identity::ephemeral();
  auto applied = write(SetClusterKey{to_hex(key->seed()), clock_.unix_seconds()});
  rid_ = rid;
  if (!applied) {
    log_warn("cannot keep the cluster's signing key yet (", applied.error().message, "); trying again as primary");
  } else if (applied->done) {
    log_info("made the cluster's signing key ", key->text());
  }
}

std::string Service::ticket_for(const std::string& user, const std::string& group, const std::string& file_id) {
  const Identity* key = cluster_key();
  auto id = from_hex(file_id);
  if (!key || peer_key_.size() != 32 || !id || id->size() != 32) return {};
  Ticket t;
  t.user = user;
  t.group = group;
  std::copy(id->begin(), id->end(), t.file_id.begin());
  t.holder_key = peer_key_;
  t.expires = clock_.unix_seconds() + config_.ticket_ttl.count();
  return to_hex(issue_ticket(t, *key));
}

const Identity* Service::cluster_key() {
  if (cluster_key_) return cluster_key_.get();
  auto seed = store_.cluster_key_seed();
  if (!seed) {
    log_warn("cannot read the cluster's signing key: ", seed.error().message);
    return nullptr;
  }
  if (*seed) cluster_key_ = Identity::from_seed(**seed);
  return cluster_key_.get();
}

bool Service::handle(const Json& request, const RequestContext& context, Reply reply) {
  PeerSplice splice;
  splice_ = &splice;
  Json id = nullptr;
  Answer answer = Json::Object{};
  bool deferred = false;
  try {
    peer_host_ = context.peer_host;
    peer_key_ = context.peer_key;
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
      auto rid = fields.optional_request_id("rid");
      if (op && *op == "cluster" && cluster_) {
        // Every tracker answers this one, primary or not, at once: it is
        // how an operator sees a cluster that has no primary.
        splice_ = nullptr;
        Json::Object status = cluster_->status();
        reply(answer_json(id, std::move(status)).dump());
        return true;
      }
      if (cluster_ && !cluster_->serving()) {
        splice_ = nullptr;
        reply(not_primary(id).dump());
        return true;
      }
      maybe_prune();
      if (!op) {
        answer = op.error();
      } else if (!rid) {
        answer = rid.error();
      } else if (const AsyncHandler slow = slow_handler(*op)) {
        rid_ = std::move(*rid);
        (this->*slow)(fields, [this, reply, id](Answer a) {
          when_committed(id, answer_json(id, std::move(a)).dump(), reply);
        });
        deferred = true;
      } else {
        rid_ = std::move(*rid);
        answer = dispatch(*op, fields);
      }
    }
  } catch (const std::exception& e) {
    // Nothing here should throw; if something does (say, out of memory), this
    // request fails and the tracker goes on serving everyone else.
    log_error("request failed: ", e.what());
    answer =
        make_error("internal_error", "the tracker failed to handle this request; try again later");
  }
  splice_ = nullptr;
  if (deferred) return false;
  when_committed(id, with_peers(answer_json(id, std::move(answer)), splice), reply);
  return true;
}

void Service::when_committed(Json id, std::string text, const Reply& reply) {
  if (!cluster_) return reply(std::move(text));
  cluster_->after_commit(
      [this, id = std::move(id), text = std::move(text), reply](bool committed) mutable {
        reply(committed ? std::move(text) : not_primary(std::move(id)).dump());
      });
}

Json Service::not_primary(Json id) const {
  const std::optional<int> primary = cluster_ ? cluster_->primary() : std::nullopt;
  const std::string where =
      primary ? "tracker " + std::to_string(*primary) + " is" : "no primary is known yet; another may be";
  return Json(Json::Object{
      {"id", std::move(id)},
      {"ok", false},
      {"error", "not_primary"},
      {"primary", primary ? Json(int64_t{*primary}) : Json(nullptr)},
      {"message", "this tracker is not the cluster's primary; " + where + " (ask there)"}});
}

Json Service::answer_json(Json id, Answer answer) const {
  if (!answer && answer.error().code == "not_primary") return not_primary(std::move(id));
  Json::Object out;
  out.reserve(answer ? 2 + answer->size() : 4);
  out.emplace_back("id", std::move(id));
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

std::string Service::with_peers(const Json& answer, const PeerSplice& splice) {
  std::string text = answer.dump();
  if (!splice.used || answer.get_bool("ok") != true) return text;
  constexpr std::string_view kEmptyPeersLast = "\"peers\":[]}";
  if (!text.ends_with(kEmptyPeersLast)) {
    log_error("file_info answer does not end with its peer list; peers left out");
    return text;
  }
  size_t size = text.size();
  for (const std::string* entry : splice.entries) size += entry->size() + 1;
  text.reserve(size);
  text.resize(text.size() - 2);  // "]}"
  for (size_t i = 0; i < splice.entries.size(); ++i) {
    if (i > 0) text += ',';
    text += *splice.entries[i];
  }
  text += "]}";
  return text;
}

std::string Service::handle_to_text(const Json& request, const RequestContext& context) {
  std::optional<std::string> text;
  handle(request, context, [&text](std::string t) { text = std::move(t); });
  if (!text) throw std::logic_error("handle_to_text on a Service whose answers come later");
  return std::move(*text);
}

Json Service::handle(const Json& request, const RequestContext& context) {
  // The text as the server sends it, parsed back: what a client sees.
  return Json::parse(handle_to_text(request, context)).value();
}

Service::AsyncHandler Service::slow_handler(std::string_view op) {
  if (op == "create_user") return &Service::create_user;
  if (op == "login") return &Service::login;
  return nullptr;
}

void Service::off_loop(std::function<void()> work, std::function<void()> done) {
  if (!pool_) {
    work();
    done();
    return;
  }
  pool_->post(std::move(work), std::move(done));
}

Service::Answer Service::dispatch(std::string_view op, const Fields& f) {
  static constexpr std::pair<std::string_view, Handler> kOps[] = {
      {"resume", &Service::resume},
      {"logout", &Service::logout},
      {"heartbeat", &Service::heartbeat},
      {"create_group", &Service::create_group},
      {"join_group", &Service::join_group},
      {"leave_group", &Service::leave_group},
      {"list_requests", &Service::list_requests},
      {"accept_request", &Service::accept_request},
      {"reject_request", &Service::reject_request},
      {"list_groups", &Service::list_groups},
      {"share_file", &Service::share_file},
      {"list_files", &Service::list_files},
      {"file_info", &Service::file_info},
      {"announce", &Service::announce},
      {"stop_share", &Service::stop_share},
  };
  for (const auto& [name, handler] : kOps) {
    if (name == op) return (this->*handler)(f);
  }
  // Echoed only when it is plain name characters (see request_fields.h).
  if (valid_name(op)) return bad_request("unknown op '" + std::string(op) + "'");
  return bad_request("unknown op");
}

Result<Applied> Service::write(WriteOp op) {
  if (cluster_) return cluster_->write(Write{std::move(op), rid_});
  auto applied = store_.apply(Write{std::move(op), rid_});
  if (!applied) return internal(applied.error());
  return applied;
}

Result<std::optional<Applied>> Service::kept_outcome() {
  if (rid_.empty()) return std::optional<Applied>();
  auto kept = store_.outcome_of(rid_);
  if (!kept) return internal(kept.error());
  return kept;
}

Error Service::logged_in_elsewhere(const std::string& user) const {
  return make_error("logged_in_elsewhere",
                    "user " + quoted(user) +
                        " is logged in on another daemon; log out there first (or wait up to " +
                        std::to_string(sessions_.ttl().count()) + " s after it stops)");
}

Result<std::string> Service::authenticate(const std::string& token) {
  const std::string hash = token_hash(token);
  auto session = store_.session_by_token(hash);
  if (!session) return internal(session.error());
  if (!*session) {
    return make_error(
        "not_logged_in",
        "not logged in: this session has ended (logged out, or replaced by a later login)");
  }
  if (!sessions_.live(hash)) {
    session_ended(hash);
    return make_error("session_expired",
                      "your session expired (the tracker heard nothing from your daemon for over " +
                          std::to_string(sessions_.ttl().count()) +
                          " s); resume it or log in again");
  }
  sessions_.touch(hash);
  return (*session)->user;
}

LivePeers::IsLive Service::is_live() const {
  // One clock reading for the whole walk over a peer set.
  return [this, now = clock_.now()](const std::string& hash) { return sessions_.live(hash, now); };
}

void Service::session_ended(const std::string& token_hash) { peers_.end_session(token_hash); }

void Service::maybe_prune() {
  const Instant now = clock_.now();
  if (now < next_prune_) return;
  peers_.prune(is_live());
  next_prune_ = now + sessions_.ttl();
}

Result<std::string> Service::owner_of(const std::string& group) {
  auto owner = store_.group_owner(group);
  if (!owner) return internal(owner.error());
  if (!*owner) return no_such_group(group);
  return **owner;
}

Result<std::string> Service::owner_only(const std::string& group, const std::string& user) {
  auto owner = owner_of(group);
  if (!owner) return owner;
  if (*owner != user) {
    return make_error("not_owner", "only the owner of " + quoted(group) +
                                       " can do that (the owner is " + quoted(*owner) + ")");
  }
  return owner;
}

Status Service::member_only(const std::string& group, const std::string& user) {
  auto membership = store_.membership(group, user);
  if (!membership) return internal(membership.error());
  if (!*membership) return no_such_group(group);
  if (!(*membership)->member) {
    return make_error("not_member", "you are not a member of " + quoted(group));
  }
  return Ok{};
}

void Service::create_user(const Fields& f, Then then) {
  auto user = f.name("user", "user");
  if (!user) return then(user.error());
  auto password = f.password("password");
  if (!password) return then(password.error());

  const auto done = [name = *user](const Applied& added) -> Answer {
    if (!added.done) return make_error("user_exists", "user " + quoted(name) + " already exists");
    log_info("created user ", quoted(name));
    return Json::Object{};
  };
  auto kept = kept_outcome();
  if (!kept) return then(kept.error());
  if (*kept) return then(done(**kept));
  // Checked first so a taken name does not cost a key derivation.
  auto known = store_.password_hash(*user);
  if (!known) return then(internal(known.error()));
  if (*known) return then(done(Applied::done_if(false)));

  // The key derivation is slow on purpose: on a worker, not the loop.
  auto hash = std::make_shared<Result<std::string>>(std::string());
  off_loop([hash, password = std::move(*password), kdf = config_.kdf] { *hash = hash_password(password, kdf); },
           [this, hash, done, then, rid = rid_, name = *user] {
             if (!*hash) return then(internal(hash->error()));
             rid_ = rid;
             auto added = write(AddUser{name, **hash, clock_.unix_seconds()});
             if (!added) return then(added.error());
             then(done(*added));
           });
}

void Service::login(const Fields& f, Then then) {
  auto user = f.name("user", "user");
  if (!user) return then(user.error());
  auto password = f.password("password");
  if (!password) return then(password.error());
  auto seat = f.seat("seat");
  if (!seat) return then(seat.error());
  auto port = f.optional_port("port");
  if (!port) return then(port.error());
  // A login is not replayed from its request id: a retry logs in again (the
  // same seat may), and gets a token, which the id table must not keep.
  rid_.clear();

  // Before the password check, so a blocked guesser does not even cost us
  // a key derivation.
  if (auto refusal = login_refusal(*user)) return then(*refusal);
  auto stored = store_.password_hash(*user);
  if (!stored) return then(internal(stored.error()));
  if (!*stored) {
    // Counted for the address: trying names is part of spraying guesses.
    address_failure();
    return then(make_error("unknown_user", "no such user " + quoted(*user)));
  }
  // The key derivation is slow on purpose: on a worker, not the loop.
  auto right = std::make_shared<bool>(false);
  off_loop([right, password = std::move(*password), stored = std::move(**stored)] {
             *right = verify_password(password, stored);
           },
           [this, right, then, user = *user, seat = *seat, port = *port, host = peer_host_] {
             peer_host_ = host;
             then(logged_in(*right, user, seat, port));
           });
}

// A right password is refused too while either rule holds: were it let
// through, the answer would tell a guesser that this guess was the one.
std::optional<Error> Service::login_refusal(const std::string& user) const {
  const Instant now = clock_.now();
  const auto for_user = limiter_.blocked(user, now);
  const auto for_address = address_limiter_.blocked(peer_host_, now);
  if (for_address && (!for_user || *for_address > *for_user)) {
    return make_error("rate_limited", "too many wrong passwords from this address (" + address_key(peer_host_) +
                                          "), for all its users; try again in " +
                                          std::to_string(for_address->count()) + " s");
  }
  if (for_user) {
    return make_error("rate_limited", "too many wrong passwords for user " + quoted(user) +
                                          "; try again in " + std::to_string(for_user->count()) + " s");
  }
  return std::nullopt;
}

void Service::address_failure() {
  const Instant now = clock_.now();
  const bool was_blocked = address_limiter_.blocked(peer_host_, now).has_value();
  address_limiter_.failure(peer_host_, now);
  if (auto wait = address_limiter_.blocked(peer_host_, now); wait && !was_blocked) {
    log_warn("too many failed logins from ", address_key(peer_host_), ": its logins wait ", wait->count(), " s");
  }
}

Service::Answer Service::logged_in(bool password_right, const std::string& user_name,
                                   const std::string& seat_id, std::optional<uint16_t> peer_port) {
  const std::string* user = &user_name;
  const std::string* seat = &seat_id;
  const std::optional<uint16_t>* port = &peer_port;
  rid_.clear();
  if (!password_right) {
    limiter_.failure(*user, clock_.now());
    address_failure();
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
  if (auto s = write(ReplaceSession{session}); !s) return s.error();
  if (*current) {
    sessions_.forget((*current)->token_hash);
    session_ended((*current)->token_hash);
  }
  sessions_.touch(session.token_hash);
  peers_.set_session(session.token_hash, *user, peer_host_, *port);
  log_info("user ", quoted(*user), " logged in (seat ", short_seat(*seat), ")");
  return Json::Object{{"token", token}};
}

Service::Answer Service::resume(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto seat = f.seat("seat");
  if (!seat) return seat.error();
  auto port = f.optional_port("port");
  if (!port) return port.error();

  const std::string hash = token_hash(*token);
  auto session = store_.session_by_token(hash);
  if (!session) return internal(session.error());
  if (!*session) {
    return make_error(
        "session_expired",
        "your session has ended (logged out, or replaced by a later login); log in again");
  }
  const SessionRecord& s = **session;
  if (s.seat != *seat) {
    // The token was issued to another daemon (a copied state directory?).
    if (sessions_.live(hash)) return logged_in_elsewhere(s.user);
    return make_error("session_expired", "this session belongs to another daemon; log in again");
  }
  // A session that went quiet past the TTL revives here: nobody replaced it.
  // It had ended as a peer, though; its daemon announces again.
  if (!sessions_.live(hash)) session_ended(hash);
  sessions_.touch(hash);
  peers_.set_session(hash, s.user, peer_host_, *port);
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
  if (auto s = write(DeleteSession{hash}); !s) return s.error();
  sessions_.forget(hash);
  session_ended(hash);
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

  const auto done = [&](const Applied& added) -> Answer {
    if (!added.done)
      return make_error("group_exists", "group " + quoted(*group) + " already exists");
    log_info("user ", quoted(*user), " created group ", quoted(*group));
    return Json::Object{};
  };
  auto kept = kept_outcome();
  if (!kept) return kept.error();
  if (*kept) return done(**kept);
  auto added = write(AddGroup{*group, *user, clock_.unix_seconds()});
  if (!added) return added.error();
  return done(*added);
}

Service::Answer Service::join_group(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto user = authenticate(*token);
  if (!user) return user.error();

  const auto done = [&](const Applied&) -> Answer {
    log_info("user ", quoted(*user), " asked to join group ", quoted(*group));
    return Json::Object{};
  };
  auto kept = kept_outcome();
  if (!kept) return kept.error();
  if (*kept) return done(**kept);
  auto owner = owner_of(*group);
  if (!owner) return owner.error();
  auto member = store_.is_member(*group, *user);
  if (!member) return internal(member.error());
  if (*member) return make_error("already_member", "you are already a member of " + quoted(*group));
  auto pending = store_.has_request(*group, *user);
  if (!pending) return internal(pending.error());
  if (*pending) {
    return make_error("request_pending",
                      "your request to join " + quoted(*group) + " is already pending");
  }
  auto added = write(AddRequest{*group, *user, clock_.unix_seconds()});
  if (!added) return added.error();
  return done(*added);
}

Service::Answer Service::leave_group(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto user = authenticate(*token);
  if (!user) return user.error();

  const auto done = [&](const Applied& applied) -> Answer {
    const LeaveOutcome* outcome = &applied.leave;
    if (outcome->deleted) {
      peers_.drop_group(*group);
    } else {
      peers_.remove_user_from_group(*user, *group);
      for (const std::string& id : outcome->removed_file_ids) peers_.drop_file(*group, id);
    }

    if (outcome->deleted) {
      log_info("user ", quoted(*user), " left group ", quoted(*group),
               ", its last member: group deleted");
    } else if (outcome->new_owner) {
      log_info("owner ", quoted(*user), " left group ", quoted(*group), "; ",
               quoted(*outcome->new_owner), " owns it now");
    } else {
      log_info("user ", quoted(*user), " left group ", quoted(*group));
    }
    return Json::Object{
        {"deleted", outcome->deleted},
        {"new_owner", outcome->new_owner ? Json(*outcome->new_owner) : Json(nullptr)}};
  };
  auto kept = kept_outcome();
  if (!kept) return kept.error();
  if (*kept) return done(**kept);
  auto owner = owner_of(*group);
  if (!owner) return owner.error();
  auto member = store_.is_member(*group, *user);
  if (!member) return internal(member.error());
  if (!*member) return make_error("not_member", "you are not a member of " + quoted(*group));
  auto applied = write(LeaveGroup{*group, *user});
  if (!applied) return applied.error();
  return done(*applied);
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

  const auto done = [&](const Applied& applied) -> Answer {
    if (!applied.done) {
      return make_error("no_such_request",
                        "no pending request from " + quoted(*requester) + " for " + quoted(*group));
    }
    log_info("user ", quoted(*requester), " joined group ", quoted(*group), " (accepted by ",
             quoted(*user), ")");
    return Json::Object{};
  };
  auto kept = kept_outcome();
  if (!kept) return kept.error();
  if (*kept) return done(**kept);
  if (auto owner = owner_only(*group, *user); !owner) return owner.error();
  auto applied = write(AcceptRequest{*group, *requester, clock_.unix_seconds()});
  if (!applied) return applied.error();
  return done(*applied);
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

  const auto done = [&](const Applied& applied) -> Answer {
    if (!applied.done) {
      return make_error("no_such_request",
                        "no pending request from " + quoted(*requester) + " for " + quoted(*group));
    }
    log_info("request of ", quoted(*requester), " to join group ", quoted(*group), " rejected by ",
             quoted(*user));
    return Json::Object{};
  };
  auto kept = kept_outcome();
  if (!kept) return kept.error();
  if (*kept) return done(**kept);
  if (auto owner = owner_only(*group, *user); !owner) return owner.error();
  auto applied = write(RejectRequest{*group, *requester});
  if (!applied) return applied.error();
  return done(*applied);
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
    list.push_back(Json::Object{
        {"group", std::move(g.group)}, {"owner", std::move(g.owner)}, {"members", g.members}});
  }
  return Json::Object{{"groups", std::move(list)}};
}

// --- file catalogue ----------------------------------------------------------

Service::Answer Service::share_file(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto name = f.file_name("name");
  if (!name) return name.error();
  auto size = f.integer("size");
  if (!size) return size.error();
  if (*size < 0) return bad_request("field 'size' must be a file size in bytes (0 or more)");
  auto piece_size = f.integer("piece_size");
  if (!piece_size) return piece_size.error();
  if (*piece_size < 1 || *piece_size > std::numeric_limits<uint32_t>::max()) {
    return bad_request("field 'piece_size' must be a piece size in bytes");
  }
  auto hashes = f.string("hashes");
  if (!hashes) return hashes.error();
  auto file_id = f.string("file_id");
  if (!file_id) return file_id.error();
  auto meta = FileMeta::from_parts(static_cast<uint64_t>(*size), static_cast<uint32_t>(*piece_size),
                                   *hashes, *file_id);
  if (!meta) return bad_request("inconsistent file metadata: " + meta.error().message);
  if (meta->piece_count() > kMaxCataloguePieces) {
    return bad_request("a file of " + std::to_string(meta->piece_count()) +
                       " pieces is more than the tracker can describe in one answer (at most " +
                       std::to_string(kMaxCataloguePieces) +
                       " pieces); share it with a larger piece size");
  }
  auto user = authenticate(*token);
  if (!user) return user.error();
  if (auto m = member_only(*group, *user); !m) return m.error();

  const FileRecord record{
      *group, *name, meta->file_id_hex(), *size, *piece_size, meta->hashes_hex(), 0};
  const Error taken = make_error("name_taken", "a different file named " + quoted_file(*name) +
                                                   " is already shared in " + quoted(*group));
  const auto done = [&](const Applied& shared) -> Answer {
    if (!shared.done) return taken;
    log_info("user ", quoted(*user), " shares ", quoted_file(*name), " (", *size,
             " bytes) in group ", quoted(*group));
    peers_.add(token_hash(*token), *user, peer_host_, *group, record.file_id);
    return Json::Object{};
  };
  auto kept = kept_outcome();
  if (!kept) return kept.error();
  if (*kept) return done(**kept);
  auto existing = store_.file(*group, *name);
  if (!existing) return internal(existing.error());
  if (*existing && (*existing)->file_id != record.file_id) return taken;
  bool sharing = false;
  if (*existing) {
    auto s = store_.is_sharer(*group, *name, *user);
    if (!s) return internal(s.error());
    sharing = *s;
  }
  if (!sharing) {
    auto shared = write(ShareFile{record, *user, clock_.unix_seconds()});
    if (!shared) return shared.error();
    return done(*shared);
  }
  return done(Applied{});
}

Service::Answer Service::list_files(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto user = authenticate(*token);
  if (!user) return user.error();
  if (auto m = member_only(*group, *user); !m) return m.error();

  auto files = store_.files(*group);
  if (!files) return internal(files.error());
  const auto live = is_live();
  Json::Array list;
  list.reserve(files->size());
  for (auto& file : *files) {
    // A name stored before the rules refused control characters: no client
    // may ask for it by name any more, and gsd would take the whole list
    // for malformed, so it is left out (stop_share cannot name it either;
    // it goes when its sharers leave the group).
    if (!valid_file_name(file.name)) {
      log_warn("list_files: leaving out a file of ", quoted(*group), " whose stored name is no longer valid (",
               file_name_problem(file.name), ")");
      continue;
    }
    const size_t peers = peers_.count(*group, file.file_id, live);
    list.emplace_back(object_of("name", std::move(file.name), "size", file.size, "file_id",
                                std::move(file.file_id), "peers", static_cast<int64_t>(peers)));
  }
  return Json::Object{{"files", std::move(list)}};
}

Service::Answer Service::file_info(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto name = f.file_name("name");
  if (!name) return name.error();
  auto peers_only = f.optional_flag("peers_only");
  if (!peers_only) return peers_only.error();
  auto user = authenticate(*token);
  if (!user) return user.error();
  if (auto m = member_only(*group, *user); !m) return m.error();

  auto file = store_.file(*group, *name);
  if (!file) return internal(file.error());
  if (!*file)
    return make_error("no_such_file",
                      "no file named " + quoted_file(*name) + " in " + quoted(*group));
  FileRecord& r = **file;
  std::string ticket = ticket_for(*user, *group, r.file_id);
  Json::Array peers;
  if (splice_) {
    splice_->entries = peers_.peer_entries(*group, r.file_id, is_live(), *user, std::min(config_.max_listed_peers, kMaxListedPeers));
    splice_->used = true;
  } else {
    auto listed = peers_.peers(*group, r.file_id, is_live(), *user, std::min(config_.max_listed_peers, kMaxListedPeers));
    peers.reserve(listed.size());
    for (auto& p : listed) {
      peers.emplace_back(
          object_of("user", std::move(p.user), "host", std::move(p.host), "port", p.port));
    }
  }
  // "peers" last: handle_to_text() splices the entries in before the final "]}".
  if (*peers_only) {
    return object_of("file_id", std::move(r.file_id), "ticket", std::move(ticket), "peers", std::move(peers));
  }
  return object_of("name", std::move(r.name), "size", r.size, "piece_size", r.piece_size, "hashes",
                   std::move(r.hashes), "file_id", std::move(r.file_id), "ticket", std::move(ticket), "peers",
                   std::move(peers));
}

Service::Answer Service::announce(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto file_id = f.file_id("file_id");
  if (!file_id) return file_id.error();
  auto user = authenticate(*token);
  if (!user) return user.error();
  if (auto m = member_only(*group, *user); !m) return m.error();

  auto known = store_.has_file_id(*group, *file_id);
  if (!known) return internal(known.error());
  if (!*known)
    return make_error("no_such_file", "no file with id " + *file_id + " in " + quoted(*group));
  peers_.add(token_hash(*token), *user, peer_host_, *group, *file_id);
  return Json::Object{};
}

Service::Answer Service::stop_share(const Fields& f) {
  auto token = f.token("token");
  if (!token) return token.error();
  auto group = f.name("group", "group");
  if (!group) return group.error();
  auto name = f.file_name("name");
  if (!name) return name.error();
  auto user = authenticate(*token);
  if (!user) return user.error();
  if (auto m = member_only(*group, *user); !m) return m.error();

  auto file = store_.file(*group, *name);
  if (!file) return internal(file.error());
  // A retried stop_share may find the file gone with its last sharer.
  std::string id = *file ? (*file)->file_id : std::string();
  const auto done = [&](const Applied& applied) -> Answer {
    const StopShareOutcome* outcome = &applied.stop;
    // The same content may stay in the catalogue under another name, and the
    // user may share it under that name too: then the session still serves it.
    if (id.empty()) {
    } else if (outcome->file_id_gone) {
      peers_.drop_file(*group, id);
    } else if (!outcome->still_shares_id) {
      peers_.remove(token_hash(*token), *group, id);
    }
    log_info("user ", quoted(*user), " stopped sharing ", quoted_file(*name), " in group ",
             quoted(*group),
             outcome->file_removed ? "; nobody shares it now, so it left the catalogue" : "");
    return Json::Object{};
  };
  auto kept = kept_outcome();
  if (!kept) return kept.error();
  if (*kept) return done(**kept);
  if (!*file)
    return make_error("no_such_file",
                      "no file named " + quoted_file(*name) + " in " + quoted(*group));
  auto sharing = store_.is_sharer(*group, *name, *user);
  if (!sharing) return internal(sharing.error());
  if (!*sharing) {
    return make_error("not_sharing",
                      "you are not sharing " + quoted_file(*name) + " in " + quoted(*group));
  }
  auto applied = write(StopShare{*group, *name, *user});
  if (!applied) return applied.error();
  return done(*applied);
}

}  // namespace gs::tracker
