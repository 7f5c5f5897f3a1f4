#include "tracker/replica.h"

#include <algorithm>
#include <utility>

namespace gs::tracker {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr uint64_t kChunksInFlight = 4;
// Batches of entries in flight to one backup: enough to catch up across a
// round trip faster than one batch per round trip.
constexpr uint64_t kBatchesInFlight = 4;

std::string list(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + std::to_string(v[i]);
  return s + "]";
}

std::string pos(LogPos p) { return std::to_string(p.seq) + "@e" + std::to_string(p.epoch); }

std::string ms(Instant::duration d) {
  return std::to_string(duration_cast<milliseconds>(d).count()) + " ms";
}

// A store that never saved a view stands for a new cluster: every tracker
// is in its isr, so its first start waits for all of them (nobody can know
// that no other tracker ever took writes alone otherwise).
View effective(View v, int count) {
  if (v.epoch == 0 && v.isr.empty()) {
    for (int i = 1; i <= count; ++i) v.isr.push_back(i);
  }
  return v;
}

bool well_formed(const View& v, int count) {
  if (v.isr.empty()) return false;
  for (size_t i = 0; i < v.isr.size(); ++i) {
    if (v.isr[i] < 1 || v.isr[i] > count) return false;
    if (i > 0 && v.isr[i] <= v.isr[i - 1]) return false;
  }
  return true;
}

}  // namespace

bool View::contains(int index) const { return std::binary_search(isr.begin(), isr.end(), index); }

bool newer(const View& a, const View& b) {
  return a.epoch != b.epoch ? a.epoch > b.epoch : a.version > b.version;
}

std::string describe(const View& v) {
  return "e" + std::to_string(v.epoch) + "." + std::to_string(v.version) + " " + list(v.isr);
}

const char* role_name(Role r) {
  switch (r) {
    case Role::recovering: return "recovering";
    case Role::backup: return "backup";
    case Role::candidate: return "candidate";
    case Role::primary: return "primary";
  }
  return "?";
}

const char* kind_name(MessageKind k) {
  switch (k) {
    case MessageKind::ping: return "ping";
    case MessageKind::append: return "append";
    case MessageKind::ack: return "ack";
    case MessageKind::refuse: return "refuse";
    case MessageKind::snapshot: return "snapshot";
  }
  return "?";
}

int Replica::epoch_owner(uint64_t epoch, int count) {
  if (epoch == 0) return 0;
  return static_cast<int>((epoch - 1) % static_cast<uint64_t>(count)) + 1;
}

uint64_t Replica::next_epoch(uint64_t above, int self, int count) {
  uint64_t e = above + 1;
  while (epoch_owner(e, count) != self) ++e;
  return e;
}

Replica::Replica(int self, int count, ReplicaStorage& storage, Params params, Instant now,
                 bool force_primary)
    : self_(self), count_(count), storage_(storage), params_(params) {
  known_ = effective(storage_.view(), count_);
  last_call_ = now;
  quiet_until_ = now + quiet_time();
  mark_ = static_cast<uint64_t>(now.time_since_epoch().count());
  for (int i : everyone_but_me()) peers_[i];
  if (force_primary) {
    const uint64_t above = std::max(known_.epoch, storage_.last().epoch);
    become_primary(View{next_epoch(above, self_, count_), 0, {self_}}, now,
                   "forced by the operator (--force-primary): writes that only the other "
                   "trackers had are lost");
    return;
  }
  event("started recovering at " + describe(known_) + ", last " + pos(storage_.last()) +
        "; no decision for " + ms(quiet_time()));
}

std::optional<int> Replica::primary() const {
  if (role_ == Role::primary) return self_;
  if ((role_ == Role::backup || role_ == Role::candidate) && primary_ != 0) return primary_;
  return std::nullopt;
}

std::vector<Message> Replica::take_messages() { return std::exchange(out_, {}); }
std::vector<std::string> Replica::take_events() { return std::exchange(events_, {}); }

std::vector<Replica::PeerStatus> Replica::peers(Instant now) const {
  std::vector<PeerStatus> out;
  for (int i = 1; i <= count_; ++i) {
    if (i == self_) {
      out.push_back({i, true, role_, known_.epoch, storage_.last()});
      continue;
    }
    const Peer& p = peers_.at(i);
    out.push_back({i, live(i, now), p.role, p.view.epoch, p.last});
  }
  return out;
}

// ---- time, liveness, what we hear ----

// Every entry point starts here. A gap of more than timeout / 2 since the
// last call means this process did not run (SIGSTOP, a stalled disk): what
// it knew of the others is stale and the others may have moved on without
// it. It forgets who is live, stops being primary (it must not shrink the
// isr or commit on stale knowledge, rule 7), and makes no decision for one
// timeout so that the others' messages reach it first.
void Replica::observe(Instant now) {
  if (last_call_ && now - *last_call_ > params_.timeout / 2) {
    const std::string gap = ms(now - *last_call_);
    for (auto& [i, p] : peers_) p.heard.reset();
    quiet_until_ = now + quiet_time();
    mark_ = std::max(mark_ + 1, static_cast<uint64_t>(now.time_since_epoch().count()));
    if (role_ == Role::primary) {
      step_down("paused for " + gap);
    } else if (role_ == Role::candidate) {
      abandon("paused for " + gap);
      role_ = Role::recovering;
      primary_ = 0;
    } else {
      if (role_ == Role::backup) primary_ = 0;
      role_ = Role::recovering;
      event("paused for " + gap + ": recovering, no decision for " + ms(params_.timeout));
    }
  }
  last_call_ = now;
}

bool Replica::live(int index, Instant now) const {
  if (index == self_) return true;
  auto it = peers_.find(index);
  return it != peers_.end() && it->second.heard && now - *it->second.heard < params_.timeout;
}

void Replica::hear(const Message& m, Instant now) {
  Peer& p = peers_[m.from];
  if (role_ == Role::primary && p.mark != m.mark) {
    // It started or paused since: whatever we sent it may be gone, and it
    // follows us only on an append that echoes its new mark.
    Follower& f = followers_[m.from];
    f.probed = false;
    f.image.reset();
  }
  p.mark = m.mark;
  p.heard = now;
  p.role = m.role;
  p.view = m.view;
  p.last = m.last;
  p.commit = m.commit;
  p.primary = m.primary;
  learn_view(m.view);
}

void Replica::learn_view(const View& v) {
  if (v.epoch > known_.epoch || (v.epoch == known_.epoch && v.version > known_.version &&
                                 role_ != Role::primary && role_ != Role::candidate)) {
    known_ = v;
  }
}

// ---- entry points ----

void Replica::tick(Instant now) {
  observe(now);
  if (role_ == Role::primary) {
    shrink_and_join(now);
  } else {
    decide_without_primary(now);
  }
  for (int i : everyone_but_me()) send(make(MessageKind::ping, i));
  if (role_ == Role::primary) {
    for (int i : everyone_but_me()) ship(i, now);
    advance_commit();
  }
}

void Replica::receive(const Message& m, Instant now) {
  observe(now);
  if (m.to != self_ || m.from < 1 || m.from > count_ || m.from == self_) return;
  if (!well_formed(m.view, count_)) return;
  if (m.view.epoch > known_.epoch) {
    const std::string why = "tracker " + std::to_string(m.from) + " knows epoch " +
                            std::to_string(m.view.epoch) + ", newer than mine";
    if (role_ == Role::primary) step_down(why);
    if (role_ == Role::candidate) abandon(why);
  }
  hear(m, now);
  if (auto it = leaving_.find(m.from); it != leaving_.end() && m.view.epoch == known_.epoch &&
      m.view.version >= it->second) {
    leaving_.erase(it);  // it knows it is out (a view only grows while it runs)
    advance_commit();
  }
  const bool leads = (m.role == Role::primary || m.role == Role::candidate) &&
                     m.view.epoch == known_.epoch && epoch_owner(m.view.epoch, count_) == m.from;
  switch (m.kind) {
    case MessageKind::ping:
      if (role_ != Role::backup) break;
      if (primary_ == m.from && !leads) {
        // It is not primary any more: no need to wait out the timeout.
        event("primary " + std::to_string(primary_) + " is " + role_name(m.role) + " now");
        primary_ = 0;
      } else if (leads && m.role == Role::primary) {
        // A backup runs on without a pause, so a ping from the primary of
        // the newest epoch is news, not an echo from a queue: follow it.
        follow(m.from, now);
        const auto e = storage_.epoch_at(m.last.seq);
        if (e && *e == m.last.epoch) matched_ = std::max(matched_, m.last.seq);
        commit_ = std::max(commit_, std::min(m.commit, matched_));
      } else if (leads && primary_ == m.from) {
        primary_heard_ = now;  // the candidate we granted
      }
      break;
    case MessageKind::append:
      on_append(m, now);
      break;
    case MessageKind::snapshot:
      on_snapshot(m, now);
      break;
    case MessageKind::ack:
    case MessageKind::refuse:
      if (m.view.epoch != known_.epoch) break;
      if (role_ == Role::primary) on_answer(m, now);
      if (role_ == Role::candidate &&
          std::find(fence_.begin(), fence_.end(), m.from) != fence_.end()) {
        if (m.kind == MessageKind::refuse) {
          abandon("tracker " + std::to_string(m.from) + " refused (its last " + pos(m.last) +
                  ", mine " + pos(storage_.last()) + ")");
        } else if (std::find(grants_.begin(), grants_.end(), m.from) == grants_.end()) {
          grants_.push_back(m.from);
          if (grants_.size() + 1 == fence_.size()) {
            become_primary(known_, now, "every member granted");
          }
        }
      }
      break;
  }
}

std::optional<uint64_t> Replica::submit(std::string record, Instant now) {
  observe(now);
  if (role_ != Role::primary) return std::nullopt;
  const LogPos before = storage_.last();
  Entry e{before.seq + 1, known_.epoch, std::move(record)};
  storage_.append(known_, {e});
  pending_.emplace_back(e.seq, now);
  if (!params_.defer_shipping) flush(now);
  advance_commit();
  return e.seq;
}

void Replica::flush(Instant now) {
  if (role_ != Role::primary) return;
  // Followers that are streaming get what they lack now; the others get it
  // with their next batch (on a tick).
  for (auto& [i, f] : followers_) {
    if (f.probed && !f.image && live(i, now)) ship_entries(i, f, now);
  }
}

// ---- decisions ----

// A backup that lost its primary, or a recovering tracker that has heard
// none: rules 5 (failover) and 8 (cold start).
void Replica::decide_without_primary(Instant now) {
  if (quiet(now)) return;
  if (role_ == Role::candidate) {
    if (now - candidate_since_ >= params_.timeout) abandon("not every member answered");
    return;
  }
  if (role_ == Role::backup && primary_ != 0) {
    if (now - primary_heard_ < params_.timeout) return;
    event("primary " + std::to_string(primary_) + " silent for " + ms(now - primary_heard_));
    primary_ = 0;
  }
  // A live tracker that still hears a primary (or a candidate): that one is
  // up, or its news is on the way; taking over now would make two. This is
  // also what keeps one broken link from starting a failover while the
  // third tracker still hears the primary.
  for (const auto& [i, p] : peers_) {
    if (live(i, now) && p.primary != 0 && p.primary != self_) return;
  }
  // W: the newest view we know. Someone alive must hold every committed
  // entry. Failover: a live member of W's isr is a backup; it has followed
  // the last primary since its own last start or pause, so W (which it
  // knows, and so we know from its pings) is the newest view, and a member
  // that is gone could not have taken over alone without it. Cold start:
  // nobody can say that, so every member of W's isr must be here.
  const View w = known_;
  size_t members_live = 0;
  bool backup_live = false;
  for (int m : w.isr) {
    if (!live(m, now)) continue;
    ++members_live;
    backup_live = backup_live || (m == self_ ? role_ : peers_.at(m).role) == Role::backup;
  }
  if (!backup_live && members_live != w.isr.size()) return;
  // The live tracker with the newest log proposes (ties to the lowest
  // index): it holds every entry any of them holds below its last, the
  // committed ones included. Every live tracker is in the fence, member of
  // W or not: one that W (as we know it) leaves out may be in a newer view
  // that we never heard of, and must learn of this one.
  auto last_of = [&](int i) { return i == self_ ? storage_.last() : peers_.at(i).last; };
  std::vector<int> fence;
  int best = 0;
  LogPos best_last;
  for (int i = 1; i <= count_; ++i) {
    if (!live(i, now)) continue;
    fence.push_back(i);
    const LogPos l = last_of(i);
    if (best == 0 || l.epoch > best_last.epoch ||
        (l.epoch == best_last.epoch && l.seq > best_last.seq)) {
      best = i;
      best_last = l;
    }
  }
  if (best != self_) return;
  // The new isr: the live trackers whose log ends where ours ends, i.e.
  // equals ours (one primary per epoch, entries only after a matching
  // prev). One that is behind may lack a committed entry and must not be
  // able to take over from this view; it is caught up and joins later.
  std::vector<int> isr;
  for (int i : fence) {
    if (last_of(i) == best_last) isr.push_back(i);
  }
  const uint64_t above =
      std::max({known_.epoch, floor_, storage_.view().epoch, storage_.last().epoch});
  propose(View{next_epoch(above, self_, count_), 0, std::move(isr)}, std::move(fence), now,
          (backup_live ? "failover from " : "cold start from ") + describe(w));
}

// Rule 5/8, first half: the new view is offered to every live tracker
// (`fence`), in the new isr or not. It becomes the primary's
// durable view only once every one of them has durably accepted it, and so
// refuses any older epoch and knows whether it is in the new isr: a
// takeover that nobody else learned of must not outrank, after a crash, an
// older epoch that went on taking writes; and a member left out must not
// believe itself still in the last isr and take over from it.
void Replica::propose(View v, std::vector<int> fence, Instant now, const std::string& why) {
  floor_ = std::max(floor_, v.epoch);
  if (fence.size() == 1) {
    become_primary(std::move(v), now, why + ", alone");
    return;
  }
  role_before_ = role_;
  known_before_ = known_;
  role_ = Role::candidate;
  primary_ = 0;
  known_ = std::move(v);
  candidate_since_ = now;
  fence_ = std::move(fence);
  grants_.clear();
  event("candidate for " + describe(known_) + " at last " + pos(storage_.last()) + ": " + why);
  for (int i : fence_) {
    if (i != self_) probe(i);
  }
}

void Replica::abandon(const std::string& why) {
  event("gave up " + describe(known_) + ": " + why);
  role_ = role_before_;
  known_ = known_before_;
  grants_.clear();
}

void Replica::become_primary(View v, Instant now, const std::string& why) {
  floor_ = std::max(floor_, v.epoch);
  storage_.save_view(v);  // durable before anything else
  known_ = v;
  role_ = Role::primary;
  primary_ = 0;
  matched_ = 0;
  incoming_.reset();
  image_.reset();
  followers_.clear();
  pending_.clear();
  leaving_.clear();
  joining_.clear();
  const LogPos last = storage_.last();
  takeover_last_ = last.seq;
  // Entries inherited from the last epoch may be uncommitted: each member
  // must ack them within timeout like new ones, or leave the isr.
  if (last.seq > commit_) pending_.emplace_back(last.seq, now);
  event("primary of " + describe(v) + " at last " + pos(last) + ": " + why);
  for (int i : everyone_but_me()) {
    Follower& f = followers_[i];
    f.progress = now;
    probe(i);
  }
  advance_commit();
}

void Replica::step_down(const std::string& why) {
  role_ = Role::recovering;
  primary_ = 0;
  followers_.clear();
  pending_.clear();
  leaving_.clear();
  joining_.clear();
  image_.reset();
  event("stepped down from " + describe(known_) + ": " + why + "; writes above commit " +
        std::to_string(commit_) + " fail");
}

void Replica::follow(int primary, Instant now) {
  if (role_ != Role::backup || primary_ != primary) {
    primary_ = primary;
    matched_ = 0;
    incoming_.reset();
    role_ = Role::backup;
    event("backup of " + std::to_string(primary) + " at " + describe(known_));
  }
  primary_heard_ = now;
}

// Rules 3 and 4. The new view is durable here before advance_commit() can
// count the smaller isr. A member that is silent (not live) leaves at once:
// it is stopped or gone, and it comes back recovering. One that is live but
// late leaves only once it shows that it knows the new view (leaving_): it
// runs on as a backup, and one that wrongly believed itself in the isr could
// take over later without the writes committed after it left.
void Replica::shrink_and_join(Instant now) {
  if (quiet(now)) return;
  for (auto it = leaving_.begin(); it != leaving_.end();) {
    it = live(it->first, now) ? std::next(it) : leaving_.erase(it);
  }
  std::vector<int> isr;
  std::vector<int> late_live;
  std::string change;
  for (int m : known_.isr) {
    if (m != self_ && late(m, followers_[m], now)) {
      change += " -" + std::to_string(m);
      if (live(m, now)) late_live.push_back(m);
    } else {
      isr.push_back(m);
    }
  }
  for (auto& [i, f] : followers_) {
    const auto at = std::find(joining_.begin(), joining_.end(), i);
    if (known_.contains(i) || !live(i, now) || !f.probed || f.image || late(i, f, now)) {
      if (at != joining_.end()) joining_.erase(at);
      continue;
    }
    // A backup that keeps up is counted for commits first (joining_); it
    // joins once it holds every entry that may be committed: the ones we
    // took over with and the ones committed since. From then on commits
    // wait for it as a member.
    if (f.match < std::max(commit_, takeover_last_)) {
      if (at == joining_.end()) joining_.push_back(i);
      continue;
    }
    if (at != joining_.end()) joining_.erase(at);
    isr.push_back(i);
    leaving_.erase(i);
    change += " +" + std::to_string(i);
  }
  if (change.empty()) return;
  std::sort(isr.begin(), isr.end());
  View v{known_.epoch, known_.version + 1, isr};
  storage_.save_view(v);
  known_ = v;
  for (int m : late_live) leaving_[m] = v.version;
  event("isr" + change + ": " + describe(v));
  // Carry the new view to everyone now; the backups keep it durably.
  for (int i : everyone_but_me()) probe(i);
}

bool Replica::late(int index, const Follower& f, Instant now) const {
  if (!live(index, now)) return true;
  auto it = std::upper_bound(pending_.begin(), pending_.end(), f.match,
                             [](uint64_t seq, const auto& p) { return seq < p.first; });
  return it != pending_.end() && now - it->second > params_.timeout;
}

// Rule 1: committed = on every member of the isr durably.
void Replica::advance_commit() {
  if (role_ != Role::primary) return;
  uint64_t c = storage_.last().seq;
  auto count = [&](int m) {
    const Follower& f = followers_[m];
    c = std::min(c, f.probed ? f.match : 0);
  };
  for (int m : known_.isr) {
    if (m != self_) count(m);
  }
  for (const auto& [m, version] : leaving_) count(m);
  for (int m : joining_) count(m);
  commit_ = std::max(commit_, c);
  while (!pending_.empty() && pending_.front().first <= commit_) pending_.pop_front();
}

// ---- primary: shipping ----

void Replica::ship(int index, Instant now) {
  if (!live(index, now)) return;
  Follower& f = followers_[index];
  if (f.image) {
    ship_snapshot(index, f, now);
    return;
  }
  // Until it answers at this epoch, or while its pings show an older view
  // than ours (a member that left must learn it, rule 3), an empty append.
  if (!f.probed || newer(known_, peers_[index].view)) {
    probe(index);
    if (!f.probed) return;
  }
  // Appends or their acks may have been lost with a broken link: go back to
  // what it acked.
  if (f.match < f.sent && now - f.progress >= 2 * params_.tick) {
    f.sent = f.match;
    f.progress = now;
  }
  if (f.sent < storage_.last().seq) ship_entries(index, f, now);
}

// An empty append from the empty log: every backup accepts it (durably
// taking the view it carries) and answers with its last, from which the
// primary sees where it stands.
void Replica::probe(int index) { send(make(MessageKind::append, index)); }

void Replica::ship_entries(int index, Follower& f, Instant now) {
  const uint64_t last = storage_.last().seq;
  const uint64_t window = kBatchesInFlight * std::max<size_t>(params_.max_batch, 1);
  while (f.sent < last && f.sent - std::min(f.sent, f.match) < window) {
    const auto prev_epoch = storage_.epoch_at(f.sent);
    auto batch = storage_.entries_after(f.sent, params_.max_batch);
    if (!prev_epoch || !batch) {
      start_snapshot(index, f, now);  // no longer kept
      return;
    }
    if (batch->empty()) return;
    // One frame each: a batch of large records (a file's piece hashes) is cut.
    size_t keep = 1;
    for (size_t bytes = batch->front().record.size(); keep < batch->size(); ++keep) {
      bytes += (*batch)[keep].record.size();
      if (bytes > params_.max_batch_bytes) break;
    }
    batch->resize(keep);
    Message m = make(MessageKind::append, index);
    m.prev = {f.sent, *prev_epoch};
    m.entries = std::move(*batch);
    f.sent = m.entries.back().seq;
    send(std::move(m));
  }
}

void Replica::start_snapshot(int index, Follower& f, Instant now) {
  const LogPos last = storage_.last();
  if (!image_ || !(image_pos_ == last)) {
    image_ = std::make_shared<const std::string>(storage_.snapshot());
    image_pos_ = last;
  }
  f.image = image_;
  f.image_pos = image_pos_;
  f.image_acked = f.image_sent = 0;
  f.progress = now;
  event("snapshot to " + std::to_string(index) + ": " + std::to_string(image_->size()) +
        " bytes at " + pos(image_pos_));
  ship_snapshot(index, f, now);
}

void Replica::ship_snapshot(int index, Follower& f, Instant now) {
  const uint64_t total = f.image->size();
  if (f.image_sent > f.image_acked && now - f.progress >= 2 * params_.tick) {
    f.image_sent = f.image_acked;  // resume from what it holds
    f.progress = now;
  }
  // A few chunks in flight: enough to keep a link busy, little to resend.
  const uint64_t chunk = std::max<size_t>(params_.snapshot_chunk, 1);
  bool first = f.image_sent == 0;
  while ((f.image_sent < total && f.image_sent - f.image_acked < kChunksInFlight * chunk) ||
         (total == 0 && first)) {
    first = false;
    Message m = make(MessageKind::snapshot, index);
    m.prev = f.image_pos;
    m.total = total;
    m.offset = f.image_sent;
    m.bytes = f.image->substr(f.image_sent, chunk);
    f.image_sent += m.bytes.size();
    m.done = f.image_sent == total;
    send(std::move(m));
  }
}

// An ack or a refusal from a tracker at our epoch.
void Replica::on_answer(const Message& m, Instant now) {
  Follower& f = followers_[m.from];
  if (m.received) {  // progress of a snapshot transfer
    if (!f.image || *m.received > f.image->size()) return;
    if (*m.received > f.image_acked) f.progress = now;
    if (*m.received < f.image_acked) f.image_sent = *m.received;  // it lost what it had
    f.image_acked = *m.received;
    f.image_sent = std::max(f.image_sent, f.image_acked);
    ship_snapshot(m.from, f, now);
    return;
  }
  // Its log equals ours up to its last if our entry there has the same
  // epoch (one primary per epoch, and entries are only ever appended after a
  // matching prev). If we cannot tell, or it has entries we do not, it gets
  // a snapshot: the store cannot cut a log short.
  const LogPos l = m.last;
  const LogPos mine = storage_.last();
  // The end of an image we sent is a point of our log even when we no
  // longer keep it: a backup that installed the image answers with it.
  const bool matches = l.seq == 0 || (f.image && l == f.image_pos) ||
                       (l.seq <= mine.seq && storage_.epoch_at(l.seq) == l.epoch);
  if (!matches) {
    if (!f.image) start_snapshot(m.from, f, now);
    return;
  }
  f.image.reset();
  f.probed = true;
  if (l.seq > f.match) {
    f.match = l.seq;
    f.progress = now;
  }
  if (m.kind == MessageKind::refuse) {
    f.sent = l.seq;  // it has a gap: resend from its last
    f.progress = now;
  } else {
    f.sent = std::max(f.sent, l.seq);
  }
  advance_commit();
  if (live(m.from, now) && f.sent < mine.seq) ship_entries(m.from, f, now);
}

// ---- backup: accepting ----

// Appends and snapshots are accepted only from the primary (or candidate)
// of the newest epoch we know (rule 6): an older one is refused, and the
// refusal carries our view so it steps down. A candidate is refused too
// when its log is older than ours, or differs from ours while it counts us
// in its isr. A
// recovering replica answers only an append that echoes its current mark:
// one that waited in a queue while it was stopped says nothing of now.
Replica::Accept Replica::accept_primary(const Message& m, Instant now) {
  if (role_ == Role::primary || role_ == Role::candidate ||
      (m.role != Role::primary && m.role != Role::candidate) || m.view.epoch != known_.epoch ||
      epoch_owner(m.view.epoch, count_) != m.from) {
    return Accept::refuse;
  }
  if (role_ == Role::recovering && m.echo != mark_) return Accept::ignore;
  // A member grants a candidate whose log is not older than its own, and,
  // if the candidate put it in the new isr, equal to its own (the candidate
  // did so on that belief).
  if (m.role == Role::candidate) {
    const LogPos mine = storage_.last();
    const bool older = m.last.epoch < mine.epoch ||
                       (m.last.epoch == mine.epoch && m.last.seq < mine.seq);
    if (older || (m.view.contains(self_) && !(m.last == mine))) return Accept::refuse;
  }
  follow(m.from, now);
  return Accept::yes;
}

void Replica::save_view_if_newer() {
  if (newer(known_, effective(storage_.view(), count_))) storage_.save_view(known_);
}

void Replica::on_append(const Message& m, Instant now) {
  if (const Accept a = accept_primary(m, now); a != Accept::yes) {
    if (a == Accept::refuse) send(make(MessageKind::refuse, m.from));
    return;
  }
  const LogPos last = storage_.last();
  bool ok = m.prev.seq <= last.seq;  // else a gap: something before was lost
  if (ok && m.prev.seq > 0) ok = storage_.epoch_at(m.prev.seq) == m.prev.epoch;
  // Entries we have already (a resend) must be the same ones.
  size_t have = 0;
  while (ok && have < m.entries.size() && m.entries[have].seq <= last.seq) {
    ok = storage_.epoch_at(m.entries[have].seq) == m.entries[have].epoch;
    ++have;
  }
  if (!ok) {
    save_view_if_newer();
    send(make(MessageKind::refuse, m.from));
    return;
  }
  if (have < m.entries.size()) {
    storage_.append(known_, std::vector<Entry>(m.entries.begin() + static_cast<long>(have),
                                               m.entries.end()));
  } else {
    save_view_if_newer();
  }
  matched_ = std::max(matched_, m.prev.seq + m.entries.size());
  commit_ = std::max(commit_, std::min(m.commit, matched_));
  send(make(MessageKind::ack, m.from));
}

void Replica::on_snapshot(const Message& m, Instant now) {
  if (m.role != Role::primary) return;
  if (const Accept a = accept_primary(m, now); a != Accept::yes) {
    if (a == Accept::refuse) send(make(MessageKind::refuse, m.from));
    return;
  }
  save_view_if_newer();
  // Our log is known to equal the primary's beyond the image already: a
  // chunk of an old transfer. Installing it would cut off entries we acked.
  // (At the image's end exactly, it is needed only to cut off a tail of
  // entries the primary does not have.)
  if (matched_ > m.prev.seq || (matched_ == m.prev.seq && storage_.last().seq == matched_)) {
    send(make(MessageKind::ack, m.from));
    return;
  }
  auto progress = [&](uint64_t received) {
    Message a = make(MessageKind::ack, m.from);
    a.received = received;
    send(std::move(a));
  };
  const bool same = incoming_ && incoming_->epoch == m.view.epoch && incoming_->pos == m.prev &&
                    incoming_->total == m.total;
  if (m.offset == 0) {
    incoming_ = Incoming{m.view.epoch, m.prev, m.total, {}};
  } else if (!same || incoming_->data.size() != m.offset) {
    progress(same ? incoming_->data.size() : 0);
    return;
  }
  if (m.bytes.size() > m.total - incoming_->data.size()) {
    incoming_.reset();
    progress(0);
    return;
  }
  incoming_->data += m.bytes;
  if (incoming_->data.size() < m.total) {
    progress(incoming_->data.size());
    return;
  }
  storage_.install_snapshot(incoming_->data);
  incoming_.reset();
  save_view_if_newer();  // the image carries the view of when it was taken
  matched_ = storage_.last().seq;
  commit_ = std::max(commit_, std::min(m.commit, matched_));
  event("installed a snapshot from " + std::to_string(m.from) + " at " +
        pos(storage_.last()));
  send(make(MessageKind::ack, m.from));
}

// ---- messages ----

Message Replica::make(MessageKind kind, int to) const {
  Message m;
  m.kind = kind;
  m.from = self_;
  m.to = to;
  m.view = known_;
  m.role = role_;
  m.last = storage_.last();
  m.commit = commit_;
  m.primary = role_ == Role::primary || role_ == Role::candidate
                  ? self_
                  : (role_ == Role::backup ? primary_ : 0);
  m.mark = mark_;
  if (auto it = peers_.find(to); it != peers_.end()) m.echo = it->second.mark;
  return m;
}

void Replica::send(Message m) { out_.push_back(std::move(m)); }

std::chrono::milliseconds Replica::quiet_time() const {
  // A tracker alone in its file has nobody to hear first.
  return count_ == 1 ? std::chrono::milliseconds(0) : params_.timeout;
}

void Replica::event(std::string text) { events_.push_back(std::move(text)); }

std::vector<int> Replica::everyone_but_me() const {
  std::vector<int> v;
  for (int i = 1; i <= count_; ++i) {
    if (i != self_) v.push_back(i);
  }
  return v;
}

}  // namespace gs::tracker
