#include "rate_text.h"

#include <cctype>

namespace gs {

std::optional<uint64_t> parse_rate(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t unit = 1;
  switch (std::toupper(static_cast<unsigned char>(text.back()))) {
    case 'K':
      unit = uint64_t{1} << 10;
      break;
    case 'M':
      unit = uint64_t{1} << 20;
      break;
    case 'G':
      unit = uint64_t{1} << 30;
      break;
    default:
      break;
  }
  if (unit != 1) text.remove_suffix(1);
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  // "1." and ".5" are refused like any other odd spelling; a fraction needs a unit.
  if (whole.empty() || (dot != std::string_view::npos && (frac.empty() || unit == 1)))
    return std::nullopt;
  // Digits beyond these cannot matter below kMaxRate and would overflow.
  if (whole.size() > 15 || frac.size() > 9) return std::nullopt;
  uint64_t n = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  uint64_t num = 0, den = 1;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    num = num * 10 + static_cast<uint64_t>(c - '0');
    den *= 10;
  }
  if (n > kMaxRate / unit) return std::nullopt;
  const uint64_t bytes = n * unit + num * unit / den;
  if (bytes > kMaxRate) return std::nullopt;
  return bytes;
}

std::string rate_text(uint64_t bytes_per_second) {
  static const struct {
    uint64_t unit;
    char suffix;
  } kUnits[] = {{uint64_t{1} << 30, 'G'}, {uint64_t{1} << 20, 'M'}, {uint64_t{1} << 10, 'K'}};
  if (bytes_per_second == 0) return "0";
  for (const auto& u : kUnits) {
    if (bytes_per_second % u.unit == 0) return std::to_string(bytes_per_second / u.unit) + u.suffix;
  }
  return std::to_string(bytes_per_second);
}

}  // namespace gs
