#include "write_paths.h"

#include <sys/sysmacros.h>

#include <cmath>
#include <string>
#include <utility>

#include "log.h"

namespace gs::daemon {
namespace {

std::string mib_per_s(double bytes_per_s) {
  return std::to_string(std::llround(bytes_per_s / (1 << 20))) + " MiB/s";
}

std::string dev_name(uint64_t dev) {
  const auto d = static_cast<dev_t>(dev);
  return std::to_string(major(d)) + ":" + std::to_string(minor(d));
}

}  // namespace

WritePaths::WritePaths(WorkerPool& pool, WritePathSetting setting, WritePathPolicy::Params params,
                       WriteProbeLimits limits)
    : pool_(pool), policy_(setting, params), limits_(limits) {}

bool WritePaths::choose(const std::shared_ptr<PartFile>& part, uint64_t file_size, std::function<void()> ready) {
  const uint64_t dev = part->identity().dev;
  const auto answer = policy_.on_download(dev, file_size);
  switch (answer.step) {
    case WritePathPolicy::Step::use:
      part->use_direct(answer.path == WritePath::direct);
      return true;
    case WritePathPolicy::Step::wait:
      waiting_[dev].push_back(std::move(ready));
      return false;
    case WritePathPolicy::Step::probe:
      break;
  }
  waiting_[dev].push_back(std::move(ready));
  auto rates = std::make_shared<Result<WriteRates>>(make_error("io_error", "the probe did not run"));
  // The job holds the partial file, and so its directory, until it is done.
  pool_.post([part, rates, limits = limits_] { *rates = probe_write_paths(part->dir().fd(), limits); },
             [alive = std::weak_ptr<WritePaths*>(alive_), dev, dir = part->dir().path(), rates] {
               if (auto a = alive.lock()) (*a)->probed(dev, dir, *rates);
             });
  return false;
}

void WritePaths::probed(uint64_t dev, const std::string& dir, const Result<WriteRates>& rates) {
  const WritePath path = policy_.on_probed(dev, rates ? std::optional<WriteRates>(*rates) : std::nullopt);
  const std::string where = "write path for " + dir + " (file system " + dev_name(dev) + "): ";
  if (!rates) {
    log_warn(where, write_path_name(path), ", since the probe failed: ", rates.error().message);
  } else {
    log_info(where, write_path_name(path), " (probe, best of ", limits_.rounds, " rounds of ", limits_.round_bytes >> 20,
             " MiB each, synced: direct ", rates->direct > 0 ? mib_per_s(rates->direct) : "refused", ", buffered ",
             mib_per_s(rates->buffered), "; buffered must be ",
             std::llround(policy_.params().margin * 100), "% faster to be chosen)");
  }
  auto waiting = std::move(waiting_[dev]);
  waiting_.erase(dev);
  for (auto& ready : waiting) ready();
}

}  // namespace gs::daemon
