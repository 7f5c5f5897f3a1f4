#include "server.h"

#include <deque>
#include <optional>
#include <vector>

#include "identity.h"
#include "log.h"
#include "names.h"

namespace gs::tracker {
namespace {

// Requests one connection may have waiting for answers (slow logins queue up
// behind the key derivation): a client that piles up more is cut off.
constexpr size_t kMaxAnswersWaiting = 1024;

std::string seconds_text(int64_t s) { return std::to_string(s) + " s"; }

}  // namespace

std::string peer_host(std::string_view peer) { return peer_address(peer); }

struct Server::Conn {
  Server* server = nullptr;
  uint64_t id = 0;  // answers that come back later find their connection by it
  FramedConn* link = nullptr;
  // A request whose answer the Service gives later (a login waits for its
  // key derivation on a worker) holds back the requests behind it on this
  // connection, so each connection's requests take effect in order, as a
  // pipelining client expects (create_user, then login); other connections
  // go on meanwhile. answers[i] belongs to request first_answer + i, empty
  // until its answer came.
  std::deque<std::optional<std::string>> answers;
  uint64_t first_answer = 0;
  std::deque<Json> held;
  std::optional<uint64_t> slow;  // the slot of the request the held ones wait for
  std::string host;  // peer_host() of the link
  event* handshake_timer = nullptr;
  bool greeted = false;
  int tracker = 0;  // another tracker of the cluster, sending replication messages
};

Server::Server(event_base* base, Service& service, ServerConfig config, Replication* cluster)
    : base_(base), service_(service), config_(config), cluster_(cluster) {}

Server::~Server() { stop(); }

Status Server::listen(const Endpoint& ep) {
  auto l = Listener::open(base_, ep, [this](evutil_socket_t fd, const std::string& peer) {
    on_accept(fd, peer);
  });
  if (!l) return l.error();
  listener_.reset(*l);
  return Ok{};
}

uint16_t Server::port() const { return listener_ ? listener_->port() : 0; }

void Server::stop() {
  listener_.reset();
  std::vector<FramedConn*> links;
  links.reserve(conns_.size());
  for (const auto& [c, owned] : conns_) links.push_back(c->link);
  // close() runs on_close, which erases the Conn; hence the copy.
  for (FramedConn* link : links) link->close("tracker shutting down");
}

void Server::refuse(evutil_socket_t fd, const std::string& peer) {
  evutil_closesocket(fd);
  const uint64_t n = refusals_log_.hit();
  if (n == 0) return;
  std::string more;
  if (n > 1) more = " (and " + std::to_string(n - 1) + " more since the last such line)";
  log_warn("refusing connection from ", peer, ": ", conns_.size(), " connections open, the limit of max_connections",
           more);
}

void Server::refuse_per_address(evutil_socket_t fd, const std::string& peer, const std::string& host) {
  evutil_closesocket(fd);
  const uint64_t n = per_address_refusals_log_.hit();
  if (n == 0) return;
  const std::string limit = "max_connections_per_address (" + std::to_string(config_.max_connections_per_address) + ")";
  if (n == 1) {
    log_warn("refusing connection from ", peer, ": ", host, " has ", limit,
             " connections open; further refusals are counted, one line a minute");
  } else {
    log_warn("refused ", n, " connections over ", limit, " since the last such line, the last from ", host);
  }
}

void Server::on_accept(evutil_socket_t fd, const std::string& peer) {
  if (conns_.size() >= static_cast<size_t>(config_.max_connections)) {
    refuse(fd, peer);
    return;
  }
  const std::string host = peer_host(peer);
  if (auto at = per_address_.find(host);
      at != per_address_.end() && at->second >= static_cast<size_t>(config_.max_connections_per_address)) {
    refuse_per_address(fd, peer, host);
    return;
  }
  auto owned = std::make_unique<Conn>();
  Conn* c = owned.get();
  c->server = this;
  c->id = ++last_conn_id_;
  c->host = host;
  FramedConn::Handlers handlers;
  handlers.on_frame = [this, c](FramedConn&, std::string_view payload) { on_frame(*c, payload); };
  handlers.on_close = [this, c](FramedConn&, const CloseReason& reason) { on_close(*c, reason); };
  c->link = FramedConn::accept(base_, fd, kTrackerMaxFrame, peer, std::move(handlers), {config_.tls, {}});
  if (!c->link) {
    log_warn("cannot set up connection from ", peer);
    return;
  }
  ++per_address_[host];  // on_close gives it back
  c->handshake_timer = evtimer_new(base_, &Server::on_handshake_timeout, c);
  if (!c->handshake_timer) {
    conns_.emplace(c, std::move(owned));
    by_id_.emplace(c->id, c);
    c->link->close("out of memory for a timer");
    return;
  }
  const timeval tv{static_cast<time_t>(config_.handshake_timeout_seconds), 0};
  evtimer_add(c->handshake_timer, &tv);
  c->link->set_read_timeout(static_cast<int>(config_.idle_timeout_seconds));
  conns_.emplace(c, std::move(owned));
  by_id_.emplace(c->id, c);
  log_debug("connection from ", peer);
}

void Server::on_handshake_timeout(evutil_socket_t, short, void* conn) {
  auto* c = static_cast<Conn*>(conn);
  c->link->close("no handshake within " + seconds_text(c->server->config_.handshake_timeout_seconds));
}

void Server::on_close(Conn& c, const CloseReason& reason) {
  std::string why = reason.text;
  // FramedConn's word for it; ours names the setting that did it.
  if (reason.kind == CloseKind::read_timeout) {
    why = "idle for " + seconds_text(config_.idle_timeout_seconds) + " (idle_timeout_seconds)";
  }
  log_info("closing ", c.link->peer(), ": ", why);
  if (auto r = replica_links_.find(c.tracker); r != replica_links_.end() && r->second == c.id) {
    replica_links_.erase(r);
  }
  if (c.handshake_timer) event_free(c.handshake_timer);
  if (auto at = per_address_.find(c.host); at != per_address_.end() && --at->second == 0) per_address_.erase(at);
  by_id_.erase(c.id);
  conns_.erase(&c);  // c is gone from here on
}

void Server::on_frame(Conn& c, std::string_view payload) {
  auto message = Json::parse(payload);
  if (!message) {
    c.link->close("unparsable frame (" + message.error().message + ")");
    return;
  }
  if (!message->is_object()) {
    c.link->close("frame is not a JSON object");
    return;
  }
  if (!c.greeted) {
    on_hello(c, *message);
    return;
  }
  if (c.tracker != 0) {
    if (auto s = cluster_->receive(c.tracker, payload); !s) {
      c.link->close("bad replication message from tracker " + std::to_string(c.tracker) + " (" +
                    s.error().message + ")");
    }
    return;
  }

  if (log_enabled(LogLevel::debug)) {
    const auto op = message->get_string("op");
    log_debug("request from ", c.link->peer(), ": ", op && valid_name(*op) ? *op : "(malformed)");
  }
  if (c.slow) {
    if (c.held.size() >= kMaxAnswersWaiting) {
      c.link->close("over " + std::to_string(kMaxAnswersWaiting) + " requests waiting for their answers");
      return;
    }
    c.held.push_back(std::move(*message));
    return;
  }
  serve(c, *message);
}

void Server::serve(Conn& c, const Json& message_ref) {
  const Json* message = &message_ref;
  const uint64_t slot = c.first_answer + c.answers.size();
  c.answers.emplace_back();
  const Json* id = message->find("id");
  Json answer_id = id && id->is_int() ? *id : Json(nullptr);
  const uint64_t conn = c.id;
  const bool done = service_.handle(
      *message, RequestContext{c.host, std::string(c.link->peer_key())},
      [this, conn, slot, answer_id = std::move(answer_id)](std::string text) {
        answered(conn, slot, answer_id, std::move(text));
      });
  // The answer may have come already, and closed the link with it.
  const auto found = by_id_.find(conn);
  if (!done && found != by_id_.end() && found->second->first_answer <= slot) {
    found->second->slow = slot;
  }
}

void Server::answered(uint64_t conn, uint64_t slot, const Json& id, std::string bytes) {
  const auto found = by_id_.find(conn);
  if (found == by_id_.end()) return;  // the client went away meanwhile
  Conn& c = *found->second;
  if (bytes.size() > kTrackerMaxFrame) {
    // Only a list could grow this big; the client would drop the link over
    // an oversized frame, so it gets an error it can show instead. The
    // answer carried the request's id if that was an integer.
    log_warn("answer to ", c.link->peer(), " is ", bytes.size(), " bytes, over the frame limit");
    Json::Object err{{"id", id},
                     {"ok", false},
                     {"error", "internal_error"},
                     {"message", "the answer is too large for one frame"}};
    bytes = Json(std::move(err)).dump();
  }
  c.answers[slot - c.first_answer] = std::move(bytes);
  if (c.slow == slot) c.slow.reset();
  while (!c.answers.empty() && c.answers.front()) {
    c.link->send(*c.answers.front());
    c.answers.pop_front();
    ++c.first_answer;
  }
  if (c.link->pending_output() > config_.max_pending_output) {
    c.link->close("not reading its answers (" + std::to_string(c.link->pending_output()) +
                  " bytes queued)");
    return;
  }
  // What waited behind a slow request goes now, until the next slow one.
  while (!c.slow && !c.held.empty()) {
    const Json next = std::move(c.held.front());
    c.held.pop_front();
    serve(c, next);
    if (by_id_.find(conn) == by_id_.end()) return;  // serving it closed the link
  }
}

void Server::on_hello(Conn& c, const Json& hello) {
  const Json* name = hello.find("hello");
  if (!name) {
    c.link->close("request before the handshake");
    return;
  }
  const auto version = hello.get_int("version");
  if (!name->is_string() || name->as_string() != "gs-tracker" || !version ||
      *version != kTrackerProtoVersion) {
    std::string message = "this is a gs-tracker speaking protocol version " +
                          std::to_string(kTrackerProtoVersion) + "; expected {\"hello\":\"gs-tracker\",\"version\":" +
                          std::to_string(kTrackerProtoVersion) + "}";
    if (version && name->is_string() && name->as_string() == "gs-tracker") {
      message = "this tracker speaks protocol version " + std::to_string(kTrackerProtoVersion) +
                ", not version " + std::to_string(*version);
    }
    Json::Object answer{{"ok", false}, {"error", "bad_version"}, {"message", message}};
    c.link->send(Json(std::move(answer)).dump());
    c.link->close_after_flush("bad handshake (" + message + ")");
    return;
  }
  if (const Json* from = hello.find("replica")) {
    // Another tracker of the cluster: from now on its link carries
    // replication messages, which can be larger than requests.
    const int count = cluster_ ? cluster_->count() : 0;
    if (!from->is_int() || from->as_int() < 1 || from->as_int() > count ||
        from->as_int() == cluster_->self()) {
      c.link->close("bad replication handshake (field 'replica' must be another tracker's number, 1.." +
                    std::to_string(count) + ")");
      return;
    }
    const size_t index = static_cast<size_t>(from->as_int() - 1);
    if (config_.pins && config_.tls) {
      if (!config_.pins->may_be(index, c.link->peer_key())) {
        log_warn("refused a replication link from ", c.link->peer(), " claiming to be tracker ", index + 1,
                 ": it proved key ", key_text(c.link->peer_key()), ", not the key pinned for that tracker");
        c.link->close("wrong key for tracker " + std::to_string(index + 1));
        return;
      }
      config_.pins->proven(index, c.link->peer_key());
    }
    c.tracker = static_cast<int>(from->as_int());
    c.link->set_max_frame(kReplicaMaxFrame);
    // One link per tracker: what the older one still holds unread must not
    // arrive after what the new one brings (the protocol assumes each link
    // delivers in order or loses the rest).
    if (auto old = replica_links_.find(c.tracker); old != replica_links_.end()) {
      if (auto found = by_id_.find(old->second); found != by_id_.end()) {
        found->second->link->close("tracker " + std::to_string(c.tracker) + " opened a new link");
      }
    }
    replica_links_[c.tracker] = c.id;
    log_debug("replication link from tracker ", c.tracker, " (", c.link->peer(), ")");
  }
  c.greeted = true;
  event_del(c.handshake_timer);
  Json::Object answer{{"hello", "gs-tracker"}, {"version", kTrackerProtoVersion}, {"tracker", config_.tracker_index}};
  // The key access tickets are signed with, for daemons to pin.
  if (const Identity* key = service_.cluster_key()) answer.emplace_back("cluster_key", key->text());
  if (cluster_) {
    for (auto& field : cluster_->hello_fields()) answer.push_back(std::move(field));
  }
  c.link->send(Json(std::move(answer)).dump());
  log_debug("handshake from ", c.link->peer());
}

}  // namespace gs::tracker
