// When a download that its disk stopped tries again, and what it says
// meanwhile.
//
// A download pauses instead of failing when a write or a sync of its partial
// file fails (download.h): the disk is full, a quota is reached, the device
// reports an error. Each of those may pass without anyone telling gsd (files
// deleted elsewhere, a disk remounted), so the download tries again by
// itself, and this class says when. An attempt costs something (peers
// reconnected, pieces fetched that may not fit and are thrown away), so:
//  - on a timer: `first` after the failure, doubling with each attempt that
//    fails again, up to `max`; a piece written after an attempt means the
//    trouble is over, and the next one starts at `first` again;
//  - at once when the free space covers the rest of the file after it was
//    seen short of it since the failure: room was made. The "short first"
//    matters: a quota does not show in statvfs and a failing device has
//    nothing to do with it, so room that was there all along says nothing,
//    and trying at every look would be a loop;
//  - for lack of space, not on the timer while less than one piece is
//    free: nothing could be written.
// gsctl resume tries at once, whatever this says.
//
// Pure: the download tells it what happened, with the time and what statvfs
// said; no clock, no disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "result.h"

namespace gs::daemon {

enum class DiskTrouble {
  no_space,     // ENOSPC, EDQUOT: error code kNoSpace
  write_error,  // anything else a write or a sync of the partial file reported: kWriteFailed
};

// The trouble an error of download_part.h's calls means, or nullopt when it
// is none of the disk's (a link swapped in, a file that cannot be opened):
// that fails the download.
std::optional<DiskTrouble> disk_trouble_of(const Error& error);
// As stored in gsd.db ("no_space", "write_error"), and back (nullopt for
// anything else).
std::string_view trouble_name(DiskTrouble trouble);
std::optional<DiskTrouble> trouble_from_name(std::string_view name);

struct DiskSpace {
  uint64_t free = 0;    // bytes this process may still write there (statvfs f_bavail)
  uint64_t needed = 0;  // bytes the rest of the file takes: its size minus what the partial file holds
};

// What show_downloads says of a download paused by its disk. `error` is what
// failed ("cannot sync the partial file: Input/output error"), `dir` the
// destination directory, `space` the latest look at it (nullopt: none yet).
//   no space left in /mnt/x (needs 12.0 MiB more)
//   write error in /mnt/x: cannot sync the partial file: Input/output error
std::string disk_pause_reason(DiskTrouble trouble, const std::string& error, const std::string& dir,
                              const std::optional<DiskSpace>& space);


class DiskRetry {
 public:
  using Clock = std::chrono::steady_clock;

  struct Params {
    Clock::duration first = std::chrono::seconds(5);
    Clock::duration max = std::chrono::seconds(60);
  };

  DiskRetry() : DiskRetry(Params{}) {}
  explicit DiskRetry(Params params) : params_(params) {}

  // A write or a sync failed at `now` (the download pauses). Failures that
  // come together (the pieces that were with the workers) are one: call this
  // once per pause.
  void failed(DiskTrouble trouble, Clock::time_point now);
  // A piece written after an attempt: the trouble is over.
  void wrote() { delay_ = Clock::duration::zero(); }

  // Whether to try again now. `space`: what the disk says (nullopt when it
  // could not be asked); `piece`: the bytes one piece takes. Remembers
  // whether the space was short (see the header comment), hence not const.
  bool should_retry(Clock::time_point now, const std::optional<DiskSpace>& space, uint64_t piece);

  DiskTrouble trouble() const { return trouble_; }
  // When the timer allows the next attempt, and the wait that led there.
  Clock::time_point next_attempt() const { return next_; }
  Clock::duration delay() const { return delay_; }

 private:
  Params params_;
  DiskTrouble trouble_ = DiskTrouble::write_error;
  Clock::duration delay_{};  // zero: no failure since the last piece written
  Clock::time_point next_{};
  bool short_seen_ = false;  // since the failure, a look found less free than needed
};

}  // namespace gs::daemon
