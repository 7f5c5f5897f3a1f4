#include "limits.h"

#include <charconv>

#include "command_args.h"
#include "rate_text.h"

namespace gs::daemon {
namespace {

Limit pick(const std::optional<uint64_t>& runtime, uint64_t config_value, bool in_file) {
  Limit l;
  l.config_value = config_value;
  if (runtime) {
    l.value = *runtime;
    l.source = LimitSource::runtime;
  } else {
    l.value = config_value;
    l.source = in_file ? LimitSource::config : LimitSource::default_value;
  }
  return l;
}

std::optional<uint64_t> parse_count(std::string_view text) {
  uint64_t n = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size())
    return std::nullopt;
  if (n > static_cast<uint64_t>(kMaxPeers)) return std::nullopt;
  return n;
}

// One argument: absent leaves `slot` alone, "default" clears it.
Status apply_one(const Json& args, std::string_view name, bool rate,
                 std::optional<uint64_t>& slot) {
  const Json* v = args.find(name);
  if (!v) return Ok{};
  const std::string takes =
      rate ? "a rate in bytes per second (like 10M, 500K, 2048; 0 is unlimited) or 'default'"
           : "a number of peers (0 is unlimited, at most " + std::to_string(kMaxPeers) +
                 ") or 'default'";
  std::optional<uint64_t> value;
  if (v->is_string()) {
    if (v->as_string() == "default") {
      slot.reset();
      return Ok{};
    }
    value = rate ? parse_rate(v->as_string()) : parse_count(v->as_string());
  } else if (v->is_int() && v->as_int() >= 0) {
    const auto n = static_cast<uint64_t>(v->as_int());
    if (n <= (rate ? kMaxRate : static_cast<uint64_t>(kMaxPeers))) value = n;
  }
  if (!value) return bad_request("'" + std::string(name) + "' takes " + takes);
  slot = value;
  return Ok{};
}

Json limit_json(const Limit& l) {
  return Json(Json::Object{{"value", l.value},
                           {"source", std::string(limit_source_name(l.source))},
                           {"config", l.config_value}});
}

}  // namespace

std::string_view limit_source_name(LimitSource s) {
  switch (s) {
    case LimitSource::default_value:
      return "default";
    case LimitSource::config:
      return "config";
    case LimitSource::runtime:
      return "runtime";
  }
  return "?";
}

Limits effective_limits(const DaemonConfig& c, const LimitOverrides& o) {
  const auto in_file = [&c](std::string_view key) { return c.keys_in_file.count(key) > 0; };
  Limits l;
  l.upload_rate = pick(o.upload_rate, c.max_upload_rate, in_file("daemon.max_upload_rate"));
  l.download_rate = pick(o.download_rate, c.max_download_rate, in_file("daemon.max_download_rate"));
  l.max_peers = pick(o.max_peers, static_cast<uint64_t>(c.max_peers), in_file("daemon.max_peers"));
  return l;
}

Result<LimitOverrides> apply_limit_args(LimitOverrides current, const Json& args) {
  if (const Json* reset = args.find("reset")) {
    if (!reset->is_bool()) return bad_request("'reset' takes true or false");
    if (reset->as_bool()) current = {};
  }
  if (auto s = apply_one(args, "upload", true, current.upload_rate); !s) return s.error();
  if (auto s = apply_one(args, "download", true, current.download_rate); !s) return s.error();
  if (auto s = apply_one(args, "peers", false, current.max_peers); !s) return s.error();
  return current;
}

Json limits_json(const Limits& l) {
  return Json(Json::Object{{"upload_rate", limit_json(l.upload_rate)},
                           {"download_rate", limit_json(l.download_rate)},
                           {"max_peers", limit_json(l.max_peers)}});
}

std::string override_meta_text(const std::optional<uint64_t>& value) {
  return value ? std::to_string(*value) : std::string();
}

std::optional<uint64_t> parse_override_meta(std::string_view text) {
  uint64_t n = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size())
    return std::nullopt;
  return n;
}

}  // namespace gs::daemon
