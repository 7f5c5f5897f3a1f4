// Download, resuming: what the partial file still holds after a restart,
// a crash or a change behind the daemon's back (see download_part.h for the
// policy). Every disk access runs on the workers.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "crypto.h"
#include "download.h"
#include "file_hasher.h"
#include "log.h"

namespace gs::daemon {

// Resume, step 1 (one worker job): open or recreate the partial file, scan
// its data regions, plan, and size it back if it changed.
void Download::start_check() {
  phase_ = Phase::checking;
  auto check = std::make_shared<ResumeCheck>();
  env_.pool->post(
      [check, path = rec_.part_path, dest = rec_.dest, meta = meta_, done = have_,
       saved = PartStat{rec_.part_size, rec_.part_mtime_ns}, direct = env_.options.direct_io] {
        // The directory is opened again (once per run) by the path recorded
        // when the download began, which had no symbolic link in it then:
        // DestDir refuses one found now.
        if (parent_dir(path) != parent_dir(dest)) {
          check->error = make_error("io_error", "the partial file " + path + " is not next to " + dest);
          return;
        }
        auto dir = DestDir::open(parent_dir(dest));
        if (!dir) {
          check->error = dir.error();
          return;
        }
        bool created = false;
        auto f = PartFile::open(*dir, base_name(path), direct);
        if (!f && f.error().code == "missing") {
          // Renamed into place by a run that died before it could record
          // that it was complete: DEST is ours if it holds exactly the file.
          if (auto ours = holds_file_at((*dir)->fd(), base_name(dest), *meta, &check->dest_stat); ours && *ours) {
            check->complete_at_dest = true;
            return;
          }
          f = PartFile::create(*dir, base_name(path), meta->size, direct);
          created = true;
        }
        if (!f) {
          check->error = f.error();
          return;
        }
        check->part = *f;
        const int fd = check->part->fd();
        auto now = stat_part(fd);
        if (!now) {
          check->error = now.error();
          return;
        }
        if (created) {
          // Every piece marked done is gone with the file.
          for (PieceIndex p : all_pieces(meta->piece_count())) {
            if (done.get(p)) check->plan.lost.push_back(p);
          }
          check->plan.changed = true;
          return;
        }
        const uint64_t scan = std::min<uint64_t>(meta->size, static_cast<uint64_t>(std::max<int64_t>(now->size, 0)));
        auto regions = data_regions(fd, scan);
        if (!regions) {
          check->error = regions.error();
          return;
        }
        check->plan = plan_resume(*meta, done, saved, *now, *regions);
        if (now->size != static_cast<int64_t>(meta->size) && ftruncate(fd, static_cast<off_t>(meta->size)) != 0) {
          const int err = errno;
          check->error = make_error(disk_error_code(err, "io_error"), "cannot resize " + path + ": " + std::strerror(err));
        }
      },
      [alive = std::weak_ptr<Download*>(alive_), check] {
        if (auto a = alive.lock()) (*a)->hash_candidates(check);
      });
}

// Resume, step 2: re-hash the candidate pieces, split over the workers (a
// whole file of them after a crash), then checked().
void Download::hash_candidates(const std::shared_ptr<ResumeCheck>& check) {
  const size_t n = check->plan.check.size();
  if (check->error || n == 0) return check_done(*check);
  check->ok.assign(n, 0);
  const size_t jobs = std::min<size_t>(std::max(1u, env_.pool->threads()), (n + 7) / 8);
  check->jobs_left = jobs;
  for (size_t j = 0; j < jobs; ++j) {
    const size_t lo = n * j / jobs;
    const size_t hi = n * (j + 1) / jobs;
    env_.pool->post(
        // Each job writes only its own slice of check->ok.
        [check, meta = meta_, lo, hi] {
          std::string buffer;
          for (size_t i = lo; i < hi; ++i) {
            const PieceIndex p = check->plan.check[i];
            auto h = hash_piece(check->part->fd(), *meta, p, buffer);
            check->ok[i] = h && *h == meta->piece_hash(p);
          }
        },
        [alive = std::weak_ptr<Download*>(alive_), check] {
          auto a = alive.lock();
          if (a && --check->jobs_left == 0) (*a)->check_done(*check);
        });
  }
}

void Download::check_done(ResumeCheck& check) {
  if (check.complete_at_dest) return found_complete(check.dest_stat);
  std::vector<PieceIndex> verified;
  for (size_t i = 0; i < check.ok.size(); ++i) {
    if (check.ok[i]) verified.push_back(check.plan.check[i]);
  }
  Result<PartStat> stat = check.part ? stat_part(check.part->fd()) : Result<PartStat>(PartStat{});
  checked(check.plan, verified, stat, check.part, check.error);
}

void Download::checked(const ResumePlan& plan, const std::vector<PieceIndex>& verified, const Result<PartStat>& stat,
                       std::shared_ptr<PartFile> part, const std::optional<Error>& error) {
  if (!unfinished()) return;
  if (error) {
    phase_ = Phase::idle;
    // No room to make the partial file: that passes like any full disk.
    if (auto trouble = disk_trouble_of(*error)) return disk_pause(*trouble, *error);
    return fail("cannot use the partial file: " + error->message);
  }
  if (!stat) return fail("cannot use the partial file: " + stat.error().message);

  const Bitfield before = have_;
  have_ = Bitfield(meta_->piece_count());
  picker_ = PiecePicker(meta_->piece_count(), random_u64());
  done_bytes_ = 0;
  for (PieceIndex p : plan.keep) set_have(p);
  // What the last commit synced and still holds; re-hashed pieces count
  // as synced only once a commit has synced them.
  synced_have_ = have_;
  size_t recovered = 0;
  for (PieceIndex p : verified) {
    if (!before.get(p)) ++recovered;
    set_have(p);
  }
  // Received once, unusable now: fetched again, so counted as refetched.
  size_t lost = 0;
  for (PieceIndex p : plan.lost) {
    rec_.refetched_bytes += meta_->piece_length(p);
    ++lost;
  }
  for (PieceIndex p : plan.check) {
    if (have_.get(p)) continue;
    rec_.refetched_bytes += meta_->piece_length(p);
    ++lost;
  }
  rec_.part_size = stat->size;
  rec_.part_mtime_ns = stat->mtime_ns;
  part_ = std::move(part);
  part_trusted_ = true;
  dirty_ = true;
  log_info("download of ", rec_.name, " in ", rec_.group, ": ", have_.count(), " of ", meta_->piece_count(),
           " pieces verified", plan.changed ? " (the partial file changed since the last commit: re-checked)" : "",
           recovered ? ", " + std::to_string(recovered) + " recovered from after the last commit" : "",
           lost ? ", " + std::to_string(lost) + " to fetch again" : "");
  phase_ = Phase::idle;
  if (state_ == State::downloading) {
    choose_write_path_then_activate();
  } else {
    commit(DownloadStep::progress_synced);
  }
}

// An earlier run finished the file and died before recording it.
void Download::found_complete(const struct stat& st) {
  if (!unfinished()) return;
  for (PieceIndex p : all_pieces(meta_->piece_count())) set_have(p);
  log_info("download of ", rec_.name, " in ", rec_.group, ": ", rec_.dest,
           " already holds the whole file (finished before the daemon stopped)");
  completed(FileStamp::of(st));
}

}  // namespace gs::daemon
