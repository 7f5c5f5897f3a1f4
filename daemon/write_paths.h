// The write path of each file system downloads write into, for the daemon's
// life: WritePathPolicy's decisions, with the probe (write_probe.h) run on a
// worker thread and the answer brought back to the loop.
//
// A download asks before it fetches anything. The first download of at
// least Params::min_probed_file_size into a file system starts the probe
// and waits for it, as does every other download into that file system
// meanwhile, so that their writes stay out of the figures: about 0.1-0.3 s
// on an SSD, once per file system. A probe still running after
// Params::max_wait lets them start through the page cache; they switch to
// the path decided once it is. The decision is logged once, with both rates.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "download_part.h"
#include "worker_pool.h"
#include "write_path.h"
#include "write_probe.h"

namespace gs::daemon {

class WritePaths {
 public:
  // Blocking, on a worker: the figures for the directory `dir_fd`.
  using Probe = std::function<Result<WriteRates>(int dir_fd)>;

  // `probe`: probe_write_paths with `limits` when empty (tests pass their own).
  WritePaths(event_base* base, WorkerPool& pool, WritePathSetting setting, WritePathPolicy::Params params = {},
             WriteProbeLimits limits = {}, Probe probe = {});
  ~WritePaths();
  WritePaths(const WritePaths&) = delete;
  WritePaths& operator=(const WritePaths&) = delete;

  // Loop thread, before the first piece of `part` (a download of
  // `file_size` bytes) is written. Sets which path its pieces take and
  // returns true; or, while its file system is being measured, returns false
  // and calls `ready` on the loop thread once that is done or has taken
  // max_wait: ask again then. `ready` may outlive its caller; it must check
  // that it still has one.
  bool choose(const std::shared_ptr<PartFile>& part, uint64_t file_size, std::function<void()> ready);

  std::optional<WritePath> decided(uint64_t dev) const { return policy_.decided(dev); }

 private:
  struct Measuring {
    std::vector<std::function<void()>> waiting;     // to call back
    std::vector<std::weak_ptr<PartFile>> for_now;   // writing buffered until it is decided
    event* grace = nullptr;                          // fires max_wait after the probe began
  };
  static void on_grace(evutil_socket_t, short, void* arg);
  void release_waiting(uint64_t dev);
  void probed(uint64_t dev, const std::string& dir, const Result<WriteRates>& rates);

  event_base* base_;
  WorkerPool& pool_;
  WritePathPolicy policy_;
  WriteProbeLimits limits_;
  Probe probe_;
  std::map<uint64_t, Measuring> measuring_;  // by file system
  // Lets a probe that finishes after this object is gone do nothing.
  std::shared_ptr<WritePaths*> alive_ = std::make_shared<WritePaths*>(this);
};

}  // namespace gs::daemon
