#include "control_peer.h"

#include <string>

namespace gs::daemon {

std::optional<Error> control_peer_refusal(uid_t peer, uid_t own) {
  if (peer == own || peer == 0) return std::nullopt;
  return make_error("not_permitted", "this gsd runs as uid " + std::to_string(own) + " and takes commands from " +
                                         "that user (and root) only, not from uid " + std::to_string(peer) +
                                         "; start a gsd of your own");
}

}  // namespace gs::daemon
