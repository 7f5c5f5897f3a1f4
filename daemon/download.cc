#include "download.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "crypto.h"
#include "download_steps.h"
#include "endpoint.h"
#include "log.h"
#include "names.h"
#include "serve_registry.h"
#include "shares.h"
#include "transfer_limits.h"
#include "write_paths.h"

namespace gs::daemon {
namespace {

PeerBookOptions book_options(const DownloadOptions& o) {
  PeerBookOptions b;
  b.max_known = o.max_known_peers;
  b.reconnect_min = o.reconnect_min;
  b.reconnect_max = o.reconnect_max;
  b.max_strikes = o.max_strikes;
  return b;
}

}  // namespace

Download::Download(DownloadEnv& env, DownloadRecord record, std::shared_ptr<PartFile> part)
    : env_(env),
      rec_(std::move(record)),
      meta_(std::make_shared<const FileMeta>(std::move(rec_.meta))),
      part_(std::move(part)),
      part_trusted_(part_ != nullptr),
      have_(meta_->piece_count()),
      disk_retry_(DiskRetry::Params{env.options.disk_retry_first, env.options.disk_retry_max}),
      picker_(meta_->piece_count(), random_u64()),
      book_(book_options(env.options)),
      endgame_(env.options.request_timeout) {
  rec_.meta = FileMeta{};  // meta_ holds it; the record keeps identity and counters only
  if (auto bits = Bitfield::from_bytes(rec_.have, meta_->piece_count())) have_ = std::move(*bits);
  for (PieceIndex p : all_pieces(meta_->piece_count())) {
    if (!have_.get(p)) continue;
    picker_.set_have(p);
    done_bytes_ += meta_->piece_length(p);
  }
  if (rec_.state == "complete") {
    state_ = State::complete;
  } else if (rec_.state == "failed") {
    state_ = State::failed;
  } else {
    state_ = State::paused;  // until the session is ready
  }
  error_ = rec_.error;
  synced_have_ = have_;  // the store holds only synced pieces
  if (state_ == State::paused) {
    if (auto trouble = trouble_from_name(rec_.disk_trouble)) {
      // Paused by its disk when the daemon stopped: still so until a retry.
      disk_paused_ = true;
      disk_retry_.failed(*trouble, DownloadClock::now());
    }
  }
  for (const SourceCount& s : rec_.sources) sources_[s.user] = s;
}

Download::~Download() {
  serve_unregister();
  // PeerClient destructors detach their links without calling back.
}

size_t Download::connected_peers() const {
  size_t n = 0;
  for (const auto& [key, p] : peers_) n += p->ready() ? 1 : 0;
  return n;
}

std::string Download::state_name() const {
  switch (state_) {
    case State::downloading: return "downloading";
    case State::paused: return "paused";
    case State::complete: return "complete";
    case State::failed: return "failed";
  }
  return "failed";
}

// ---------------------------------------------------------------- lifecycle

void Download::on_session_ready() {
  if (!unfinished()) return;
  const auto user = env_.session->user();
  if (!user || *user != rec_.user) return;  // another user's download waits for its owner
  if (disk_paused_) return;                 // the disk first: disk_tick
  switch (phase_) {
    case Phase::idle:
      state_ = State::downloading;
      dirty_ = true;
      if (part_ && part_trusted_) {
        choose_write_path_then_activate();
      } else {
        start_check();
      }
      return;
    case Phase::active:
      // A new tracker link (reconnect, failover): it must learn again that we
      // have pieces, and may know other peers.
      if (have_.count() > 0) announce();
      refresh_peers();
      return;
    case Phase::checking:
    case Phase::measuring:
      // Paused and resumed while checking or measuring: checked() or
      // write_path_known() starts it then.
      state_ = State::downloading;
      return;
    case Phase::finishing:
      return;
  }
}

void Download::pause() {
  if (!unfinished()) return;
  if (state_ == State::paused && phase_ == Phase::idle) return;
  state_ = State::paused;
  drop_all_peers("paused");
  release_buffers();
  serve_unregister();
  announced_ = false;
  // A check in progress finishes and then stays idle (checked() sees paused).
  if (phase_ == Phase::active) phase_ = Phase::idle;
  log_info("download of ", rec_.name, " in ", rec_.group, " paused");
  dirty_ = true;
  commit(DownloadStep::pause_synced);
}

void Download::choose_write_path_then_activate() {
  // A file complete already writes nothing: it need not wait for a probe.
  if (env_.write_paths && part_ && !have_.all() &&
      !env_.write_paths->choose(part_, meta_->size, [alive = std::weak_ptr<Download*>(alive_)] {
        if (auto a = alive.lock()) (*a)->write_path_known();
      })) {
    phase_ = Phase::measuring;
    return;
  }
  activate();
}

void Download::write_path_known() {
  if (phase_ != Phase::measuring) return;  // failed meanwhile
  phase_ = Phase::idle;
  // Paused meanwhile: on_session_ready() starts it later.
  if (state_ == State::downloading) choose_write_path_then_activate();
}

void Download::activate() {
  phase_ = Phase::active;
  state_ = State::downloading;
  if (have_.all()) {
    finish();
    return;
  }
  serve_register();
  if (have_.count() > 0) announce();
  const auto now = DownloadClock::now();
  if (now >= next_refresh_) refresh_peers();
  connect_peers(now);
}

void Download::fail(const std::string& reason) {
  if (!unfinished()) return;
  log_warn("download of ", rec_.name, " in ", rec_.group, " failed: ", reason);
  state_ = State::failed;
  error_ = reason;
  disk_paused_ = false;
  phase_ = Phase::idle;
  drop_all_peers("download failed");
  release_buffers();
  serve_unregister();
  dirty_ = true;
  commit(DownloadStep::fail_synced);
  part_.reset();  // the commit job keeps what it needs
}

void Download::finish() {
  phase_ = Phase::finishing;
  drop_all_peers("download complete");
  struct Outcome {
    Status status = Ok{};
    struct stat st {};  // the file now at DEST, once renamed
  };
  auto result = std::make_shared<Outcome>();
  env_.pool->post(
      [part = part_, dest = base_name(rec_.dest), meta = meta_, force = rec_.force, result] {
        if (!part) {
          result->status = make_error("io_error", "the partial file is not open");
          return;
        }
        result->status = finalize_part(*part, dest, *meta, force);
        if (result->status && fstat(part->fd(), &result->st) != 0) {
          result->status = make_error("io_error", std::string("cannot stat the finished file: ") + std::strerror(errno));
        }
      },
      [alive = std::weak_ptr<Download*>(alive_), result] {
        if (auto a = alive.lock()) (*a)->finished(result->status, result->st);
      });
}

void Download::finished(const Status& result, const struct stat& st) {
  if (!unfinished()) return;
  if (!result) {
    phase_ = Phase::idle;
    // The final sync (or the rename) failed for the disk's sake: what was
    // written since the last good sync may be lost, as after any failed sync.
    if (auto trouble = disk_trouble_of(result.error())) return sync_failed(*trouble, result.error());
    return fail(result.error().message);
  }
  completed(FileStamp::of(st));
}

// DEST holds the whole file, verified: renamed by finish(), or found there
// at resume. The share is recorded before the download is: a crash between
// the two leaves a download that the next start finds complete at DEST
// (holds_file) and adopts again, never a complete download that is not
// shared.
void Download::completed(const FileStamp& stamp) {
  state_ = State::complete;
  phase_ = Phase::idle;
  error_.clear();
  disk_paused_ = false;
  release_buffers();
  if (rec_.received_bytes > meta_->size) {
    rec_.refetched_bytes = std::max(rec_.refetched_bytes, rec_.received_bytes - meta_->size);
  }
  size_t from = 0;
  for (const auto& [user, s] : sources_) from += s.bytes > 0 ? 1 : 0;
  log_info("download of ", rec_.name, " complete (", meta_->size, " bytes from ", from, " peers, ",
           rec_.refetched_bytes, " refetched)");
  part_.reset();
  if (env_.shares) {
    // adopt() points the registry entry of this file id at DEST at once; the
    // entry is no longer ours to remove.
    registered_ = false;
    env_.shares->adopt(
        rec_.user, rec_.group, rec_.dest, *meta_,
        [name = rec_.name](Result<Json> r) {
          if (!r) log_warn("the finished download ", name, " is not shared: ", r.error().message);
        },
        stamp);
  } else {
    serve_unregister();
  }
  save_now();
  crash_at(DownloadStep::complete_saved);
}

void Download::shutdown() {
  drop_all_peers("shutting down");
  DownloadRecord snap = snapshot();
  if (part_) {
    if (auto s = disk().sync(part_->fd()); !s) {
      log_error("download of ", rec_.name, ": ", s.error().message, "; its progress since the last commit is not saved");
      if (auto trouble = disk_trouble_of(s.error())) sync_failed(*trouble, s.error());
      return;
    }
    if (auto st = stat_part(part_->fd())) {
      snap.part_size = st->size;
      snap.part_mtime_ns = st->mtime_ns;
    }
  }
  store_save(snap, ++commit_seq_);
}

// ---------------------------------------------------------------- peers

void Download::add_peers(const Json& peers) {
  if (!peers.is_array()) return;
  const size_t known_before = book_.size();
  // A fresh list: the next refresh can wait its turn.
  next_refresh_ = std::max(next_refresh_, DownloadClock::now() + env_.options.refresh_interval);
  const auto me = env_.session->user();
  for (const Json& p : peers.as_array()) {
    const auto user = p.get_string("user");
    const auto host = p.get_string("host");
    const auto port = p.get_int("port");
    if (!user || !valid_name(*user) || !host || host->empty() || host->size() > 255 || !port || *port < 1 ||
        *port > 65535) {
      continue;  // a malformed entry from the tracker is skipped, not trusted
    }
    if (me && *me == *user) continue;  // never ourselves
    book_.learn(*user, *host, static_cast<uint16_t>(*port));
  }
  // New peers: the swarm may still be forming (downloads started together
  // are listed once their first piece is in), so ask again within a second
  // rather than leave them to the seeders alone for a whole interval.
  if (book_.size() > known_before) {
    next_refresh_ = std::min(next_refresh_, DownloadClock::now() + std::min<DownloadClock::duration>(
                                                                       env_.options.refresh_interval,
                                                                       std::chrono::seconds(1)));
  }
}

void Download::connect_peers(DownloadClock::time_point now) {
  if (phase_ != Phase::active || env_.session->phase() != Session::Phase::active) return;
  if (peers_.size() >= env_.options.max_peers) return;
  // Within the daemon's limit on peers of all downloads too.
  const size_t room = std::min(env_.options.max_peers - peers_.size(),
                               env_.limits ? env_.limits->peer_room() : env_.options.max_peers);
  if (room == 0) return;
  // No peer will serve us without a ticket: the next refresh brings one.
  const bool tickets = env_.tickets && env_.tickets->enabled();
  if (tickets && !env_.tickets->fresh(meta_->file_id)) return;
  const std::string me = env_.session->user().value_or("");
  for (const std::string& addr : book_.due(now, room, me)) {
    const PeerBook::Peer& k = *book_.find(addr);
    auto sa = resolve(Endpoint{k.host, k.port});
    if (!sa) {
      book_.connect_failed(addr, now);
      continue;
    }
    PeerClient::Params params;
    params.key = next_key_++;
    params.user = k.user;
    params.addr = addr;
    params.file_id = meta_->file_id;
    params.seat = env_.seat;
    params.tls = env_.tls;
    params.tickets = tickets ? env_.tickets : nullptr;
    params.meta = meta_.get();
    PeerClient::Owner& owner = *this;
    auto client = std::make_unique<PeerClient>(owner, std::move(params));
    if (auto s = client->start(env_.base, *sa); !s) {
      log_debug("download of ", rec_.name, ": ", s.error().message);
      book_.connect_failed(addr, now);
      continue;
    }
    book_.linked(addr, client->key());
    peers_.emplace(client->key(), std::move(client));
  }
}

void Download::drop_all_peers(const std::string& reason) {
  book_.unlink_all();
  for (auto& [key, client] : peers_) {
    picker_.remove_peer(key);
    // Parked, not freed: this may run inside one of its callbacks. Its link
    // is detached now, so it calls nothing back.
    client->abandon(reason);
    parked_.push_back(std::move(client));
  }
  peers_.clear();
  hold_until_.clear();
}

void Download::on_peer_ready(PeerClient& peer) {
  const uint32_t count = meta_->piece_count();
  picker_.add_peer(peer.key());
  picker_.peer_has_bitfield(peer.key(), peer.has());
  log_debug("download of ", rec_.name, ": peer ", peer.addr(), " (user ", peer.user(), ") has ", peer.has().count(),
            " of ", count, " pieces");
  if (!reading_) peer.set_reading(false);
  fill(peer, DownloadClock::now());
}

void Download::on_peer_have(PeerClient& peer, PieceIndex piece) {
  picker_.peer_has(peer.key(), piece);
  fill(peer, DownloadClock::now());
}

void Download::on_peer_piece(PeerClient& peer, PieceIndex piece, std::string_view data, PieceBuffer buffer) {
  const auto now = DownloadClock::now();
  rec_.received_bytes += data.size();
  rate_.add(data.size(), now);
  dirty_ = true;
  const bool wanted = phase_ == Phase::active && picker_.wanted(piece);
  for (PeerKey other : picker_.on_received(peer.key(), piece)) {
    // Endgame: the other copies on order are no longer needed.
    if (auto it = peers_.find(other); it != peers_.end()) it->second->cancel(piece);
  }
  if (!wanted) {
    rec_.refetched_bytes += data.size();
    give_back(std::move(buffer));
    fill(peer, now);
    return;
  }
  ++verify_backlog_;
  update_reading();
  // The piece's bytes: where they landed (no copy), else copied into a
  // buffer, at the same place.
  if (!buffer) {
    buffer = take_buffer();
    std::memcpy(buffer.get() + kPieceDataOffset, data.data(), data.size());
  }
  auto result = std::make_shared<Status>(Ok{});
  env_.pool->post(
      [part = part_, meta = meta_, piece, buffer, bytes = std::string_view(buffer.get() + kPieceDataOffset, data.size()),
       result, disk = &disk()] {
        if (sha256(bytes) != meta->piece_hash(piece)) {
          *result = make_error("bad_piece", "piece " + std::to_string(piece.value()) + " does not match its hash");
        } else {
          *result = disk->write(*part, meta->piece_offset(piece), bytes);
          if (*result) crash_at(DownloadStep::piece_written);
        }
      },
      [alive = std::weak_ptr<Download*>(alive_), piece, user = peer.user(), addr = peer.addr(), result, buffer,
       attempt = disk_attempt_] {
        if (auto a = alive.lock()) {
          (*a)->give_back(buffer);
          (*a)->verified(piece, user, addr, *result, attempt);
        }
      });
  fill(peer, now);
}

static_assert(kPieceDataOffset % kDirectIoAlign == 0, "piece data must land page-aligned");

PieceBuffer Download::piece_buffer(size_t size) {
  // Not a piece of ours: on_frame will say so.
  if (size > meta_->piece_size + kPieceMessageOverhead) return nullptr;
  return take_buffer();
}

PieceBuffer Download::take_buffer() {
  if (spare_buffers_.empty()) {
    // Page-aligned (see kPieceDataOffset), and not make_shared<char[]>: that
    // would zero the whole piece first.
    constexpr std::align_val_t kPage{kDirectIoAlign};
    return PieceBuffer(static_cast<char*>(::operator new[](buffer_capacity(), kPage)),
                       [](char* p) { ::operator delete[](p, kPage); });
  }
  PieceBuffer b = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  return b;
}

void Download::give_back(PieceBuffer buffer) {
  // As many as can be in use at once (one filling on each link, and the
  // verify backlog) are worth keeping; more would only be memory.
  if (buffer && spare_buffers_.size() < env_.options.verify_backlog_high + 1 + peers_.size()) {
    spare_buffers_.push_back(std::move(buffer));
  }
}

// From pause, fail and finished. Buffers still out (on a peer link, or with
// a worker) are freed by whoever holds them last.
void Download::release_buffers() {
  spare_buffers_.clear();
  spare_buffers_.shrink_to_fit();
}

size_t Download::buffer_capacity() const {
  return kPieceDataOffset + meta_->piece_size;
}

void Download::on_peer_reject(PeerClient& peer, PieceIndex piece) {
  const auto now = DownloadClock::now();
  picker_.on_request_dropped(peer.key(), piece);
  peer.pipeline().on_dropped();
  // Not straight back to the same peer: it may refuse the same piece again.
  hold_until_[peer.key()] = now + std::chrono::seconds(1);
  fill_all(now);
}

void Download::on_peer_closed(PeerClient& peer, const std::string& reason) {
  const auto now = DownloadClock::now();
  const PeerKey key = peer.key();
  picker_.remove_peer(key);
  hold_until_.erase(key);
  book_.closed(peer.addr(), peer.bytes_received() > 0, peer.ourselves(), now);
  log_debug("download of ", rec_.name, ": peer ", peer.addr(), " (user ", peer.user(), ") closed: ", reason);
  if (auto it = peers_.find(key); it != peers_.end()) {
    parked_.push_back(std::move(it->second));
    peers_.erase(it);
  }
  fill_all(now);  // its requests are back in the pool
}

void Download::fill(PeerClient& peer, DownloadClock::time_point now) {
  if (phase_ != Phase::active || !peer.ready()) return;
  if (auto h = hold_until_.find(peer.key()); h != hold_until_.end()) {
    if (now < h->second) return;
    hold_until_.erase(h);
  }
  const size_t depth = peer.pipeline().depth();
  if (peer.outstanding() >= depth) return;
  // Endgame duplicates (pieces already asked of another peer) cost a whole
  // piece each when both copies arrive, so only a peer with nothing else on
  // order gets one, and one at a time: enough that a slow peer cannot hold
  // up the last pieces.
  const PeerPace pace = pace_of(peer, now);
  uint64_t fastest = 0;
  for (const auto& [key, client] : peers_) fastest = std::max(fastest, client->rate().rate(now));
  size_t duplicates = EndgameRules::duplicates_allowed(pace);
  std::vector<PieceIndex> picks = picker_.pick(peer.key(), depth - peer.outstanding(), EndgameRules::scope(pace, fastest));
  if (EndgameRules::starving(pace, fastest, picks.size())) picks = picker_.pick(peer.key(), 1, PickScope::any);
  for (PieceIndex p : picks) {
    if (picker_.requesters_of(p) > 1) {
      if (duplicates == 0 || !overdue(p, peer.key(), now)) {
        picker_.on_request_dropped(peer.key(), p);
        continue;
      }
      --duplicates;
    }
    // The daemon's download rate: what cannot be asked for now goes back to
    // the pool, and the next tick (or delivery) asks again.
    if (env_.limits && !env_.limits->take_download(meta_->piece_length(p), now)) {
      picker_.on_request_dropped(peer.key(), p);
      continue;
    }
    peer.request(p, now);
  }
}

PeerPace Download::pace_of(const PeerClient& peer, DownloadClock::time_point now) const {
  return PeerPace{peer.rate().rate(now), peer.rate().age(now), peer.outstanding()};
}

// Whether every other request for `piece` has been out long enough, for its
// peer's pace, that a second copy is worth asking for. Without this an idle
// fast peer would duplicate every piece a slower one is about to deliver
// (and the CANCEL often comes too late to save the bytes).
bool Download::overdue(PieceIndex piece, PeerKey asking, DownloadClock::time_point now) const {
  for (const auto& [key, client] : peers_) {
    if (key == asking) continue;
    const auto sent = client->requested_at(piece);
    if (sent && !endgame_.overdue(pace_of(*client, now), meta_->piece_length(piece), now - *sent)) return false;
  }
  return true;
}

void Download::fill_all(DownloadClock::time_point now) {
  for (auto& [key, client] : peers_) fill(*client, now);
}

void Download::update_reading() {
  bool want = reading_;
  if (reading_ && verify_backlog_ > env_.options.verify_backlog_high) want = false;
  if (!reading_ && verify_backlog_ <= env_.options.verify_backlog_low) want = true;
  if (want == reading_) return;
  reading_ = want;
  for (auto& [key, client] : peers_) client->set_reading(want);
}

// ---------------------------------------------------------------- pieces

void Download::set_have(PieceIndex piece) {
  if (have_.get(piece)) return;
  have_.set(piece);
  picker_.on_verified(piece);
  done_bytes_ += meta_->piece_length(piece);
  dirty_ = true;
  if (registered_ && env_.registry) env_.registry->piece_added(meta_->file_id, piece);
}

void Download::verified(PieceIndex piece, const std::string& user, const std::string& addr, const Status& result,
                        uint64_t attempt) {
  --verify_backlog_;
  update_reading();
  if (!unfinished()) return;
  const auto now = DownloadClock::now();
  const uint32_t len = meta_->piece_length(piece);
  if (result) {
    set_have(piece);
    if (state_ == State::downloading && attempt == disk_attempt_) disk_retry_.wrote();
    SourceCount& s = sources_[user];
    s.user = user;
    s.addr = addr;
    s.bytes += len;
    if (!announced_ && state_ == State::downloading) announce();
    if (have_.all()) {
      if (phase_ == Phase::active) finish();
      return;
    }
    fill_all(now);
    return;
  }
  picker_.on_verify_failed(piece);
  if (result.error().code != "bad_piece") {
    // A good piece the disk did not take: fetched again once it does.
    rec_.refetched_bytes += len;
    dirty_ = true;
    if (auto trouble = disk_trouble_of(result.error())) {
      if (attempt != disk_attempt_) return fill_all(now);
      return disk_pause(*trouble, result.error());
    }
    return fail(result.error().message);
  }
  rec_.refetched_bytes += len;
  dirty_ = true;
  log_info("download of ", rec_.name, ": piece ", piece, " from ", addr, " (user ", user, ") failed verification");
  // The piece itself is suspect (not just a peer) when max_piece_failures
  // different peers, or one peer kept that long, sent copies that failed. A
  // plain sum would let two liars, banned after max_strikes each, fail an
  // honest download between them.
  auto& by_peer = piece_failures_[piece];
  const int from_this = ++by_peer[addr];
  const int limit = env_.options.max_piece_failures;
  if (from_this >= limit || static_cast<int>(by_peer.size()) >= limit) {
    return fail("piece " + std::to_string(piece.value()) + " failed verification " + std::to_string(limit) +
                " times" + (from_this >= limit ? "" : ", from " + std::to_string(by_peer.size()) + " peers"));
  }
  strike(user, addr);
  fill_all(now);
}

void Download::strike(const std::string& user, const std::string& addr) {
  if (book_.strike(addr) != PeerBook::Strike::banned_now) return;
  const PeerBook::Peer& k = *book_.find(addr);
  log_warn("dropping peer ", addr, " (user ", user, "): ", k.strikes, " pieces failed verification");
  if (auto p = peers_.find(k.link); k.link != 0 && p != peers_.end()) {
    p->second->close("banned: " + std::to_string(k.strikes) + " pieces failed verification");
  }
}

// ---------------------------------------------------------------- timers

void Download::tick(DownloadClock::time_point now) {
  parked_.clear();  // a timer callback: none of them is on the stack
  if (phase_ == Phase::active) {
    std::vector<PeerKey> stalled;
    std::vector<PeerKey> keys;
    for (const auto& [key, client] : peers_) keys.push_back(key);
    for (PeerKey key : keys) {
      // A tick may close its peer (an expired ticket), which leaves peers_.
      if (auto it = peers_.find(key); it != peers_.end()) it->second->tick(now);
      const auto it = peers_.find(key);
      if (it == peers_.end() || !it->second->ready()) continue;
      PeerClient* client = it->second.get();
      const auto expired = client->expire(now, env_.options.request_timeout);
      for (PieceIndex p : expired) picker_.on_request_dropped(key, p);
      if (!expired.empty()) {
        log_debug("download of ", rec_.name, ": ", expired.size(), " request(s) to ", client->addr(),
                  " timed out; its pipeline is now ", client->pipeline().depth());
      }
      if (client->timeouts_in_row() >= env_.options.max_timeouts_in_row) stalled.push_back(key);
    }
    for (PeerKey key : stalled) {
      if (auto it = peers_.find(key); it != peers_.end()) it->second->close("stalled: requests keep timing out");
    }
    connect_peers(now);
    fill_all(now);
    if (now >= next_refresh_) refresh_peers();
  }
  if (disk_paused_) disk_tick(now);
  if (dirty_ && now >= next_commit_) commit(DownloadStep::progress_synced);
}

// ---------------------------------------------------------------- tracker

void Download::refresh_peers() {
  if (refresh_in_flight_ || env_.session->phase() != Session::Phase::active) return;
  refresh_in_flight_ = true;
  next_refresh_ = DownloadClock::now() + env_.options.refresh_interval;
  // Only the peers and the id: the piece hashes (64 hex digits a piece) are
  // known already, and fetching them every few seconds cost the leecher of a
  // 4 GiB file ~0.5 MiB of answer per refresh, parsed and thrown away.
  TrackerApi::Fields fields{{"group", rec_.group}, {"name", rec_.name}, {"peers_only", true}};
  env_.session->request("file_info", std::move(fields),
                        [alive = std::weak_ptr<Download*>(alive_)](Result<Json> r) {
                          auto a = alive.lock();
                          if (!a) return;
                          Download& d = **a;
                          d.refresh_in_flight_ = false;
                          if (!r) {
                            const std::string& code = r.error().code;
                            if (code == "not_logged_in") return;  // paused by the session's event
                            if (code == "no_such_file" || code == "not_member" || code == "no_such_group") {
                              return d.fail(r.error().message);
                            }
                            log_debug("download of ", d.rec_.name, ": no peer list: ", r.error().message);
                            return;
                          }
                          if (d.phase_ != Phase::active) return;
                          const auto id = r->get_string("file_id");
                          if (id && *id != d.meta_->file_id_hex()) {
                            return d.fail(d.rec_.name + " in " + d.rec_.group + " is now another file");
                          }
                          if (d.env_.tickets) d.env_.tickets->take(*r);
                          if (const Json* peers = r->find("peers")) d.add_peers(*peers);
                          d.connect_peers(DownloadClock::now());
                        });
}

void Download::announce() {
  if (env_.session->phase() != Session::Phase::active) return;
  announced_ = true;
  TrackerApi::Fields fields{{"group", rec_.group}, {"file_id", meta_->file_id_hex()}};
  env_.session->request("announce", std::move(fields), [alive = std::weak_ptr<Download*>(alive_)](Result<Json> r) {
    auto a = alive.lock();
    if (!a || r) return;
    Download& d = **a;
    d.announced_ = false;  // the next verified piece tries again
    log_debug("download of ", d.rec_.name, ": announce failed: ", r.error().message);
  });
}

void Download::serve_register() {
  if (registered_ || !env_.registry || env_.registry->find(meta_->file_id)) return;
  Servable s;
  s.group = rec_.group;
  s.name = rec_.name;
  s.meta = meta_.get();
  s.path = rec_.part_path;
  s.have = &have_;
  // Only verified pieces are listed, and the file is ours alone until the
  // rename; a resume re-checks it if it changed meanwhile.
  s.check_intact = [] { return Status(Ok{}); };
  // Served by path: only if the name still leads to our partial file.
  if (part_) {
    s.check_opened = [id = part_->identity()](int fd) -> Status {
      struct stat st {};
      if (fstat(fd, &st) != 0 || !(FileIdentity::of(st) == id)) {
        return make_error("file_changed", "the partial file was replaced by another file");
      }
      return Ok{};
    };
  }
  s.on_broken = [name = rec_.name](const Error& e) {
    log_warn("partial file of ", name, " cannot be served: ", e.message);
  };
  env_.registry->add(meta_->file_id, std::move(s));
  registered_ = true;
}

void Download::serve_unregister() {
  if (!registered_) return;
  registered_ = false;
  if (env_.registry) env_.registry->remove(meta_->file_id);
}

// ---------------------------------------------------------------- state

DownloadRecord Download::snapshot() const {
  DownloadRecord r = rec_;
  r.have = have_.to_bytes();
  r.state = state_name();
  r.error = error_;
  r.disk_trouble = disk_paused_ ? std::string(trouble_name(disk_retry_.trouble())) : std::string();
  r.sources.clear();
  for (const auto& [user, s] : sources_) r.sources.push_back(s);
  return r;
}

void Download::commit(DownloadStep synced_step) { commit_with(part_, synced_step); }

void Download::commit_with(const std::shared_ptr<PartFile>& part, DownloadStep synced_step) {
  if (commit_in_flight_) {
    // Saved again when the one in flight is done; a pause or a failure is
    // what that later commit is about, not progress.
    dirty_ = true;
    if (synced_step != DownloadStep::progress_synced) pending_step_ = synced_step;
    return;
  }
  dirty_ = false;
  next_commit_ = DownloadClock::now() + env_.options.commit_interval;
  DownloadRecord snap = snapshot();
  const uint64_t seq = ++commit_seq_;
  if (!part) return store_save(snap, seq);
  // The bitmap goes to sqlite only once the pieces it lists are on disk.
  commit_in_flight_ = true;
  auto stat = std::make_shared<Result<PartStat>>(PartStat{});
  env_.pool->post(
      [part, stat, synced_step, disk = &disk()] {
        auto s = disk->sync(part->fd());
        *stat = s ? stat_part(part->fd()) : Result<PartStat>(s.error());
        if (*stat) crash_at(synced_step);
      },
      [alive = std::weak_ptr<Download*>(alive_), part, snap = std::move(snap), have = have_, stat, seq,
       synced_step]() mutable {
        auto a = alive.lock();
        if (!a) return;
        Download& d = **a;
        d.commit_in_flight_ = false;
        if (!*stat) {
          log_error("download of ", d.rec_.name, ": ", stat->error().message, "; progress not saved");
          if (auto trouble = disk_trouble_of(stat->error())) return d.sync_failed(*trouble, stat->error());
          d.dirty_ = true;
          return;
        }
        // Unless a later save overtook this one (after a failed sync, above all).
        if (seq > d.saved_seq_) d.synced_have_ = std::move(have);
        snap.part_size = (*stat)->size;
        snap.part_mtime_ns = (*stat)->mtime_ns;
        d.rec_.part_size = snap.part_size;
        d.rec_.part_mtime_ns = snap.part_mtime_ns;
        d.store_save(snap, seq);
        if (synced_step == DownloadStep::progress_synced) crash_at(DownloadStep::progress_saved);
        // A state change (pause, failure, completion) that came meanwhile,
        // synced through the same file even if the download let go of it.
        if (d.dirty_ && d.phase_ != Phase::active) {
          const DownloadStep next = std::exchange(d.pending_step_, DownloadStep::progress_synced);
          d.commit_with(part, next);
        }
      });
}

void Download::save_now() {
  dirty_ = false;
  store_save(snapshot(), ++commit_seq_);
}

void Download::store_save(const DownloadRecord& snap, uint64_t seq) {
  // A commit that waited for its sync must not overwrite what a later one
  // (the completing save, above all) has written meanwhile.
  if (seq <= saved_seq_) return;
  saved_seq_ = seq;
  if (auto s = env_.store->save(snap); !s) log_error("cannot save the download of ", rec_.name, ": ", s.error().message);
}

uint64_t Download::rate(DownloadClock::time_point now) const {
  return phase_ == Phase::active ? rate_.rate(now) : 0;
}

Json Download::to_json(DownloadClock::time_point now) const {
  Json j = Json::object();
  j["group"] = rec_.group;
  j["name"] = rec_.name;
  j["state"] = state_name();
  j["done_bytes"] = done_bytes_;
  j["size"] = meta_->size;
  j["peers"] = static_cast<uint64_t>(connected_peers());
  j["dest"] = rec_.dest;
  j["rate"] = rate(now);
  j["error"] = error_.empty() ? Json(nullptr) : Json(error_);
  j["disk_trouble"] = disk_paused_ ? Json(std::string(trouble_name(disk_retry_.trouble()))) : Json(nullptr);
  Json sources = Json::array();
  for (const auto& [user, s] : sources_) {
    Json item = Json::object();
    item["user"] = s.user;
    item["addr"] = s.addr;
    item["bytes"] = s.bytes;
    sources.push_back(std::move(item));
  }
  j["sources"] = std::move(sources);
  j["received_bytes"] = rec_.received_bytes;
  j["refetched_bytes"] = rec_.refetched_bytes;
  j["file_id"] = meta_->file_id_hex();
  return j;
}

}  // namespace gs::daemon
