#include "write_path.h"

namespace gs::daemon {

std::string_view write_path_name(WritePath path) {
  return path == WritePath::direct ? "direct" : "buffered";
}

std::string_view write_path_setting_name(WritePathSetting setting) {
  switch (setting) {
    case WritePathSetting::automatic: return "auto";
    case WritePathSetting::direct: return "direct";
    case WritePathSetting::buffered: return "buffered";
  }
  return "auto";
}

std::optional<WritePathSetting> parse_write_path_setting(std::string_view text) {
  if (text == "auto") return WritePathSetting::automatic;
  if (text == "direct") return WritePathSetting::direct;
  if (text == "buffered") return WritePathSetting::buffered;
  return std::nullopt;
}

WritePath WritePathPolicy::choose(const std::optional<WriteRates>& rates, double margin) {
  if (!rates) return WritePath::buffered;
  if (rates->direct <= 0) return WritePath::buffered;
  return rates->buffered > rates->direct * (1 + margin) ? WritePath::buffered : WritePath::direct;
}

WritePathPolicy::WritePathPolicy(WritePathSetting setting, Params params) : setting_(setting), params_(params) {}

WritePathPolicy::Answer WritePathPolicy::on_download(uint64_t dev, uint64_t file_size) {
  switch (setting_) {
    case WritePathSetting::direct: return {Step::use, WritePath::direct};
    case WritePathSetting::buffered: return {Step::use, WritePath::buffered};
    case WritePathSetting::automatic: break;
  }
  if (auto it = devs_.find(dev); it != devs_.end()) {
    if (it->second.path) return {Step::use, *it->second.path};
    // While it is measured, even a small download waits (a fraction of a
    // second): its writes would disturb the figures. Up to max_wait.
    if (!it->second.waited_enough) return {Step::wait, WritePath::buffered};
    return {Step::use_for_now, WritePath::buffered};
  }
  if (file_size < params_.min_probed_file_size) return {Step::use, WritePath::buffered};
  devs_.emplace(dev, Dev{});
  return {Step::probe, WritePath::buffered};
}

void WritePathPolicy::on_max_wait(uint64_t dev) {
  auto it = devs_.find(dev);
  if (it != devs_.end() && !it->second.path) it->second.waited_enough = true;
}

WritePath WritePathPolicy::on_probed(uint64_t dev, const std::optional<WriteRates>& rates) {
  const WritePath path = choose(rates, params_.margin);
  devs_[dev].path = path;
  return path;
}

std::optional<WritePath> WritePathPolicy::decided(uint64_t dev) const {
  if (setting_ == WritePathSetting::direct) return WritePath::direct;
  if (setting_ == WritePathSetting::buffered) return WritePath::buffered;
  auto it = devs_.find(dev);
  if (it == devs_.end()) return std::nullopt;
  return it->second.path;
}

}  // namespace gs::daemon
