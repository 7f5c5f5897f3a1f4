// Byte rates as people type them: "10M", "500K", "1.5G", "2048", "0".
// Pure, shared by gsd (the `limits` request, which takes text) and gsctl
// (which checks before it sends, so a typo is a usage error).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gs {

// A number of bytes per second, with an optional binary suffix K, M or G
// (1024, 1024^2, 1024^3, either case; "KiB", "MB", "m/s"-style tails are
// not accepted, so what is shown is what was meant). A fraction is allowed
// with a suffix ("1.5M") and rounded down to whole bytes. 0 means
// unlimited. nullopt for anything else, or above 1 TiB/s.
std::optional<uint64_t> parse_rate(std::string_view text);

// The shortest exact text parse_rate() reads back: "10M", "500K", "1536",
// "0". Not rounded: a rate that is no whole number of K is shown in bytes.
std::string rate_text(uint64_t bytes_per_second);

inline constexpr uint64_t kMaxRate = uint64_t{1} << 40;  // 1 TiB/s, as the config accepts

}  // namespace gs
