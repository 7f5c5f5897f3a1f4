// The tracker's network side: accepts daemons' TCP connections on one libevent
// loop, runs the handshake of the tracker protocol, and hands each request
// frame to the Service, sending its answer back in request order.
//
// Everything a connection sends is untrusted. A connection that misbehaves
// (garbage, an oversized frame, no handshake in time, silence past the idle
// timeout, never reading its answers) is closed with one log line; nothing it
// does reaches any other connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <event2/event.h>

#include "endpoint.h"
#include "framed_conn.h"
#include "tracker_pins.h"
#include "json.h"
#include "log_throttle.h"
#include "replication.h"
#include "result.h"
#include "tracker_service.h"

namespace gs::tracker {

struct ServerConfig {
  int64_t tracker_index = 1;  // told to clients in the handshake answer
  int64_t max_connections = 4096;
  // From one source address (peer_host) at once.
  int64_t max_connections_per_address = 64;
  int64_t handshake_timeout_seconds = 10;
  int64_t idle_timeout_seconds = 120;
  // Answers queued for a client that does not read them; past this the
  // client is cut off rather than growing our memory without bound.
  size_t max_pending_output = 8u << 20;
  const TlsContext* tls = nullptr;  // null: plaintext links (tls = false)
  TrackerPins* pins = nullptr;      // other trackers' keys; null: not checked
};

// The address part of a peer as FramedConn names it ("1.2.3.4:5678",
// "[::1]:5678"): what file_info tells others to connect to. An IPv4 client of
// a dual-stack socket ("[::ffff:1.2.3.4]:5678") is given as plain IPv4.
std::string peer_host(std::string_view peer);

class Server {
 public:
  // With a cluster, other trackers' replication links are handed to it, and
  // the hello answer tells clients the tracker's role.
  Server(event_base* base, Service& service, ServerConfig config, Replication* cluster = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status listen(const Endpoint& ep);
  // Reloaded limits and timeouts, for connections accepted from now on;
  // those open keep theirs, and none is closed for a lowered limit.
  void set_limits(int64_t max_connections_per_address, int64_t handshake_timeout_seconds,
                  int64_t idle_timeout_seconds) {
    config_.max_connections_per_address = max_connections_per_address;
    config_.handshake_timeout_seconds = handshake_timeout_seconds;
    config_.idle_timeout_seconds = idle_timeout_seconds;
  }
  uint16_t port() const;
  // Stops accepting and closes every connection; the loop can then end.
  void stop();
  size_t connections() const { return conns_.size(); }

 private:
  struct Conn;
  void on_accept(evutil_socket_t fd, const std::string& peer);
  void on_frame(Conn& c, std::string_view payload);
  // Hands one request to the Service.
  void serve(Conn& c, const Json& message);
  // The Service's answer to request `slot` of connection `conn`: sent once
  // every earlier answer on it was.
  void answered(uint64_t conn, uint64_t slot, const Json& id, std::string bytes);
  void on_hello(Conn& c, const Json& hello);
  void on_close(Conn& c, const CloseReason& reason);
  static void on_handshake_timeout(evutil_socket_t, short, void* conn);
  void refuse(evutil_socket_t fd, const std::string& peer);
  void refuse_per_address(evutil_socket_t fd, const std::string& peer, const std::string& host);

  event_base* base_;
  Service& service_;
  ServerConfig config_;
  Replication* cluster_;
  std::unique_ptr<Listener> listener_;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_;
  std::unordered_map<uint64_t, Conn*> by_id_;
  std::unordered_map<int, uint64_t> replica_links_;  // tracker -> its link's Conn id
  uint64_t last_conn_id_ = 0;
  // Connections open per source address (peer_host), for
  // max_connections_per_address; an address leaves with its last one.
  std::unordered_map<std::string, size_t> per_address_;
  // Refusals at each connection cap are logged once, then at most once per
  // interval with a count, so a flood cannot flood the log too.
  LogThrottle refusals_log_;
  LogThrottle per_address_refusals_log_;
};

}  // namespace gs::tracker
