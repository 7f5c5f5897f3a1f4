#include "sessions.h"

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
  return it != last_seen_.end() && now - it->second <= ttl_;
}

}  // namespace gs::tracker
