// One download: a file of a group fetched piece by piece from every peer the
// tracker lists, verified, written into DEST.gs-part and renamed to DEST once
// every piece is verified.
//
// Phases:  idle (paused, complete, failed) -> checking (resume: re-hash what
// the partial file may hold) -> active (peers, requests) -> finishing (fsync,
// rename) -> complete.  Any phase but complete can fail.
//
// Paused has two causes, kept apart so that neither undoes the other:
//  - the session: not logged in as the download's user (logout, restart);
//    the session's `ready` resumes it;
//  - the disk: a write or a sync of the partial file failed (a full disk, a
//    quota, a device error; download_part.h names those errors). Nothing is
//    lost: a piece counts only once written, and a failed sync takes back
//    the pieces written since the last good one. Peers are dropped at once
//    (no fetching what cannot be written); the reason is in `error`, with
//    the room still needed, and in gsd.db, so a restart keeps it. The
//    download looks at the free space about every second and tries again
//    when DiskRetry (disk_retry.h) says so, or at once on gsctl resume; a
//    session that comes back meanwhile does not restart it.
//
// Where the work happens: the loop owns every field; hashing, pwrite, fsync
// and the resume scan run on the WorkerPool and come back as completions that
// hold the Download weakly (a download replaced meanwhile ignores them).
//
// Memory stays bounded whatever the file size: a piece is copied out of its
// frame only to be verified and written, at most pipeline x peers pieces are
// requested at once, and reading from peers stops while more than
// verify_backlog_high pieces wait for the workers.
//
// refetched_bytes, what it counts (kept honest rather than flattering):
//  - bytes that arrived for a piece we already had or were verifying (an
//    endgame duplicate, a late answer to a cancelled or timed-out request);
//  - bytes of pieces that failed verification, and of good pieces the disk
//    did not take (a failed write, or written since a sync that failed);
//  - at resume, pieces that had been received but are no longer usable: a
//    piece marked done that is gone or changed in the partial file, or a piece
//    written after the last commit that no longer verifies (cut by a crash).
// Pieces that were still on the wire at a crash are not known to anyone and
// are not counted; at completion the figure is raised to at least
// received_bytes - size, which covers every byte fetched twice this run.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <event2/event.h>

#include "bitfield.h"
#include "disk_retry.h"
#include "download_part.h"
#include "download_rate.h"
#include "download_steps.h"
#include "endgame_rules.h"
#include "download_store.h"
#include "json.h"
#include "part_disk.h"
#include "peer_book.h"
#include "peer_client.h"
#include "piece_picker.h"
#include "session.h"
#include "share_store.h"
#include "tracker_api.h"
#include "worker_pool.h"

namespace gs::daemon {

class ServeRegistry;
class Shares;
class TransferLimits;
class WritePaths;

struct DownloadOptions {
  size_t max_peers = 32;                       // connections per download
  size_t max_known_peers = 256;                // addresses remembered per download
  DownloadClock::duration request_timeout = std::chrono::seconds(15);
  DownloadClock::duration refresh_interval = std::chrono::seconds(3);   // file_info while downloading
  DownloadClock::duration commit_interval = std::chrono::seconds(1);    // bitmap to sqlite
  DownloadClock::duration reconnect_min = std::chrono::seconds(1);
  DownloadClock::duration reconnect_max = std::chrono::seconds(30);
  int max_strikes = 3;          // bad pieces before a peer is dropped and banned
  int max_piece_failures = 5;   // failed copies of one piece (from one peer, or from as many peers) before the download fails
  int max_timeouts_in_row = 3;  // request timeouts with nothing delivered: reconnect later
  size_t verify_backlog_high = 8;  // pieces waiting for the workers: stop reading above
  size_t verify_backlog_low = 4;   // ... and read again at or below
  // Partial files get an O_DIRECT descriptor too (write_piece); whether
  // pieces take it is WritePaths' choice.
  bool direct_io = true;
  // Paused by its disk: the first retry after this, doubling up to the max
  // (DiskRetry); the free space is looked at every disk_probe_interval.
  DownloadClock::duration disk_retry_first = std::chrono::seconds(5);
  DownloadClock::duration disk_retry_max = std::chrono::seconds(60);
  DownloadClock::duration disk_probe_interval = std::chrono::seconds(1);
};

// What a download needs from the daemon; everything here outlives it.
struct DownloadEnv {
  event_base* base = nullptr;
  WorkerPool* pool = nullptr;
  Session* session = nullptr;
  DownloadStore* store = nullptr;
  ServeRegistry* registry = nullptr;  // null: no partial seeding (tests)
  Shares* shares = nullptr;           // null: a finished download is not shared (tests)
  Seat seat{};
  const TlsContext* tls = nullptr;  // null: plain peer links (tls = false)
  // Null, or not enabled(): no tickets (tls = false). Else the download keeps
  // the tickets of its file_info answers there, and presents them.
  TicketBook* tickets = nullptr;
  PartDisk* disk = nullptr;  // null: the real calls (tests put faults here)
  WritePaths* write_paths = nullptr;  // null: direct whenever options.direct_io (tests)
  // The daemon-wide download rate and peer count; null: none (tests).
  TransferLimits* limits = nullptr;
  DownloadOptions options;
};

class Download final : private PeerClient::Owner {
 public:
  enum class State { downloading, paused, complete, failed };

  // `part`: the partial file when the caller just created it (a new
  // download: nothing to check at start); null to open and check it at start.
  Download(DownloadEnv& env, DownloadRecord record, std::shared_ptr<PartFile> part);
  ~Download();
  Download(const Download&) = delete;
  Download& operator=(const Download&) = delete;

  const std::string& user() const { return rec_.user; }
  const std::string& group() const { return rec_.group; }
  const std::string& name() const { return rec_.name; }
  const std::string& dest() const { return rec_.dest; }
  const std::string& part_path() const { return rec_.part_path; }
  int64_t id() const { return rec_.id; }
  State state() const { return state_; }
  // Downloading or paused: it still holds its (group, name) and its DEST.
  bool unfinished() const { return state_ == State::downloading || state_ == State::paused; }
  uint64_t done_bytes() const { return done_bytes_; }
  size_t connected_peers() const;
  // Bytes per second over the last seconds; 0 unless it is fetching pieces.
  uint64_t rate(DownloadClock::time_point now) const;
  // Peer links open or opening (what TransferLimits counts).
  size_t peer_links() const { return peers_.size(); }

  // The session is ready: start or resume (first call), or, already
  // running, announce again and ask for peers now.
  void on_session_ready();
  // The session ended: close every peer, state paused, commit.
  void pause();
  // Paused because its disk failed (see the header comment).
  bool disk_paused() const { return disk_paused_; }
  // gsctl resume: paused by its disk, it tries again now, whatever
  // DiskRetry says; running, nothing changes. Error not_paused when it is
  // complete or failed.
  Status resume();
  // Peers from a file_info answer (the one the command got, or a refresh).
  void add_peers(const Json& peers);

  // Timers: request timeouts, reconnects, keep-alives, peer refresh, batched
  // commits. Called about every 250 ms.
  void tick(DownloadClock::time_point now);
  // The daemon is stopping: a last commit, synchronously.
  void shutdown();

  // One entry of show_downloads.
  Json to_json(DownloadClock::time_point now) const;

 private:
  // measuring: waiting for WritePaths to measure the partial file's file
  // system (the first large download into it) before fetching.
  enum class Phase { idle, checking, measuring, active, finishing };

  // PeerClient::Owner
  void on_peer_ready(PeerClient& peer) override;
  void on_peer_have(PeerClient& peer, PieceIndex piece) override;
  void on_peer_piece(PeerClient& peer, PieceIndex piece, std::string_view data, PieceBuffer buffer) override;
  void on_peer_reject(PeerClient& peer, PieceIndex piece) override;
  void on_peer_closed(PeerClient& peer, const std::string& reason) override;
  PieceBuffer piece_buffer(size_t size) override;

  // What a resume learns about the partial file, filled by worker jobs.
  struct ResumeCheck {
    ResumePlan plan;
    std::vector<uint8_t> ok;  // per plan.check entry: it verified
    size_t jobs_left = 0;
    std::shared_ptr<PartFile> part;
    std::optional<Error> error;
    bool complete_at_dest = false;  // no partial file, and DEST holds the whole file
    struct stat dest_stat {};       // ... DEST, as found then
  };
  // Resuming (download_resume.cc).
  void start_check();
  void hash_candidates(const std::shared_ptr<ResumeCheck>& check);
  void check_done(ResumeCheck& check);
  void found_complete(const struct stat& st);
  void checked(const ResumePlan& plan, const std::vector<PieceIndex>& verified, const Result<PartStat>& stat,
               std::shared_ptr<PartFile> part, const std::optional<Error>& error);
  // Fetching starts once the partial file's write path is known.
  void choose_write_path_then_activate();
  void write_path_known();
  void activate();
  void connect_peers(DownloadClock::time_point now);
  void fill(PeerClient& peer, DownloadClock::time_point now);
  void fill_all(DownloadClock::time_point now);
  bool overdue(PieceIndex piece, PeerKey asking, DownloadClock::time_point now) const;
  void drop_all_peers(const std::string& reason);
  // `attempt`: disk_attempt_ when the piece went to the workers.
  void verified(PieceIndex piece, const std::string& user, const std::string& addr, const Status& result,
                uint64_t attempt);
  void strike(const std::string& user, const std::string& addr);
  PeerPace pace_of(const PeerClient& peer, DownloadClock::time_point now) const;
  void update_reading();
  // Piece buffers (see piece_buffer and spare_buffers_): taken by a link for
  // the piece it receives, handed back by the worker job that wrote it.
  PieceBuffer take_buffer();
  void give_back(PieceBuffer buffer);
  size_t buffer_capacity() const;
  void release_buffers();
  void set_have(PieceIndex piece);
  void finish();
  void finished(const Status& result, const struct stat& st);
  // DEST holds the file; `stamp` is what it looked like when verified there.
  void completed(const FileStamp& stamp);
  void fail(const std::string& reason);
  // Disk trouble (download.h, header comment). disk_pause: a piece could not
  // be written (or the partial file made); the pieces written before still
  // count, and are synced and saved with the paused state. sync_failed: a
  // sync failed, so the pieces written since the last good one stop
  // counting, and the state is saved without another sync.
  void disk_pause(DiskTrouble trouble, const Error& error);
  void sync_failed(DiskTrouble trouble, const Error& error);
  // Both: pauses (peers dropped, the reason set) unless already paused by
  // the disk; false then, or when the download is over.
  bool hold_for_disk(DiskTrouble trouble, const Error& error);
  // While paused by the disk: looks at the free space now and then (on a
  // worker), updates the reason and asks DiskRetry whether to try again.
  void disk_tick(DownloadClock::time_point now);
  void disk_probed(const Result<DiskUse>& use);
  // Leaves the disk pause: runs again if the session is its user's, else
  // waits for it like any paused download.
  void retry_disk(const char* why);
  PartDisk& disk() const { return env_.disk ? *env_.disk : real_part_disk(); }
  void refresh_peers();
  void announce();
  void serve_register();
  void serve_unregister();
  // Saves the record: after an fdatasync on a worker when `sync` and the
  // partial file is open, so the bitmap never runs ahead of the disk.
  // `synced_step` names the moment between that sync and the save.
  void commit(DownloadStep synced_step);
  void commit_with(const std::shared_ptr<PartFile>& part, DownloadStep synced_step);
  // Saves the record now, on the loop (completion: nothing left to sync).
  void save_now();
  // Saves `snap` unless a later snapshot (higher seq) was saved already.
  void store_save(const DownloadRecord& snap, uint64_t seq);
  DownloadRecord snapshot() const;
  std::string state_name() const;

  DownloadEnv& env_;
  DownloadRecord rec_;  // identity and counters; have/state/sources live below
  std::shared_ptr<const FileMeta> meta_;
  std::shared_ptr<PartFile> part_;
  bool part_trusted_ = false;  // part_ was created or checked by this run
  State state_;
  Phase phase_ = Phase::idle;
  std::string error_;
  Bitfield have_;
  // The pieces of the last commit whose sync succeeded: what a failed sync
  // falls back to.
  Bitfield synced_have_;
  uint64_t done_bytes_ = 0;
  bool disk_paused_ = false;
  DiskRetry disk_retry_;
  // Retries of the disk so far. A write that went to the workers before the
  // latest one says nothing about the disk now: its failure was the last
  // pause's, and a success does not end the trouble.
  uint64_t disk_attempt_ = 0;
  bool probe_in_flight_ = false;
  DownloadClock::time_point next_probe_{};
  PiecePicker picker_;
  // Failed verifications of each piece, by the address that sent the copy.
  std::unordered_map<PieceIndex, std::map<std::string, int>> piece_failures_;
  std::map<std::string, SourceCount> sources_;  // by user
  PeerBook book_;
  EndgameRules endgame_;
  std::map<PeerKey, std::unique_ptr<PeerClient>> peers_;
  std::map<PeerKey, DownloadClock::time_point> hold_until_;  // no requests to it before then (after a REJECT)
  std::vector<std::unique_ptr<PeerClient>> parked_;  // closed, freed on the next tick
  PeerKey next_key_ = 1;
  RateMeter rate_;
  size_t verify_backlog_ = 0;
  // Piece payloads are received straight into these (each peer link holds
  // the one it is filling), go to the worker that hashes and writes them,
  // and come back for reuse, so a transfer recycles a few warm buffers
  // instead of allocating (and copying) every piece.
  std::vector<PieceBuffer> spare_buffers_;
  bool reading_ = true;
  bool registered_ = false;
  bool announced_ = false;
  bool refresh_in_flight_ = false;
  DownloadClock::time_point next_refresh_{};
  bool dirty_ = false;
  bool commit_in_flight_ = false;
  DownloadStep pending_step_ = DownloadStep::progress_synced;  // of a commit deferred by one in flight
  uint64_t commit_seq_ = 0;  // snapshots taken
  uint64_t saved_seq_ = 0;   // the latest one saved
  DownloadClock::time_point next_commit_{};
  // Completions posted to the workers hold this weakly.
  std::shared_ptr<Download*> alive_ = std::make_shared<Download*>(this);
};

}  // namespace gs::daemon
