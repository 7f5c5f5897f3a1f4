// Every download of this daemon: starting new ones (download_file), listing
// them (show_downloads), resuming them when the session is ready (or one its
// disk paused, on resume), pausing them when it ends, and one timer that
// drives them all.
//
// A download belongs to the user whose session started it and runs only
// while that user is logged in here. At startup every stored download that
// was running resumes by itself once the session is ready.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <event2/event.h>

#include "download.h"
#include "download_store.h"
#include "json.h"
#include "result.h"
#include "session.h"

namespace gs::daemon {

// Where a download of `name` lands when asked for `dest`: an existing
// directory gets NAME appended, anything else is the path itself, whose
// directory must exist. `dest` must be absolute and hold no control
// character, and the last component of the result must be a valid file
// name (gs::file_name_problem). The directory part of the result is
// canonical (realpath(3): no symbolic link, no ".."), resolved now.
// Errors: bad_request, io_error (no such directory, a directory in the way).
Result<std::string> resolve_dest(const std::string& dest, const std::string& name);

class Downloads {
 public:
  struct Request {
    std::string group;
    std::string name;
    std::string dest;  // as given (absolute)
    bool force = false;
  };

  // env.store must be set; the manager keeps a copy of env for its downloads.
  explicit Downloads(DownloadEnv env);
  // Saves every download (shutdown()) and unregisters them from serving.
  ~Downloads();
  Downloads(const Downloads&) = delete;
  Downloads& operator=(const Downloads&) = delete;

  // Reads the stored downloads; nothing starts before the session is ready.
  Status load();
  // Session::add_observer target.
  void on_session_event(Session::Event event);

  // The refusal that needs no tracker: the same (group, name) is already
  // downloading or paused.
  Status precheck(const Request& request) const;
  // After the tracker's file_info answer: checks the destination (errors
  // io_error, already_downloading when another download writes there,
  // dest_exists), the answer (tracker_unreachable when it is not valid) and
  // the free space (no_space), then creates the partial file and starts. Result {group, name, dest, size, file_id}.
  Result<Json> add(const Request& request, const Json& file_info);
  // show_downloads: one entry per download, oldest first.
  Json show() const;
  // resume: the download of (group, name), paused by its disk, tries again
  // now (Download::resume). Result its show_downloads entry; errors
  // no_such_download, not_paused (complete or failed).
  Result<Json> resume(const std::string& group, const std::string& name);

  // What systemctl status shows of the downloads (daemon/status_line.h).
  struct Activity {
    size_t downloading = 0;
    size_t paused = 0;
    uint64_t rate = 0;  // bytes/s, all downloads together
  };
  Activity activity() const;

  // A last commit of every download. Idempotent.
  void shutdown();

  // Peer links of every download (TransferLimits counts them).
  size_t peer_links() const;
  // daemon.max_peers_per_download, reloaded: downloads open no more than
  // `n` links from now on; links over a lowered limit stay open.
  void set_max_peers_per_download(size_t n) { env_.options.max_peers = n; }

  // For tests.
  const Download* find(const std::string& group, const std::string& name) const;
  void tick_now();

 private:
  static void tick_cb(evutil_socket_t, short, void* self);
  // precheck(), then the destination: resolved, not another download's, and
  // not existing unless forced. Returns the resolved path.
  Result<std::string> check_dest(const Request& request) const;

  DownloadEnv env_;
  std::vector<std::unique_ptr<Download>> list_;
  event* tick_ = nullptr;
  bool shut_down_ = false;
};

}  // namespace gs::daemon
