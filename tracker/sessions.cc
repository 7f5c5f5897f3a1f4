#include "sessions.h"

#include <algorithm>

namespace gs::tracker {

Sessions::Sessions(const Clock& clock, Seconds ttl)
    : clock_(clock), ttl_(ttl), grace_until_(clock.now() + ttl) {}

void Sessions::start_grace() {
  last_seen_.clear();
  grace_until_ = clock_.now() + ttl_;
}

void Sessions::touch(const std::string& token_hash) { last_seen_[token_hash] = clock_.now(); }

void Sessions::forget(const std::string& token_hash) { last_seen_.erase(token_hash); }

bool Sessions::live(const std::string& token_hash) const { return live(token_hash, clock_.now()); }

bool Sessions::live(const std::string& token_hash, Instant now) const {
  if (now < grace_until_) return true;
  const auto it = last_seen_.find(token_hash);
  const Seconds ttl = now < relaxed_until_ ? std::max(ttl_, relaxed_ttl_) : ttl_;
  return it != last_seen_.end() && now - it->second <= ttl;
}

void Sessions::set_ttl(Seconds ttl) {
  if (ttl < ttl_) {
    relaxed_ttl_ = ttl_;
    relaxed_until_ = clock_.now() + ttl_;
  }
  ttl_ = ttl;
}

}  // namespace gs::tracker
