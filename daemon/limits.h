// The daemon-wide transfer limits (upload rate, download rate, peers across
// all downloads) and where each value comes from. Pure: facts in, values out.
//
// Precedence, highest first:
//  1. runtime: set with `gsctl limits`, kept in gsd.db, so it outlives a
//     restart; it holds until cleared (`gsctl limits --reset`, or
//     `--upload default` for one value);
//  2. config: the key as the TOML file sets it, reread on SIGHUP;
//  3. default: the built-in value (0: unlimited).
// A reload that changes the file's value therefore does not undo a runtime
// override: the new file value shows as the config value, and takes effect
// when the override is cleared. The daemon never writes the TOML file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config.h"
#include "json.h"
#include "result.h"

namespace gs::daemon {

enum class LimitSource { default_value, config, runtime };
std::string_view limit_source_name(LimitSource s);  // "default", "config", "runtime"

// The values set with `gsctl limits`; nullopt: none, the file's applies.
struct LimitOverrides {
  std::optional<uint64_t> upload_rate;
  std::optional<uint64_t> download_rate;
  std::optional<uint64_t> max_peers;
  friend bool operator==(const LimitOverrides&, const LimitOverrides&) = default;
};

struct Limit {
  uint64_t value = 0;  // 0: unlimited
  LimitSource source = LimitSource::default_value;
  uint64_t config_value = 0;  // what the file (or the default) says, shown beside an override
  friend bool operator==(const Limit&, const Limit&) = default;
};

struct Limits {
  Limit upload_rate;    // bytes per second to peers
  Limit download_rate;  // bytes per second from peers
  Limit max_peers;      // peer connections of all downloads together
  friend bool operator==(const Limits&, const Limits&) = default;
};

Limits effective_limits(const DaemonConfig& config, const LimitOverrides& overrides);

// The args of a `limits` request applied to `current`: "reset": true clears
// every override first; "upload" and "download" take a rate (parse_rate text,
// or a number of bytes per second), "peers" a count (text or number); each
// also takes "default", which clears that one. Errors (bad_request) name the
// argument and say what it takes.
Result<LimitOverrides> apply_limit_args(LimitOverrides current, const Json& args);

// The `limits` result: {"upload_rate": {"value": N, "source": "runtime",
// "config": M}, "download_rate": ..., "max_peers": ...}.
Json limits_json(const Limits& limits);

// How an override is kept in gsd.db's meta table: its decimal value, or ""
// for none; what does not read back as a number counts as none.
inline constexpr std::string_view kUploadRateMeta = "limit upload_rate";
inline constexpr std::string_view kDownloadRateMeta = "limit download_rate";
inline constexpr std::string_view kMaxPeersMeta = "limit max_peers";
std::string override_meta_text(const std::optional<uint64_t>& value);
std::optional<uint64_t> parse_override_meta(std::string_view text);

}  // namespace gs::daemon
