// This daemon's access tickets (lib/ticket.h), one per file, and the checks
// of the tickets peers present. One place for both sides of the peer wire:
//
//  - a download presents its ticket in its handshake and sends each renewed
//    one (PeerClient); it gets them from the tracker's file_info answers,
//    which it asks for every few seconds anyway (Download::refresh_peers);
//  - a seeder presents its own ticket for the file in its answer, proving it
//    is a member too (PeerServer); for a complete share it asks the tracker
//    for one (fetch) when it has none with half its life left;
//  - both check what the other side presents with check(): signed by the
//    cluster key, for this file, held by the key the link proved, unexpired.
//
// The cluster key is the one TrackerPins pinned (trackers file, or trust on
// first use). Without one, no ticket can be checked and none is accepted.
// Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "crypto.h"
#include "json.h"
#include "result.h"
#include "ticket.h"
#include "tracker_pins.h"

namespace gs::daemon {

class Session;

// Unix seconds now: tickets carry wall-clock expiries.
int64_t unix_now();

// A ticket we hold, as the tracker issued it.
struct HeldTicket {
  std::string bytes;
  int64_t expires = 0;   // Unix seconds
  int64_t received = 0;  // when it arrived: with `expires`, its lifetime

  // Half its life or more is left: good to present, and not yet worth
  // renewing.
  bool fresh(int64_t now) const { return expires - now > (expires - received) / 2; }
};

// Whether to send `fresh_expires`'s ticket to a peer that was last sent one
// expiring at `sent_expires`: only once that one has lived half its life, so
// a download that gets a new ticket every few seconds renews each link a few
// times per ticket lifetime, not on every refresh.
bool worth_renewing(int64_t sent_expires, int64_t fresh_expires, int64_t now);

class TicketBook {
 public:
  using WallClock = std::function<int64_t()>;
  // `pins` null: tickets are off (tls = false). Without a session (none set
  // yet, or tests) fetch() fails.
  explicit TicketBook(const TrackerPins* pins, WallClock now = unix_now);
  // The session fetch() asks through; it outlives every fetch() call.
  void set_session(Session* session) { session_ = session; }

  bool enabled() const { return pins_ != nullptr; }
  int64_t now() const { return now_(); }
  // The raw key that signs tickets; empty while none is known.
  std::string cluster_key() const;

  // Keeps the ticket of a file_info answer (its "ticket" field, hex), if it
  // reads under the cluster key. Tells the listener.
  void take(const Json& file_info);
  // Our ticket for `file_id`, if it is fresh (HeldTicket::fresh).
  const HeldTicket* fresh(const Sha256Digest& file_id) const;
  // Asks the tracker for a ticket for `name` in `group` (file_info), unless a
  // request for `file_id` is in flight. The listener hears of the outcome.
  void fetch(const Sha256Digest& file_id, const std::string& group, const std::string& name);

  // Told of each ticket taken (error null) and each fetch that failed.
  using Listener = std::function<void(const Sha256Digest& file_id, const Error* error)>;
  void set_listener(Listener listener) { listener_ = std::move(listener); }

  // A ticket a peer presented on a link whose far end proved `link_key`:
  // signed by the cluster key, for `file_id`, held by `link_key`, unexpired.
  // Errors: "no_cluster_key", and those of read_ticket and check_ticket.
  Result<Ticket> check(std::string_view bytes, const Sha256Digest& file_id, std::string_view link_key) const;

 private:
  void tell(const Sha256Digest& file_id, const Error* error);

  Session* session_ = nullptr;
  const TrackerPins* pins_;
  WallClock now_;
  std::map<Sha256Digest, HeldTicket> held_;
  std::set<Sha256Digest> fetching_;
  Listener listener_;
  // Held weakly by the answers of fetch(): a book gone first ignores them.
  std::shared_ptr<TicketBook*> alive_ = std::make_shared<TicketBook*>(this);
};

}  // namespace gs::daemon
