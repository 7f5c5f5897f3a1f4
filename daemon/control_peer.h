// Who may talk to gsd on its control socket: the daemon's own user, and
// root. Pure, so the rule and its words are tested without a second uid.
//
// The socket file is 0600, so another user cannot even connect to it as
// long as nobody changes its mode; this check is the second lock, for a
// socket made reachable by mistake (a chmod, a bind mount, a directory
// setting). The other user then gets an answer that says why (not_permitted)
// rather than a bare hang-up, and gsd logs the uid and pid.
//
// Root is let in by design: root can read gsd's state directory and key,
// attach to the process, or become its user anyway, so refusing it would
// protect nothing, and `sudo gsctl …` stays usable for an administrator.
// The same goes for a process of the daemon's own user: it is the user.
#pragma once

#include <sys/types.h>

#include <optional>

#include "result.h"

namespace gs::daemon {

// nullopt when `peer` may use the control socket of a gsd running as
// `own`; otherwise the error to answer with before closing.
std::optional<Error> control_peer_refusal(uid_t peer, uid_t own);

}  // namespace gs::daemon
