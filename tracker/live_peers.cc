#include "live_peers.h"

#include <algorithm>

#include "json.h"

namespace gs::tracker {

LivePeers::Session& LivePeers::session(const std::string& token_hash, const std::string& user) {
  auto it = sessions_.find(token_hash);
  if (it != sessions_.end() && it->second.user != user) {
    // A token hash names one user for the session's whole life; another user
    // under it is a new session: start it clean.
    end_session(token_hash);
    it = sessions_.end();
  }
  if (it == sessions_.end())
    it = sessions_.emplace(token_hash, Session{user, {}, {}, {}, {}}).first;
  return it->second;
}

void LivePeers::encode_entry(Session& s) {
  s.entry.clear();
  if (!s.port) return;
  s.entry = Json(Json::Object{{"user", s.user}, {"host", s.host}, {"port", *s.port}}).dump();
}

void LivePeers::set_session(const std::string& token_hash, const std::string& user, const std::string& host,
                            std::optional<uint16_t> port) {
  Session& s = session(token_hash, user);
  s.host = host;
  s.port = port;
  encode_entry(s);
}

void LivePeers::add(const std::string& token_hash, const std::string& user, const std::string& host,
                    const std::string& group, const std::string& file_id) {
  Session& s = session(token_hash, user);
  if (!host.empty() && host != s.host) {
    s.host = host;
    encode_entry(s);
  }
  s.files.emplace(group, file_id);
  groups_[group][file_id].insert_or_assign(token_hash, &s);
}

void LivePeers::erase_entry(const std::string& token_hash, const FileKey& key) {
  const auto g = groups_.find(key.first);
  if (g == groups_.end()) return;
  const auto f = g->second.find(key.second);
  if (f == g->second.end()) return;
  f->second.erase(token_hash);
  if (f->second.empty()) g->second.erase(f);
  if (g->second.empty()) groups_.erase(g);
}

void LivePeers::remove(const std::string& token_hash, const std::string& group, const std::string& file_id) {
  const auto it = sessions_.find(token_hash);
  if (it == sessions_.end()) return;
  const FileKey key{group, file_id};
  it->second.files.erase(key);
  erase_entry(token_hash, key);
}

void LivePeers::end_session(const std::string& token_hash) {
  const auto it = sessions_.find(token_hash);
  if (it == sessions_.end()) return;
  for (const FileKey& key : it->second.files) erase_entry(token_hash, key);
  sessions_.erase(it);
}

void LivePeers::remove_user_from_group(const std::string& user, const std::string& group) {
  const auto g = groups_.find(group);
  if (g == groups_.end()) return;
  for (auto f = g->second.begin(); f != g->second.end();) {
    PeerSet& set = f->second;
    for (auto t = set.begin(); t != set.end();) {
      if (t->second->user == user) {
        t->second->files.erase(FileKey{group, f->first});
        t = set.erase(t);
      } else {
        ++t;
      }
    }
    f = set.empty() ? g->second.erase(f) : std::next(f);
  }
  if (g->second.empty()) groups_.erase(g);
}

void LivePeers::drop_file(const std::string& group, const std::string& file_id) {
  const auto g = groups_.find(group);
  if (g == groups_.end()) return;
  const auto f = g->second.find(file_id);
  if (f == g->second.end()) return;
  const FileKey key{group, file_id};
  for (const auto& [token_hash, s] : f->second) s->files.erase(key);
  g->second.erase(f);
  if (g->second.empty()) groups_.erase(g);
}

void LivePeers::drop_group(const std::string& group) {
  const auto g = groups_.find(group);
  if (g == groups_.end()) return;
  for (const auto& [file_id, set] : g->second) {
    const FileKey key{group, file_id};
    for (const auto& [token_hash, s] : set) s->files.erase(key);
  }
  groups_.erase(g);
}

std::vector<const LivePeers::Session*> LivePeers::listable(const std::string& group, const std::string& file_id,
                                                           const IsLive& live) {
  std::vector<const Session*> out;
  const auto g = groups_.find(group);
  if (g == groups_.end()) return out;
  const auto f = g->second.find(file_id);
  if (f == g->second.end()) return out;
  std::vector<std::string> dead;
  for (const auto& [token_hash, s] : f->second) {
    if (!live(token_hash)) {
      dead.push_back(token_hash);
      continue;
    }
    if (s->port) out.push_back(s);
  }
  // Ending a session erases from this very set, and may erase the set:
  // only after the walk, and only pointers to live sessions are kept.
  for (const std::string& token_hash : dead) end_session(token_hash);
  return out;
}

std::vector<const LivePeers::Session*> LivePeers::pick(const std::string& group,
                                                       const std::string& file_id,
                                                       const IsLive& live,
                                                       const std::string& exclude_user,
                                                       size_t limit) {
  std::vector<const Session*> found = listable(group, file_id, live);
  std::erase_if(found, [&](const Session* s) { return s->user == exclude_user; });
  std::shuffle(found.begin(), found.end(), rng_);
  if (found.size() > limit) found.resize(limit);
  return found;
}

std::vector<PeerAddress> LivePeers::peers(const std::string& group, const std::string& file_id,
                                          const IsLive& live, const std::string& exclude_user,
                                          size_t limit) {
  std::vector<PeerAddress> out;
  for (const Session* s : pick(group, file_id, live, exclude_user, limit)) {
    out.push_back(PeerAddress{s->user, s->host, *s->port});
  }
  return out;
}

std::vector<const std::string*> LivePeers::peer_entries(const std::string& group,
                                                        const std::string& file_id,
                                                        const IsLive& live,
                                                        const std::string& exclude_user,
                                                        size_t limit) {
  std::vector<const std::string*> out;
  for (const Session* s : pick(group, file_id, live, exclude_user, limit)) out.push_back(&s->entry);
  return out;
}

size_t LivePeers::count(const std::string& group, const std::string& file_id, const IsLive& live) {
  return listable(group, file_id, live).size();
}

void LivePeers::prune(const IsLive& live) {
  std::vector<std::string> dead;
  for (const auto& [token_hash, s] : sessions_) {
    if (!live(token_hash)) dead.push_back(token_hash);
  }
  for (const std::string& token_hash : dead) end_session(token_hash);
}

size_t LivePeers::entries() const {
  size_t n = 0;
  for (const auto& [group, files] : groups_) {
    for (const auto& [file_id, set] : files) n += set.size();
  }
  return n;
}

}  // namespace gs::tracker
