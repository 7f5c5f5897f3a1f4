// One outgoing peer connection of a download: it only downloads. (Incoming
// connections only serve; two daemons that fetch from each other use two
// links, one each way.)
//
//   connect -> send handshake -> their handshake (same file, not our seat)
//           -> their BITFIELD -> ready: HAVEs, REQUEST/PIECE, CANCEL, REJECT
//
// PeerClient speaks the wire and enforces it; the download decides what to
// ask for. With tickets on (Params::tickets), our handshake carries our
// ticket for the file and the peer's must carry one held by the key its link
// proved (the seeder proves it is a member); renewed tickets go both ways
// (TICKET), and the link closes once the peer's ticket expires unrenewed. Any violation (a bad frame, a second BITFIELD, a PIECE of the
// wrong length or one never requested) closes this link only.
//
// Lifetime: the owner holds the PeerClient; the FramedConn owns itself.
// on_peer_closed is the last call the owner gets, and the owner must not
// destroy the PeerClient inside any of its callbacks (it parks it and frees
// it later). After close() the owner must not touch it either: close() may
// run on_peer_closed at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <event2/event.h>

#include "bitfield.h"
#include "download_rate.h"
#include "endpoint.h"
#include "file_meta.h"
#include "framed_conn.h"
#include "peer_wire.h"
#include "piece_picker.h"
#include "ticket_book.h"

namespace gs::daemon {

// A piece's bytes on their way to be hashed and written; recycled by the
// download (Download::give_back). A PIECE payload lands at kPieceLandingOffset
// in it, which puts the piece's data (after the message's type and index)
// at a page boundary, as direct I/O wants (see write_piece).
using PieceBuffer = std::shared_ptr<char[]>;
inline constexpr size_t kPieceDataOffset = 4096;
inline constexpr size_t kPieceLandingOffset = kPieceDataOffset - kPieceMessageOverhead;

class PeerClient {
 public:
  class Owner {
   public:
    // Handshake and BITFIELD are in: has() is valid.
    virtual void on_peer_ready(PeerClient& peer) = 0;
    virtual void on_peer_have(PeerClient& peer, PieceIndex piece) = 0;
    // A piece we asked this peer for, of the right length. `data` lies in
    // `buffer` (one the owner's piece_buffer gave, now the owner's again), or,
    // when `buffer` is null, lives only for the call.
    virtual void on_peer_piece(PeerClient& peer, PieceIndex piece, std::string_view data, PieceBuffer buffer) = 0;
    // A buffer for the payload (`size` bytes) of a PIECE frame that is
    // arriving: the payload is received into it straight from the socket.
    // nullptr: the owner has none (or `size` is not a piece of its file).
    virtual PieceBuffer piece_buffer(size_t size) { (void)size; return nullptr; }
    // An outstanding request was refused; it is no longer outstanding.
    virtual void on_peer_reject(PeerClient& peer, PieceIndex piece) = 0;
    // The link is gone; its outstanding requests with it.
    virtual void on_peer_closed(PeerClient& peer, const std::string& reason) = 0;

   protected:
    ~Owner() = default;
  };

  struct Params {
    PeerKey key = 0;
    std::string user;  // as the tracker named it
    std::string addr;  // "HOST:PORT", for logs and show_downloads
    Sha256Digest file_id{};
    Seat seat{};       // ours: sent in the handshake, and refused in theirs
    const FileMeta* meta = nullptr;  // outlives the PeerClient
    const TlsContext* tls = nullptr;  // null: a plain link (tls = false)
    // Null, or not enabled(): no tickets (tls = false). Else outlives us;
    // our ticket is its fresh() one for file_id.
    const TicketBook* tickets = nullptr;
  };

  // How long the handshake and the BITFIELD may take.
  static constexpr int kHandshakeTimeoutSeconds = 15;
  // Keep-alive after this much silence from us, so idle links stay up.
  static constexpr auto kKeepAliveAfter = std::chrono::seconds(30);
  // Late pieces (after a CANCEL or a timeout) we still accept quietly.
  static constexpr size_t kMaxLate = 64;

  PeerClient(Owner& owner, Params params);
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // Starts connecting; an error when not even that was possible (then no
  // callback follows).
  Status start(event_base* base, const SockAddr& to);
  // Closes the link; on_peer_closed follows (perhaps before this returns).
  void close(const std::string& reason);
  // Closes the link without calling the owner back: for an owner that is
  // letting go of every peer at once (pause, failure, completion).
  void abandon(const std::string& reason);

  PeerKey key() const { return p_.key; }
  const std::string& user() const { return p_.user; }
  const std::string& addr() const { return p_.addr; }
  bool ready() const { return ready_; }
  const Bitfield& has() const { return has_; }

  // --- requests (ready only) ---
  void request(PieceIndex piece, DownloadClock::time_point now);
  // Drops an outstanding request and tells the peer (endgame duplicates).
  void cancel(PieceIndex piece);
  // Requests older than `timeout`: no longer outstanding (a late answer is
  // still accepted), returned so the owner can hand them to someone else.
  std::vector<PieceIndex> expire(DownloadClock::time_point now, DownloadClock::duration timeout);
  size_t outstanding() const { return outstanding_.size(); }
  bool requested(PieceIndex piece) const { return outstanding_.count(piece) != 0; }
  // When the outstanding request for `piece` was sent; nullopt if none.
  std::optional<DownloadClock::time_point> requested_at(PieceIndex piece) const {
    auto it = outstanding_.find(piece);
    if (it == outstanding_.end()) return std::nullopt;
    return it->second;
  }

  // Back-pressure: stop or restart reading (pieces wait in the kernel).
  void set_reading(bool on);
  // Keep-alive when we have been silent for long; tickets: renew ours, close
  // the link if theirs expired.
  void tick(DownloadClock::time_point now);

  PipelineDepth& pipeline() { return pipeline_; }
  const RateMeter& rate() const { return rate_; }
  uint64_t bytes_received() const { return bytes_received_; }
  // Requests that timed out since the last piece from this peer.
  int timeouts_in_row() const { return timeouts_in_row_; }
  // Its handshake carried our own seat: this daemon reached itself.
  bool ourselves() const { return ourselves_; }

 private:
  void on_connected();
  void on_frame(std::string_view payload);
  void on_close(const std::string& reason);
  char* landing_buffer(size_t size, std::string_view head);
  // `landed`: its payload is in landing_.
  void on_message(const PeerMessage& m, bool landed);
  void send(std::string_view payload);
  void violation(const std::string& what);
  bool tickets_on() const { return p_.tickets && p_.tickets->enabled(); }
  void remember_late(PieceIndex piece);
  bool take_late(PieceIndex piece);

  Owner& owner_;
  Params p_;
  bool ourselves_ = false;
  FramedConn* conn_ = nullptr;
  // The piece payload being received (see landing_buffer); kept with the
  // link, so it outlives the reads into it.
  PieceBuffer landing_;
  bool got_handshake_ = false;
  bool ready_ = false;
  Bitfield has_;
  std::map<PieceIndex, DownloadClock::time_point> outstanding_;
  std::deque<PieceIndex> late_;
  PipelineDepth pipeline_;
  RateMeter rate_;
  uint64_t bytes_received_ = 0;
  int timeouts_in_row_ = 0;
  DownloadClock::time_point last_send_{};
  int64_t sent_expires_ = 0;   // Unix seconds: the last ticket we sent
  int64_t their_expires_ = 0;  // ... and theirs
};

}  // namespace gs::daemon
