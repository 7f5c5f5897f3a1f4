// The files this daemon's user shares: upload (hash, tell the tracker, keep,
// serve), adopt (a finished download becomes a share without rehashing),
// stop, and the bookkeeping that follows the session: every active share is
// announced again when the session is ready on a tracker (login, resume after
// a reconnect, failover or restart), and a share whose file changed on disk is
// marked broken and never served again.
//
// Loop thread only. Hashing runs on the WorkerPool; the share store (sqlite)
// is written on the loop, one small row per change.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "control_request.h"
#include "file_meta.h"
#include "json.h"
#include "result.h"
#include "serve_registry.h"
#include "session.h"
#include "share_store.h"
#include "tracker_api.h"
#include "worker_pool.h"

namespace gs::daemon {

class Shares {
 public:
  using Done = std::function<void(Result<Json>)>;

  Shares(ShareStore& store, ServeRegistry& registry, Session& session, WorkerPool& pool);
  // Cancels hashing in flight; its reply is never sent (the daemon is stopping).
  ~Shares();
  Shares(const Shares&) = delete;
  Shares& operator=(const Shares&) = delete;

  // At startup: checks every active share against its file (stat) and marks
  // the changed ones broken; registers those of the stored session's user.
  void load();

  // upload_file: `path` absolute; result {group, name, size, file_id}. The
  // file is shared under the last component of `path` (a valid file name,
  // else bad_request). Symbolic links in `path` are resolved once, when it
  // is hashed: the share keeps the real path and the file's device and
  // inode, and from then on is only served, and re-shared at startup, while
  // that path names that very file, never through a link put in its place.
  // `progress`, when given, counts the bytes hashed of the file's size.
  void upload(const std::string& path, const std::string& group, Done done,
              std::shared_ptr<ControlProgress> progress = nullptr);

  // A download of `user`'s finished: `path` holds exactly `meta`, every
  // piece verified. Registers it as a share of `group` under the path's
  // basename without hashing it again. The share is saved before this
  // returns (the download's completion is recorded after it), and, while
  // `user` is the registered user, the registry entry for meta.file_id is
  // replaced at once so serving never pauses: the caller must NOT remove()
  // that file id from the ServeRegistry afterwards. The tracker is told now
  // if `user` is logged in and reachable, else on the next session ready.
  // A refusal by the tracker marks the share stopped. Result {group, name,
  // size, file_id}. `path` is not followed if it is a symbolic link (that is
  // not the download's file); `expect`, what the download saw of its file
  // when it verified it there (same device, inode, size and mtime), is what
  // `path` must still be.
  void adopt(const std::string& user, const std::string& group, const std::string& path, const FileMeta& meta,
             Done done, std::optional<FileStamp> expect = std::nullopt);

  // stop_share: tells the tracker, then stops serving and marks it stopped.
  // When the tracker no longer has it (not_sharing, no_such_file, or the user
  // left the group) a local share is stopped all the same.
  void stop(const std::string& group, const std::string& name, Done done);

  // The user left `group` (the tracker has dropped their shares there).
  void group_left(const std::string& group);

  // Session::add_observer target: `ready` registers the user's shares (if
  // they are not yet) and announces every one again; `ended` unregisters them.
  void on_session_event(Session::Event event);

  // Active shares of the current user (for tests and status).
  size_t active_count() const { return active_.size(); }

 private:
  struct Live;  // an active, registered share
  using Key = std::pair<std::string, std::string>;  // (group, name)

  void share_with_tracker(ShareRecord rec, Done done);
  Status keep(const ShareRecord& rec);
  void activate(ShareRecord rec);
  // Only if the share under `key` is still the one with `file_id`.
  void deactivate(const Key& key, const Sha256Digest& file_id);
  void announce_all();
  void register_user(const std::string& user);
  void unregister_all();
  void broken(const Key& key, const Sha256Digest& file_id, const Error& why);
  void mark(const std::string& user, const Key& key, ShareState state, const std::string& reason);
  void tell_stop(const std::string& group, const std::string& name);
  // (Re)points the registry entry of a file id at one of its live shares
  // (two names, or two groups, may hold the same content), or removes it
  // when none is left.
  void refresh_registry(const Sha256Digest& file_id);
  // A tracker request with the session token; forgets the session when the
  // tracker says it is gone. `done` may run before this returns.
  void with_token(const std::string& op, TrackerApi::Fields fields, TrackerApi::Done done);

  ShareStore& store_;
  ServeRegistry& registry_;
  Session& session_;
  WorkerPool& pool_;
  std::string registered_user_;  // whose shares are in active_
  std::map<Key, std::unique_ptr<Live>> active_;
  std::set<Sha256Digest> owned_ids_;  // registry entries that are ours
  // Set on destruction, so that hashing in flight stops early.
  std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
  // Completions (worker pool, tracker) that arrive after destruction find it expired.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gs::daemon
