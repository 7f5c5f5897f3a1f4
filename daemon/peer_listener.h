// The peer port, where other daemons will connect to fetch pieces.
//
// Serving pieces comes with downloads; until then this holds the port, so
// that a daemon configured with a port already in use fails at start with a
// clear error rather than later, and closes whatever connects at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <event2/event.h>

#include "endpoint.h"
#include "framed_conn.h"
#include "result.h"

namespace gs::daemon {

class PeerListener {
 public:
  static Result<std::unique_ptr<PeerListener>> open(event_base* base, const Endpoint& at);
  ~PeerListener();
  PeerListener(const PeerListener&) = delete;
  PeerListener& operator=(const PeerListener&) = delete;

  // The port actually bound (differs from the configured one only for port 0).
  uint16_t port() const { return listener_->port(); }
  // "HOST:PORT" as bound.
  std::string address() const;

 private:
  PeerListener(Endpoint at) : at_(std::move(at)) {}
  void on_accept(evutil_socket_t fd, const std::string& peer);

  Endpoint at_;
  Listener* listener_ = nullptr;
};

}  // namespace gs::daemon
