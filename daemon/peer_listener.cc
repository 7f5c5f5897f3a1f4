#include "peer_listener.h"

#include "log.h"

namespace gs::daemon {

Result<std::unique_ptr<PeerListener>> PeerListener::open(event_base* base, const Endpoint& at) {
  std::unique_ptr<PeerListener> pl(new PeerListener(at));
  PeerListener* raw = pl.get();
  auto l = Listener::open(base, at, [raw](evutil_socket_t fd, const std::string& peer) { raw->on_accept(fd, peer); });
  if (!l) return make_error("listen_failed", "peer port: " + l.error().message);
  pl->listener_ = *l;
  return pl;
}

PeerListener::~PeerListener() { delete listener_; }

std::string PeerListener::address() const {
  Endpoint bound = at_;
  bound.port = port();
  return bound.str();
}

void PeerListener::on_accept(evutil_socket_t fd, const std::string& peer) {
  // No peer wire yet: nothing is served, so the link is closed at once.
  log_debug("peer connection from ", peer, " closed: serving pieces is not implemented yet");
  evutil_closesocket(fd);
}

}  // namespace gs::daemon
