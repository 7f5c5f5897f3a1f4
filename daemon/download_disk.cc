// Download, when its disk fails under it: paused rather than failed, with
// the reason, and tried again by itself (see download.h and disk_retry.h).
#include <algorithm>

#include "crypto.h"
#include "download.h"
#include "log.h"

namespace gs::daemon {

void Download::disk_pause(DiskTrouble trouble, const Error& error) {
  if (!hold_for_disk(trouble, error)) return;
  // The pieces counted so far were written; the sync makes them count in
  // gsd.db too. Should it fail, sync_failed() takes over.
  dirty_ = true;
  commit(DownloadStep::pause_synced);
}

// Linux reports a failed writeback to one fsync only: a later sync that
// succeeds proves nothing about the pages that were lost. So the pieces
// written since the last good sync are taken back and fetched again; those
// of earlier commits stay.
void Download::sync_failed(DiskTrouble trouble, const Error& error) {
  if (!unfinished()) return;
  hold_for_disk(trouble, error);  // first: no peer holds picker state then
  const uint32_t count = meta_->piece_count();
  const Bitfield had = have_;
  size_t dropped = 0;
  for (PieceIndex p : all_pieces(count)) dropped += had.get(p) && !synced_have_.get(p) ? 1 : 0;
  if (dropped > 0) {
    have_ = Bitfield(count);
    picker_ = PiecePicker(count, random_u64());
    done_bytes_ = 0;
    for (PieceIndex p : all_pieces(count)) {
      if (!had.get(p)) continue;
      if (synced_have_.get(p)) {
        set_have(p);
      } else {
        rec_.refetched_bytes += meta_->piece_length(p);
      }
    }
    log_warn("download of ", rec_.name, ": ", dropped, " piece(s) written since the last good sync no longer count");
  }
  // Nothing counted now is newer than the last good sync: saved without
  // another (which would fail the same way).
  save_now();
}

bool Download::hold_for_disk(DiskTrouble trouble, const Error& error) {
  if (!unfinished() || disk_paused_) return false;
  const auto now = DownloadClock::now();
  disk_paused_ = true;
  disk_retry_.failed(trouble, now);
  state_ = State::paused;
  error_ = disk_pause_reason(trouble, error.message, parent_dir(rec_.dest), std::nullopt);
  drop_all_peers("paused: " + error_);
  release_buffers();
  serve_unregister();
  announced_ = false;
  // A check or the final rename in progress finishes first (checked() and
  // finished() see the pause).
  if (phase_ == Phase::active) phase_ = Phase::idle;
  next_probe_ = now;  // the room still needed, for the reason
  log_warn("download of ", rec_.name, " in ", rec_.group, " paused: ", error.message,
           "; it tries again by itself, or at once on gsctl resume");
  return true;
}

void Download::disk_tick(DownloadClock::time_point now) {
  if (probe_in_flight_ || now < next_probe_) return;
  probe_in_flight_ = true;
  next_probe_ = now + env_.options.disk_probe_interval;
  auto use = std::make_shared<Result<DiskUse>>(DiskUse{});
  env_.pool->post([use, disk = &disk(), dir = parent_dir(rec_.dest), path = rec_.part_path] { *use = disk->use(dir, path); },
                  [alive = std::weak_ptr<Download*>(alive_), use] {
                    if (auto a = alive.lock()) (*a)->disk_probed(*use);
                  });
}

void Download::disk_probed(const Result<DiskUse>& use) {
  probe_in_flight_ = false;
  if (!disk_paused_) return;
  std::optional<DiskSpace> space;
  if (use) {
    space = DiskSpace{use->free, meta_->size - std::min<uint64_t>(meta_->size, use->part_allocated)};
  } else {
    log_debug("download of ", rec_.name, ": ", use.error().message);
  }
  if (disk_retry_.trouble() == DiskTrouble::no_space) {
    std::string reason = disk_pause_reason(DiskTrouble::no_space, "", parent_dir(rec_.dest), space);
    if (reason != error_) {
      error_ = std::move(reason);
      dirty_ = true;
    }
  }
  if (disk_retry_.should_retry(DownloadClock::now(), space, meta_->piece_size)) retry_disk("by itself");
}

void Download::retry_disk(const char* why) {
  if (!disk_paused_ || phase_ != Phase::idle) return;
  disk_paused_ = false;
  ++disk_attempt_;
  error_.clear();
  dirty_ = true;
  log_info("download of ", rec_.name, " in ", rec_.group, ": trying the disk again (", why, ")");
  // Starts it if the session is its user's; else it waits for that.
  if (env_.session->phase() == Session::Phase::active) on_session_ready();
}

Status Download::resume() {
  if (state_ == State::complete) {
    return make_error("not_paused", rec_.name + " in " + rec_.group + " is complete; nothing to resume");
  }
  if (state_ == State::failed) {
    return make_error("not_paused", rec_.name + " in " + rec_.group + " failed (" + error_ +
                                        "); download_file starts it again");
  }
  retry_disk("gsctl resume");
  return Ok{};
}

}  // namespace gs::daemon
