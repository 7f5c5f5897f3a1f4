// Who can serve each file right now: the soft half of the file catalogue.
//
// The catalogue (store.h) says durably which files a group has and who shares
// them. Whether anyone is online to serve a file is a different fact that
// changes every few seconds, so it is kept here, in memory only: a set of live
// sessions per (group, file id), filled by share_file and announce. It is not
// written to disk and not replicated; after a tracker restart (or a failover
// to another tracker) it is empty until daemons announce again, which they do
// after every reconnect.
//
// A session is listed with the host its tracker connection came from and the
// peer port it gave at login or resume. A session that gave no port can still
// announce, but is never listed: nobody could connect to it. A session that
// ends (logout, replacement, TTL) leaves every set; the liveness test is the
// caller's (Sessions), passed in so that listing never shows a session that
// has gone quiet, and prunes it on the way.
//
// Each listable session also keeps its entry of a file_info peer list as JSON
// text, made when its address changes: a look-up copies ready entries instead
// of building and encoding an object per peer, most of a look-up's work.
//
// Plain data structure, no clock and no I/O: the unit tests drive it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gs::tracker {

// Where a peer's daemon accepts peer wire connections.
struct PeerAddress {
  std::string user;
  std::string host;
  uint16_t port = 0;
  friend bool operator==(const PeerAddress&, const PeerAddress&) = default;
};

class LivePeers {
 public:
  using IsLive = std::function<bool(const std::string& token_hash)>;

  // login/resume: the session's user, the host its daemon connects from and
  // its peer port (none: never listed). The session's place in peer sets, if
  // any, stays.
  void set_session(const std::string& token_hash, const std::string& user, const std::string& host,
                   std::optional<uint16_t> port);
  // The session serves (some of) this file. `host` is where the request came
  // from; it replaces the one known, so a daemon that moved is found.
  void add(const std::string& token_hash, const std::string& user, const std::string& host, const std::string& group,
           const std::string& file_id);
  // The session no longer serves this file.
  void remove(const std::string& token_hash, const std::string& group, const std::string& file_id);
  // The session ended: it leaves every set and is forgotten.
  void end_session(const std::string& token_hash);
  // The user left the group: every session of theirs leaves the group's sets.
  void remove_user_from_group(const std::string& user, const std::string& group);
  // The file left the catalogue (no file of the group has this id any more).
  void drop_file(const std::string& group, const std::string& file_id);
  // The group was deleted.
  void drop_group(const std::string& group);

  // The live, listable peers of a file, at most `limit` of them, in random
  // order, leaving out `exclude_user`. Sessions that are not live are pruned.
  std::vector<PeerAddress> peers(const std::string& group, const std::string& file_id, const IsLive& live,
                                 const std::string& exclude_user, size_t limit);
  // The same pick as peers(), each peer as the JSON text of its entry in a
  // file_info answer: what Json(Object{{"user", …}, {"host", …}, {"port", …}}).dump()
  // gives. The pointers are valid until the next call that changes this.
  std::vector<const std::string*> peer_entries(const std::string& group, const std::string& file_id,
                                               const IsLive& live, const std::string& exclude_user,
                                               size_t limit);
  // How many live, listable peers a file has. Prunes like peers().
  size_t count(const std::string& group, const std::string& file_id, const IsLive& live);
  // Ends every session that is not live; the periodic sweep.
  void prune(const IsLive& live);

  size_t sessions() const { return sessions_.size(); }
  // Peer entries over all sets, listable or not.
  size_t entries() const;

 private:
  using FileKey = std::pair<std::string, std::string>;  // group, file id
  struct Session {
    std::string user;
    std::string host;
    std::optional<uint16_t> port;
    std::string entry;  // see peer_entries(); empty without a port
    std::set<FileKey> files;
  };
  // The live sessions of one file, by token hash. The pointers are into
  // sessions_ (whose elements stay put when it grows); a session leaves every
  // set before it is erased (end_session), so none dangles.
  using PeerSet = std::map<std::string, Session*>;

  Session& session(const std::string& token_hash, const std::string& user);
  void erase_entry(const std::string& token_hash, const FileKey& key);
  // The set's listable members, pruning the dead ones.
  std::vector<const Session*> listable(const std::string& group, const std::string& file_id, const IsLive& live);
  // What peers() and peer_entries() list.
  std::vector<const Session*> pick(const std::string& group, const std::string& file_id,
                                   const IsLive& live, const std::string& exclude_user,
                                   size_t limit);
  static void encode_entry(Session& s);

  std::unordered_map<std::string, Session> sessions_;
  std::map<std::string, std::map<std::string, PeerSet>> groups_;  // group -> file id -> sessions
  // Spreads downloaders over the peers when a list is cut to its limit.
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace gs::tracker
