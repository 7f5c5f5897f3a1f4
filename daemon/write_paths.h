// The write path of each file system downloads write into, for the daemon's
// life: WritePathPolicy's decisions, with the probe (write_probe.h) run on a
// worker thread and the answer brought back to the loop.
//
// A download asks before it fetches anything. The first download of at
// least Params::min_probed_file_size into a file system starts the probe
// and waits for it, as does every other download into that file system
// meanwhile: about 0.1-0.5 s on an SSD, at most about the probe's budget,
// once per file system. Waiting keeps the download's own writes out of the
// figures. The decision is logged once, with both rates.
#pragma once

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
  WritePaths(WorkerPool& pool, WritePathSetting setting, WritePathPolicy::Params params = {},
             WriteProbeLimits limits = {});
  WritePaths(const WritePaths&) = delete;
  WritePaths& operator=(const WritePaths&) = delete;

  // Loop thread, before the first piece of `part` (a download of
  // `file_size` bytes) is written. Sets which path its pieces take and
  // returns true; or, while its file system is being measured, returns false
  // and calls `ready` on the loop thread once that is done: ask again then.
  // `ready` may outlive its caller; it must check that it still has one.
  bool choose(const std::shared_ptr<PartFile>& part, uint64_t file_size, std::function<void()> ready);

  std::optional<WritePath> decided(uint64_t dev) const { return policy_.decided(dev); }

 private:
  void probed(uint64_t dev, const std::string& dir, const Result<WriteRates>& rates);

  WorkerPool& pool_;
  WritePathPolicy policy_;
  WriteProbeLimits limits_;
  std::map<uint64_t, std::vector<std::function<void()>>> waiting_;  // by file system, while it is measured
  // Lets a probe that finishes after this object is gone do nothing.
  std::shared_ptr<WritePaths*> alive_ = std::make_shared<WritePaths*>(this);
};

}  // namespace gs::daemon
