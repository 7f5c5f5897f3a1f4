#include "disk_retry.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "size_text.h"

#include "download_part.h"

namespace gs::daemon {

std::optional<DiskTrouble> disk_trouble_of(const Error& error) {
  if (error.code == kNoSpace) return DiskTrouble::no_space;
  if (error.code == kWriteFailed) return DiskTrouble::write_error;
  return std::nullopt;
}

std::string_view trouble_name(DiskTrouble trouble) {
  switch (trouble) {
    case DiskTrouble::no_space: return "no_space";
    case DiskTrouble::write_error: return "write_error";
  }
  return "write_error";
}

std::optional<DiskTrouble> trouble_from_name(std::string_view name) {
  if (name == "no_space") return DiskTrouble::no_space;
  if (name == "write_error") return DiskTrouble::write_error;
  return std::nullopt;
}

std::string disk_pause_reason(DiskTrouble trouble, const std::string& error, const std::string& dir,
                              const std::optional<DiskSpace>& space) {
  if (trouble == DiskTrouble::write_error) return "write error in " + dir + ": " + error;
  std::string out = "no space left in " + dir;
  if (space && space->free < space->needed) out += " (needs " + size_text(space->needed - space->free) + " more)";
  return out;
}

void DiskRetry::failed(DiskTrouble trouble, Clock::time_point now) {
  trouble_ = trouble;
  delay_ = delay_ == Clock::duration::zero() ? params_.first : std::min(2 * delay_, params_.max);
  next_ = now + delay_;
  short_seen_ = false;
}

bool DiskRetry::should_retry(Clock::time_point now, const std::optional<DiskSpace>& space, uint64_t piece) {
  if (trouble_ == DiskTrouble::no_space && space) {
    if (space->free < space->needed) {
      short_seen_ = true;
      if (space->free < piece) return false;
    } else if (short_seen_) {
      return true;  // room was made for the rest
    }
  }
  return now >= next_;
}

}  // namespace gs::daemon
