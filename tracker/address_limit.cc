#include "address_limit.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <vector>

#include <arpa/inet.h>

namespace gs::tracker {

std::string address_key(std::string_view host) {
  // inet_pton wants a terminated string; a longer "host" is no address.
  char text[INET6_ADDRSTRLEN] = {};
  if (host.size() >= sizeof text) return std::string(host);
  std::memcpy(text, host.data(), host.size());
  unsigned char bytes[16];
  if (inet_pton(AF_INET6, text, bytes) != 1) return std::string(host);
  std::memset(bytes + 8, 0, 8);
  char prefix[INET6_ADDRSTRLEN];
  if (!inet_ntop(AF_INET6, bytes, prefix, sizeof prefix)) return std::string(host);
  return std::string(prefix) + "/64";
}

std::optional<Seconds> AddressLimiter::blocked(const std::string& host, Instant now) const {
  if (params_.delay <= Seconds::zero() || host.empty()) return std::nullopt;
  const auto it = drained_at_.find(address_key(host));
  if (it == drained_at_.end()) return std::nullopt;
  // Each failure adds one delay to the count (kept as time); the address
  // waits while more than failures_before_delay - 1 of them are left.
  const auto allowed = params_.delay * (params_.failures_before_delay - 1);
  const auto owed = it->second - now;
  if (owed <= allowed) return std::nullopt;
  // Round up: "try again in 0 s" while still refused would be a lie.
  auto left = std::chrono::ceil<Seconds>(owed - allowed);
  return left < Seconds(1) ? Seconds(1) : left;
}

void AddressLimiter::failure(const std::string& host, Instant now) {
  if (params_.delay <= Seconds::zero() || host.empty()) return;
  std::string key = address_key(host);
  auto it = drained_at_.find(key);
  if (it == drained_at_.end()) {
    if (drained_at_.size() >= params_.max_tracked) make_room(now);
    it = drained_at_.emplace(std::move(key), now).first;
  }
  it->second = std::max(it->second, now) + params_.delay;
}

void AddressLimiter::make_room(Instant now) {
  for (auto it = drained_at_.begin(); it != drained_at_.end();) {
    it = it->second <= now ? drained_at_.erase(it) : std::next(it);
  }
  if (drained_at_.size() < params_.max_tracked) return;
  const size_t keep = params_.max_tracked - std::max<size_t>(1, params_.max_tracked / 8);
  std::vector<Instant> times;
  times.reserve(drained_at_.size());
  for (const auto& [key, at] : drained_at_) times.push_back(at);
  // Everything drained before the (size - keep)-th earliest instant goes, and
  // at that instant only as many as needed: ties must not empty the table.
  const size_t drop = drained_at_.size() - keep;
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(drop - 1), times.end());
  const Instant cut = times[drop - 1];
  size_t dropped = 0;
  for (auto it = drained_at_.begin(); it != drained_at_.end() && dropped < drop;) {
    if (it->second < cut) {
      it = drained_at_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  for (auto it = drained_at_.begin(); it != drained_at_.end() && dropped < drop;) {
    if (it->second == cut) {
      it = drained_at_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
}

}  // namespace gs::tracker
