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

// The grace timer's argument: which WritePaths, which file system.
struct Grace {
  WritePaths* self;
  uint64_t dev;
};

}  // namespace

WritePaths::WritePaths(event_base* base, WorkerPool& pool, WritePathSetting setting, WritePathPolicy::Params params,
                       WriteProbeLimits limits, Probe probe)
    : base_(base), pool_(pool), policy_(setting, params), limits_(limits), probe_(std::move(probe)) {
  if (!probe_) probe_ = [limits](int dir_fd) { return probe_write_paths(dir_fd, limits); };
}

WritePaths::~WritePaths() {
  for (auto& [dev, m] : measuring_) {
    if (!m.grace) continue;
    delete static_cast<Grace*>(event_get_callback_arg(m.grace));
    event_free(m.grace);
  }
}

bool WritePaths::choose(const std::shared_ptr<PartFile>& part, uint64_t file_size, std::function<void()> ready) {
  const uint64_t dev = part->identity().dev;
  const auto answer = policy_.on_download(dev, file_size);
  switch (answer.step) {
    case WritePathPolicy::Step::use:
      part->use_direct(answer.path == WritePath::direct);
      return true;
    case WritePathPolicy::Step::use_for_now:
      part->use_direct(answer.path == WritePath::direct);
      measuring_[dev].for_now.push_back(part);
      return true;
    case WritePathPolicy::Step::wait:
      measuring_[dev].waiting.push_back(std::move(ready));
      return false;
    case WritePathPolicy::Step::probe:
      break;
  }
  Measuring& m = measuring_[dev];
  m.waiting.push_back(std::move(ready));
  auto* grace = new Grace{this, dev};
  m.grace = evtimer_new(base_, &WritePaths::on_grace, grace);
  const auto wait = policy_.params().max_wait;
  const timeval tv{static_cast<time_t>(wait.count() / 1000), static_cast<suseconds_t>(wait.count() % 1000 * 1000)};
  evtimer_add(m.grace, &tv);
  auto rates = std::make_shared<Result<WriteRates>>(make_error("io_error", "the probe did not run"));
  // The job holds the partial file, and so its directory, until it is done.
  pool_.post([part, rates, probe = probe_] { *rates = probe(part->dir().fd()); },
             [alive = std::weak_ptr<WritePaths*>(alive_), dev, dir = part->dir().path(), rates] {
               if (auto a = alive.lock()) (*a)->probed(dev, dir, *rates);
             });
  return false;
}

void WritePaths::on_grace(evutil_socket_t, short, void* arg) {
  const auto* g = static_cast<Grace*>(arg);
  g->self->policy_.on_max_wait(g->dev);
  g->self->release_waiting(g->dev);
}

// The downloads waiting for `dev` ask again: the probe is done, or it took
// max_wait and they start buffered.
void WritePaths::release_waiting(uint64_t dev) {
  auto it = measuring_.find(dev);
  if (it == measuring_.end()) return;
  auto waiting = std::move(it->second.waiting);
  it->second.waiting.clear();
  for (auto& ready : waiting) ready();  // may call choose(): `it` is not used after this
}

void WritePaths::probed(uint64_t dev, const std::string& dir, const Result<WriteRates>& rates) {
  const WritePath path = policy_.on_probed(dev, rates ? std::optional<WriteRates>(*rates) : std::nullopt);
  const std::string where = "write path for " + dir + " (file system " + dev_name(dev) + "): ";
  if (!rates) {
    log_warn(where, write_path_name(path), ", since the probe failed: ", rates.error().message);
  } else {
    log_info(where, write_path_name(path), " (probe, best of ", limits_.rounds, " rounds of ", limits_.round_bytes >> 20,
             " MiB each, synced: direct ", rates->direct > 0 ? mib_per_s(rates->direct) : "refused", ", buffered ",
             mib_per_s(rates->buffered), "; buffered must be ", std::llround(policy_.params().margin * 100),
             "% faster to be chosen)");
  }
  auto it = measuring_.find(dev);
  if (it == measuring_.end()) return;
  Measuring m = std::move(it->second);
  measuring_.erase(it);
  if (m.grace) {
    delete static_cast<Grace*>(event_get_callback_arg(m.grace));
    event_free(m.grace);
  }
  // Those that went ahead switch now: write_piece reads the choice per piece.
  for (const auto& weak : m.for_now) {
    if (auto part = weak.lock()) part->use_direct(path == WritePath::direct);
  }
  for (auto& ready : m.waiting) ready();
}

}  // namespace gs::daemon
