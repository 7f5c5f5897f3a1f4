// The transfer limits at run time: the overrides of `gsctl limits`, kept in
// gsd.db, laid over the config (limits.h has the precedence), and pushed to
// what enforces them each time either changes.
#pragma once

#include <functional>

#include "config.h"
#include "json.h"
#include "limits.h"
#include "result.h"
#include "state.h"

namespace gs::daemon {

class LimitsControl {
 public:
  using Apply = std::function<void(const Limits&)>;
  // `apply` runs with the effective limits at load() and whenever they change.
  LimitsControl(State& state, Apply apply) : state_(state), apply_(std::move(apply)) {}

  // Reads the overrides kept in gsd.db and applies them over `config`.
  void load(const DaemonConfig& config);
  // After a reload: the file's values changed; overrides still win.
  void set_config(const DaemonConfig& config);
  // The `limits` request: changes (apply_limit_args), keeps them in gsd.db
  // (refused with state_error, nothing changed, when that fails), applies
  // them, and answers limits_json of the result. No args: just the limits.
  Result<Json> request(const Json& args);
  const Limits& current() const { return limits_; }

 private:
  void update();

  State& state_;
  Apply apply_;
  DaemonConfig config_;
  LimitOverrides overrides_;
  Limits limits_;
  bool applied_ = false;
};

}  // namespace gs::daemon
