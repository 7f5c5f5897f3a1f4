// How a download shares the last pieces, and its requests in general, among
// peers of different speeds: which peer is too slow to be asked for pieces
// others also have, and when a piece already on order with one peer is worth
// asking of a second (an endgame duplicate).
//
// Why: with equal peers rarest-first is enough, but at the end of a download
// one slow peer holding the last piece holds up the whole file, and a piece
// asked of a capped seeder waits in its queue while a fast peer could have
// sent it. Duplicates cure the first and cost a whole piece each when both
// copies arrive, so they are rationed; exclusive picks cure the second and
// could starve a peer that only looks slow because nobody asked it for
// anything, so a slow peer with nothing on order always gets one piece.
//
// Pure: the caller passes each peer's measured pace and the time waited.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "download_rate.h"
#include "piece_picker.h"

namespace gs::daemon {

// What the download knows of one peer's speed right now.
struct PeerPace {
  uint64_t rate = 0;                          // bytes/s over the last seconds
  DownloadClock::duration measured_for{};     // how long its rate has been measured
  size_t outstanding = 0;                     // requests on order with it
};

class EndgameRules {
 public:
  explicit EndgameRules(DownloadClock::duration request_timeout) : request_timeout_(request_timeout) {}

  // Slower than a quarter of the fastest peer, measured for a second at
  // least: asked only for pieces nobody else has.
  static bool slow(const PeerPace& peer, uint64_t fastest_rate);
  // The scope of the first pick for this peer.
  static PickScope scope(const PeerPace& peer, uint64_t fastest_rate) {
    return slow(peer, fastest_rate) ? PickScope::exclusive : PickScope::any;
  }
  // A slow peer that got nothing exclusive and has nothing on order gets
  // one piece from the rest: without a request its rate can never show that
  // it is not slow after all (equal seeders, one ahead at the start).
  static bool starving(const PeerPace& peer, uint64_t fastest_rate, size_t picked) {
    return slow(peer, fastest_rate) && picked == 0 && peer.outstanding == 0;
  }
  // Endgame duplicates this peer may be given in one fill: one, and only
  // when nothing else is on order with it.
  static size_t duplicates_allowed(const PeerPace& peer) { return peer.outstanding == 0 ? 1 : 0; }

  // How long a request to `holder` may be out before a second copy of a
  // piece of `piece_length` bytes is worth asking for elsewhere: twice what
  // its rate says the pieces queued with it take, between half a second
  // and half the request timeout (a silent peer gets the latter).
  DownloadClock::duration patience(const PeerPace& holder, uint32_t piece_length) const;
  bool overdue(const PeerPace& holder, uint32_t piece_length, DownloadClock::duration waited) const {
    return waited >= patience(holder, piece_length);
  }

 private:
  DownloadClock::duration request_timeout_;
};

}  // namespace gs::daemon
