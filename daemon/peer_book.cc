#include "peer_book.h"

#include <algorithm>

#include "endpoint.h"

namespace gs::daemon {

std::string PeerBook::learn(const std::string& user, const std::string& host, uint16_t port) {
  std::string addr = Endpoint{host, port}.str();
  if (auto it = peers_.find(addr); it != peers_.end()) {
    it->second.user = user;
    return addr;
  }
  if (peers_.size() >= options_.max_known) return {};
  Peer p;
  p.user = user;
  p.host = host;
  p.port = port;
  peers_.emplace(addr, std::move(p));
  return addr;
}

std::vector<std::string> PeerBook::due(DownloadClock::time_point now, size_t max, std::string_view me) const {
  std::vector<std::string> out;
  for (const auto& [addr, p] : peers_) {
    if (out.size() >= max) break;
    if (p.link != 0 || p.banned || p.self || now < p.next_try || (!me.empty() && p.user == me)) continue;
    out.push_back(addr);
  }
  return out;
}

void PeerBook::linked(const std::string& addr, PeerKey link) {
  if (auto it = peers_.find(addr); it != peers_.end()) it->second.link = link;
}

void PeerBook::connect_failed(const std::string& addr, DownloadClock::time_point now) {
  auto it = peers_.find(addr);
  if (it == peers_.end()) return;
  it->second.link = 0;
  ++it->second.failures;
  back_off(it->second, now);
}

void PeerBook::closed(const std::string& addr, bool delivered, bool ourselves, DownloadClock::time_point now) {
  auto it = peers_.find(addr);
  if (it == peers_.end()) return;
  Peer& p = it->second;
  p.link = 0;
  if (ourselves) {
    p.self = true;
    return;
  }
  p.failures = delivered ? 1 : p.failures + 1;
  back_off(p, now);
}

void PeerBook::unlink_all() {
  for (auto& [addr, p] : peers_) p.link = 0;
}

PeerBook::Strike PeerBook::strike(const std::string& addr) {
  auto it = peers_.find(addr);
  if (it == peers_.end() || it->second.banned) return Strike::ignored;
  Peer& p = it->second;
  if (++p.strikes < options_.max_strikes) return Strike::counted;
  p.banned = true;
  return Strike::banned_now;
}

const PeerBook::Peer* PeerBook::find(const std::string& addr) const {
  auto it = peers_.find(addr);
  return it == peers_.end() ? nullptr : &it->second;
}

bool PeerBook::banned(const std::string& addr) const {
  const Peer* p = find(addr);
  return p && p->banned;
}

void PeerBook::back_off(Peer& p, DownloadClock::time_point now) {
  const int doublings = std::clamp(p.failures - 1, 0, 5);
  const auto wait = std::min<DownloadClock::duration>(options_.reconnect_min * (1 << doublings), options_.reconnect_max);
  p.next_try = now + wait;
}

}  // namespace gs::daemon
