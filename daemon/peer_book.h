// The peers one download knows of, and what it has learned about each: how
// to reach it, whether a link to it is up, when to try it again after
// failures, how many bad pieces it sent, and whether it is banned or turned
// out to be this daemon itself.
//
// Why a class of its own: these rules decide who a download may talk to,
// and a slip either way costs a lot (a liar asked again and again, or an
// honest seeder shut out for good), so they are kept where a unit test can
// drive them with made-up facts and times.
//
// Rules:
//  - Back-off: each failed connection attempt, or link that closes having
//    delivered nothing, doubles the wait before the next try, from
//    reconnect_min up to reconnect_max. A link that delivered bytes starts
//    the count over (it was good; it may be back soon).
//  - Ban: a peer whose pieces failed verification max_strikes times is
//    banned for the life of the download: never connected again, its link
//    closed at once. Strikes are counted per address, since that is what a
//    connection reaches.
//  - Self: an address that answered with our own seat is never tried again.
//  - At most max_known addresses are remembered; later ones are ignored
//    until the download restarts.
//
// Pure: no sockets, no clock; the caller passes the time.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "download_rate.h"
#include "piece_picker.h"

namespace gs::daemon {

struct PeerBookOptions {
  size_t max_known = 256;
  DownloadClock::duration reconnect_min = std::chrono::seconds(1);
  DownloadClock::duration reconnect_max = std::chrono::seconds(30);
  int max_strikes = 3;
};

class PeerBook {
 public:
  using Options = PeerBookOptions;
  struct Peer {
    std::string user;
    std::string host;
    uint16_t port = 0;
    PeerKey link = 0;  // the live link to it, 0 if none
    int strikes = 0;
    bool banned = false;
    bool self = false;
    int failures = 0;  // in a row, for the back-off
    DownloadClock::time_point next_try{};
  };
  enum class Strike {
    counted,     // below the limit: keep using it
    banned_now,  // this strike banned it: close its link (Peer::link)
    ignored,     // unknown address, or banned already
  };

  explicit PeerBook(Options options = {}) : options_(options) {}

  // A peer the tracker listed under `user` at HOST:PORT. Returns its address
  // key ("HOST:PORT"), or "" when it is not remembered (the book is full).
  // A known address takes the new user name.
  std::string learn(const std::string& user, const std::string& host, uint16_t port);

  // Addresses to connect to now, in address order, at most `max`: no link
  // up, not banned, not ourselves, not backing off, and not listed under the
  // user `me` (our own user on another seat).
  std::vector<std::string> due(DownloadClock::time_point now, size_t max, std::string_view me) const;

  // A link to `addr` is being made (key) or could not even be started.
  void linked(const std::string& addr, PeerKey link);
  void connect_failed(const std::string& addr, DownloadClock::time_point now);
  // The link closed. `delivered`: it sent us bytes; `ourselves`: it proved to
  // be this daemon.
  void closed(const std::string& addr, bool delivered, bool ourselves, DownloadClock::time_point now);
  // Every link is gone at once (pause, failure, completion): no back-off.
  void unlink_all();

  // A piece from `addr` failed verification.
  Strike strike(const std::string& addr);

  const Peer* find(const std::string& addr) const;
  size_t size() const { return peers_.size(); }
  bool banned(const std::string& addr) const;

 private:
  void back_off(Peer& p, DownloadClock::time_point now);

  Options options_;
  std::map<std::string, Peer> peers_;  // by "HOST:PORT"
};

}  // namespace gs::daemon
