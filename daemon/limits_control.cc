#include "limits_control.h"

#include <string>

#include "log.h"

namespace gs::daemon {
namespace {

struct Slot {
  std::string_view meta;
  std::optional<uint64_t> LimitOverrides::*field;
};
constexpr Slot kSlots[] = {
    {kUploadRateMeta, &LimitOverrides::upload_rate},
    {kDownloadRateMeta, &LimitOverrides::download_rate},
    {kMaxPeersMeta, &LimitOverrides::max_peers},
};

}  // namespace

void LimitsControl::load(const DaemonConfig& config) {
  config_ = config;
  for (const Slot& s : kSlots) {
    overrides_.*(s.field) = parse_override_meta(state_.meta(std::string(s.meta)));
  }
  update();
}

void LimitsControl::set_config(const DaemonConfig& config) {
  const Limits before = effective_limits(config_, overrides_);
  const Limits after = effective_limits(config, overrides_);
  // The file changed under a runtime value: say why the change does nothing yet.
  const auto note = [](const char* key, const Limit& was, const Limit& now) {
    if (now.source == LimitSource::runtime && was.config_value != now.config_value) {
      log_info("daemon.", key, ": the file now says ", now.config_value,
               ", but the value set with gsctl limits (", now.value,
               ") stays in force until cleared (gsctl limits --reset)");
    }
  };
  note("max_upload_rate", before.upload_rate, after.upload_rate);
  note("max_download_rate", before.download_rate, after.download_rate);
  note("max_peers", before.max_peers, after.max_peers);
  config_ = config;
  update();
}

Result<Json> LimitsControl::request(const Json& args) {
  auto next = apply_limit_args(overrides_, args);
  if (!next) return next.error();
  for (const Slot& s : kSlots) {
    if ((*next).*(s.field) == overrides_.*(s.field)) continue;
    if (auto st = state_.set_meta(std::string(s.meta), override_meta_text((*next).*(s.field)));
        !st) {
      return st.error();
    }
    // Kept one by one: each row written is already in force, so what is
    // applied never differs from what a restart would read back.
    overrides_.*(s.field) = (*next).*(s.field);
  }
  update();
  return limits_json(limits_);
}

void LimitsControl::update() {
  const Limits next = effective_limits(config_, overrides_);
  if (applied_ && next == limits_) return;
  const auto line = [](const char* what, const Limit& l) {
    return std::string(what) + " " + std::to_string(l.value) + " (" +
           std::string(limit_source_name(l.source)) + ")";
  };
  if (applied_) {
    log_info("limits now: ", line("upload rate", next.upload_rate), ", ",
             line("download rate", next.download_rate), ", ", line("peers", next.max_peers));
  } else if (next.upload_rate.source == LimitSource::runtime ||
             next.download_rate.source == LimitSource::runtime ||
             next.max_peers.source == LimitSource::runtime) {
    log_info("limits set with gsctl limits (kept in gsd.db) override the config: ",
             line("upload rate", next.upload_rate), ", ", line("download rate", next.download_rate),
             ", ", line("peers", next.max_peers));
  }
  limits_ = next;
  applied_ = true;
  apply_(limits_);
}

}  // namespace gs::daemon
