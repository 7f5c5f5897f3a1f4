// The tracker's request handlers: one JSON request in, one JSON answer out,
// for every op of the tracker protocol (docs/protocol.md). No sockets here;
// the server feeds it frames and the unit tests feed it objects, with a fake
// clock to move session time.
//
// Every client write is one Write (write.h), made after every check has
// passed. In a cluster (replication.h) only the primary serves: a write goes
// into the replicated log, and every answer waits until what it saw is
// committed; any other tracker answers not_primary. Without one (unit tests)
// writes go straight to the Store. Live peer sets (live_peers.h) and session
// liveness are soft state: each primary builds its own from the announces
// and heartbeats it hears, and nothing of them is shipped.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "address_limit.h"
#include "clock.h"
#include "identity.h"
#include "json.h"
#include "live_peers.h"
#include "names.h"
#include "password.h"
#include "rate_limit.h"
#include "replication.h"
#include "request_fields.h"
#include "result.h"
#include "sessions.h"
#include "store.h"
#include "worker_pool.h"

namespace gs::tracker {

// What the server knows about the connection a request came on.
struct RequestContext {
  // The remote IP address, without port or brackets: a peer's host in
  // file_info. Empty when unknown (tests); such a session is listed with
  // an empty host.
  std::string peer_host;
  // The Ed25519 key the client's TLS link proved (raw); empty on a plaintext
  // link. Access tickets name it.
  std::string peer_key;
};

// Most peers one file_info answer lists (a random pick when there are more).
inline constexpr size_t kMaxListedPeers = 200;

struct ServiceConfig {
  Seconds session_ttl{20};
  KdfParams kdf;  // for new password hashes; stored hashes carry their own
  LoginLimiter::Params login_limit;      // per account
  AddressLimiter::Params address_limit;  // per source address, any account
  // How long an access ticket (file_info) lets its holder fetch the file;
  // daemons renew theirs while they download.
  Seconds ticket_ttl{300};
  // Most peers one file_info answer lists (tracker.max_peers_per_answer);
  // at most kMaxListedPeers.
  size_t max_listed_peers = kMaxListedPeers;
};

class Service {
 public:
  // The session grace period (sessions.h) starts now. Password hashing
  // (create_user, login) runs on `pool`; without one it runs inline. With a
  // `cluster`, writes and answers go through it (see above).
  Service(Store& store, const Clock& clock, ServiceConfig config, WorkerPool* pool = nullptr,
          Replication* cluster = nullptr);
  // A reloaded config (SIGHUP): new tickets, sessions, logins and answers
  // follow it; tickets given out keep their expiry, and sessions live now
  // stay live (Sessions::set_ttl).
  void set_config(const ServiceConfig& config);

  // The answer to one request, as the text the server sends, is passed to
  // `reply` exactly once: before handle() returns, or later from the loop
  // when the request needed slow work (a key derivation on the pool) or
  // waits for its commit. Answers can thus come out of request order; the
  // server puts them back in order. Returns whether the request has taken
  // effect (its answer may still wait for the commit): false while slow work
  // runs, during which the connection's next requests should wait.
  // Never throws: a malformed request gets bad_request, a failing disk gets
  // internal_error. The answer carries the request's id (null when the
  // request had no usable id). file_info's peer list, most of its answer, is
  // spliced in as LivePeers keeps it encoded instead of being built as Json
  // objects and encoded on every look-up.
  using Reply = std::function<void(std::string text)>;
  bool handle(const Json& request, const RequestContext& context, Reply reply);
  // For a Service without a pool (tests, fuzzing), where every answer comes
  // at once: the text, and the same parsed.
  std::string handle_to_text(const Json& request, const RequestContext& context = {});
  Json handle(const Json& request, const RequestContext& context = {});

  // This tracker just became the primary: whatever it knew of who is online
  // is stale (it served nobody as a backup, or served long ago). Every
  // session gets a grace period, and daemons announce again.
  void became_primary();
  // The cluster's signing key (access tickets): made by the first primary
  // that finds none, replicated like every write. Null until then.
  const Identity* cluster_key();
  // An access ticket for `user` in `group` to fetch `file_id` (hex), held by
  // the daemon of the request being handled; empty when the link proved no
  // key (plaintext) or the cluster has no key yet.
  std::string ticket_for(const std::string& user, const std::string& group, const std::string& file_id);

  // For tests: the soft state of who serves what.
  const LivePeers& live_peers() const { return peers_; }

 private:
  using Fields = RequestFields;
  using Answer = Result<Json::Object>;
  using Handler = Answer (Service::*)(const Fields&);
  // Ops with slow work answer through `then`, once, maybe later.
  using Then = std::function<void(Answer)>;
  using AsyncHandler = void (Service::*)(const Fields&, Then);
  struct PeerSplice;

  Answer dispatch(std::string_view op, const Fields& f);
  static AsyncHandler slow_handler(std::string_view op);
  Json answer_json(Json id, Answer answer) const;
  // The answer of a tracker that is not the primary: where to go instead.
  Json not_primary(Json id) const;
  // `text` once everything applied so far is committed; not_primary if this
  // tracker stops being the primary first.
  void when_committed(Json id, std::string text, const Reply& reply);
  static std::string with_peers(const Json& answer, const PeerSplice& splice);
  // `work` on the pool, then `done` on the loop; both inline without a pool.
  void off_loop(std::function<void()> work, std::function<void()> done);

  void create_user(const Fields& f, Then then);
  void login(const Fields& f, Then then);
  // rate_limited when the account or the request's address must wait
  // (the longer wait of the two); nullopt when the login may go on.
  std::optional<Error> login_refusal(const std::string& user) const;
  // A login from the request's address failed; logs when that makes the
  // address wait.
  void address_failure();
  // The rest of a login once the password was checked.
  Answer logged_in(bool password_right, const std::string& user, const std::string& seat,
                   std::optional<uint16_t> port);
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
  Answer share_file(const Fields& f);
  Answer list_files(const Fields& f);
  Answer file_info(const Fields& f);
  Answer announce(const Fields& f);
  Answer stop_share(const Fields& f);

  // The user behind a live session token; not_logged_in or session_expired
  // otherwise. Counts as word from the session's daemon.
  Result<std::string> authenticate(const std::string& token);
  // The owner of an existing group, or no_such_group.
  Result<std::string> owner_of(const std::string& group);
  Result<std::string> owner_only(const std::string& group, const std::string& user);
  // no_such_group or not_member unless `user` is a member of `group`.
  Status member_only(const std::string& group, const std::string& user);
  Error logged_in_elsewhere(const std::string& user) const;
  // Applies a write, under the request's id if it has one.
  Result<Applied> write(WriteOp op);
  // The first outcome of this request, when it is a retry of a write that
  // was applied (same request id); nullopt otherwise.
  Result<std::optional<Applied>> kept_outcome();
  // A session ended (logout, replacement, expiry): it serves nothing now.
  void session_ended(const std::string& token_hash);
  // Liveness as of now (sessions.h), for a walk over peer sets.
  LivePeers::IsLive is_live() const;
  // Every TTL or so, sessions that went quiet leave the peer sets even if
  // nobody asks about their files.
  void maybe_prune();

  // Set while handle_to_text() runs: file_info then answers with an empty
  // peer list, its last field, and leaves the peers' encoded entries here.
  struct PeerSplice {
    bool used = false;
    std::vector<const std::string*> entries;
  };

  Store& store_;
  const Clock& clock_;
  WorkerPool* pool_;
  Replication* cluster_;
  ServiceConfig config_;
  Sessions sessions_;
  LoginLimiter limiter_;
  AddressLimiter address_limiter_;
  LivePeers peers_;
  Instant next_prune_;
  std::string peer_host_;  // of the request being handled
  std::string peer_key_;   // of the request being handled (RequestContext::peer_key)
  std::string rid_;        // request id of the request being handled, or empty
  std::unique_ptr<Identity> cluster_key_;  // loaded from the store once set
  PeerSplice* splice_ = nullptr;
};

}  // namespace gs::tracker
