// The serving side of the peer wire: the peer port, where other daemons
// connect to fetch pieces of what the ServeRegistry lists.
//
// One connection is about one file. The client sends its handshake (within
// the handshake timeout), the server answers with its own and a BITFIELD, then
// serves whole-piece REQUESTs in order, REJECTs what it does not have, drops
// CANCELled requests not yet queued, and sends HAVE as a download of that file
// verifies new pieces. Anything malformed closes that one peer.
//
// Piece data never passes through user space on a plain link: each piece goes
// out as one frame of its head and a range of the file (FramedConn::send_frame,
// sendfile), after
// check_intact() of its Servable. A connection keeps at most about two pieces
// in its output and stops reading requests while it holds more, so memory and
// queued work per peer stay bounded whatever the peer asks for. All
// connections share one upload rate limit (a bufferevent rate-limit group).
//
// With that limit set, a complete file is served as a capped seeder should
// (PieceSpreader): each peer is told only of a few pieces nobody else was
// sent, and of the rest once every piece has gone out (or once it sits idle
// on its offers: it has them from elsewhere, e.g. a restarted downloader), so
// that a crowd of downloaders gets each piece from here about once and the
// rest from each other.
//
// Access tickets (with Options::tickets, i.e. on TLS links): the client's
// handshake must carry a ticket for the file held by the key its link proved
// (TicketBook::check), else the link closes before anything is sent, not even
// whether the file is served here. Our answer carries our own ticket for the
// file, fetched from the tracker first when we have none fresh, so the client
// knows we are a member too. Each side sends renewed tickets (TICKET); a
// link whose peer's ticket expired unrenewed is closed.
//
// Serving follows the session (set_serving): while this daemon has no live
// session it accepts nothing, and turning serving off closes every peer.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "endpoint.h"
#include "framed_conn.h"
#include "log_throttle.h"
#include "peer_wire.h"
#include "piece_spreader.h"
#include "result.h"
#include "serve_registry.h"
#include "ticket_book.h"

namespace gs::daemon {

class PeerServer {
 public:
  struct Options {
    Endpoint listen;
    Seat seat{};                  // sent in our handshake
    uint64_t max_upload_rate = 0;  // bytes per second over all peers; 0 = unlimited
    // With max_upload_rate set: spread complete files (PieceSpreader).
    bool spread_when_capped = true;
    bool corrupt_uploads = false;  // test hook: flip one byte of every piece served
    int handshake_timeout_seconds = 10;
    int idle_timeout_seconds = 120;  // nothing read, or no write progress, for this long: close
    size_t max_connections = 256;
    // From one source address at once (daemon.max_peer_connections_per_address);
    // more are closed as they come.
    size_t max_connections_per_address = 16;
    // Requests one connection may have waiting beyond what is already in its
    // output (daemon.max_pending_requests_per_peer); a peer that piles up
    // more is closed as misbehaving. A downloader pipelines a handful.
    size_t max_pending_requests = 64;
    const TlsContext* tls = nullptr;  // null: plain links (tls = false)
    // Null, or not enabled(): no tickets asked or given (tls = false). Else
    // outlives the server.
    TicketBook* tickets = nullptr;
  };

  // Binds the port at once, so a port in use is a clear startup error.
  static Result<std::unique_ptr<PeerServer>> open(event_base* base, Options options, ServeRegistry& registry);
  // Closes every connection. Takes over the registry's listener until then.
  ~PeerServer();
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  // The port actually bound (differs from the configured one only for port 0).
  uint16_t port() const { return listener_->port(); }
  // "HOST:PORT" as bound.
  std::string address() const;

  // A new upload rate (0: unlimited) for every connection, the open ones
  // included: the rate-limit group is reconfigured in place (made, and the
  // open connections put in it, when the first limit comes). Spreading
  // (PieceSpreader) follows the rate for connections opened from now on.
  // False when libevent cannot make the limit (out of memory); the old
  // rate stays.
  bool set_max_upload_rate(uint64_t bytes_per_second);
  uint64_t max_upload_rate() const { return options_.max_upload_rate; }
  // Reloaded limits; connections already open over a lowered per-address
  // limit stay.
  void set_limits(size_t max_connections_per_address, size_t max_pending_requests) {
    options_.max_connections_per_address = max_connections_per_address;
    options_.max_pending_requests = max_pending_requests;
  }

  // Off at first. Off closes every peer and refuses new ones.
  void set_serving(bool on);
  bool serving() const { return serving_; }

  // Bytes handed to the kernel for peers (piece data and framing), over the
  // life of this server, including the connections still open.
  uint64_t uploaded_bytes() const;
  struct PeerInfo {
    std::string peer;
    std::string file_id;  // hex; empty before the handshake
    uint64_t uploaded_bytes = 0;
  };
  std::vector<PeerInfo> peers() const;

  // GS_TEST_HOOKS builds only: true when GS_TEST_CORRUPT_UPLOADS=1 is set
  // (logs a warning); always false otherwise.
  static bool corrupt_uploads_requested();

 private:
  struct Conn;
  using Clock = std::chrono::steady_clock;
  // The spreading state of one file, while it has spread connections.
  struct Spread {
    Spread(uint32_t piece_count, uint64_t seed) : spreader(piece_count, seed) {}
    PieceSpreader spreader;
    std::unordered_map<PeerKey, Conn*> conns;
  };

  PeerServer(event_base* base, Options options, ServeRegistry& registry);
  void on_accept(evutil_socket_t fd, const std::string& peer);
  void on_frame(Conn& c, std::string_view payload);
  void on_handshake(Conn& c, std::string_view payload);
  // Our handshake (with `mine`, our ticket, when tickets are on) and BITFIELD.
  void answer_handshake(Conn& c, const HeldTicket* mine);
  // The ticket book has news of our ticket for `file_id`.
  void on_ticket(const Sha256Digest& file_id, const Error* error);
  // A ticket the peer sent (handshake or TICKET) is refused: logged (a line a
  // minute at most) and the link closed.
  void refuse_ticket(Conn& c, const Error& why);
  // Tickets on a live link: close it if theirs expired, renew ours.
  void tend_tickets(Conn& c, int64_t now);
  void on_message(Conn& c, std::string_view payload);
  void on_closed(Conn& c, const std::string& reason);
  void on_registry(const Sha256Digest& file_id, std::optional<PieceIndex> piece);
  void on_tick();
  // Moves pending requests into the output while it has room, then reads
  // again or stops reading depending on how full it is.
  void pump(Conn& c);
  // Queues one piece (or a REJECT). False when the connection was closed.
  bool serve_piece(Conn& c, PieceIndex piece);
  // Opens the file served on `c` (once per connection and path): s.path,
  // unless `c` has it open already; an error with code "file_changed" when
  // s.check_opened refuses what was opened.
  Status open_file(Conn& c, const Servable& s);
  // Queues a PIECE frame with the piece's data. False when the connection
  // was closed (out of memory).
  bool send_piece(Conn& c, PieceIndex piece, uint64_t offset, uint32_t length);
  // False when the connection was closed (out of memory).
  bool send(Conn& c, std::string_view payload);
  void update_sent(Conn& c);
  void close_all(const std::string& reason);
  // The BITFIELD of a new connection to a complete file: the spreader's
  // offers when spreading, else every piece.
  Bitfield spread_bitfield(Conn& c, uint32_t piece_count);
  // HAVEs for what the spreader says each peer may now ask for.
  void advertise(Spread& spread, const std::vector<PieceSpreader::Advert>& adverts);
  void unspread(Conn& c);

  event_base* base_;
  Options options_;
  ServeRegistry& registry_;
  Listener* listener_ = nullptr;
  event* tick_ = nullptr;
  ev_token_bucket_cfg* rate_cfg_ = nullptr;
  bufferevent_rate_limit_group* rate_group_ = nullptr;
  bool serving_ = false;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_;
  std::map<Sha256Digest, std::unique_ptr<Spread>> spreads_;
  PeerKey next_spread_key_ = 1;
  uint64_t closed_uploaded_ = 0;  // what connections already closed sent
  // Connections open per source address; an address leaves with its last one.
  std::unordered_map<std::string, size_t> per_address_;
  // Hitting a limit is logged once, then at most once a minute with a count.
  LogThrottle per_address_refusals_log_;
  LogThrottle too_many_requests_log_;
  LogThrottle ticket_refusals_log_;
};

}  // namespace gs::daemon
