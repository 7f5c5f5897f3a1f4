#include "piece_picker.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace gs {
namespace {

struct Candidate {
  uint32_t key;  // lower is better
  PieceIndex piece;
};

// The best candidates of one pick() as they stream in. It keeps every
// candidate whose key is at most the max-th lowest seen so far (ties
// included, so the final random choice among them stays uniform) and drops
// the rest as it goes, so a pick over many pieces sorts only a few.
class Shortlist {
 public:
  explicit Shortlist(size_t max) : max_(max), prune_at_(2 * max + 64) {}

  void offer(uint32_t key, PieceIndex piece) {
    if (key > cutoff_) {
      return;
    }
    items_.push_back({key, piece});
    if (items_.size() >= prune_at_) {
      prune();
    }
  }

  // The `count` (<= max) lowest-keyed candidates, best first, equal keys in
  // random order; among candidates tied at the last key taken, a uniformly
  // random subset.
  std::vector<PieceIndex> take(size_t count, std::mt19937_64& rng) {
    std::vector<Candidate> chosen;
    if (items_.size() <= count) {
      chosen = items_;
    } else {
      std::nth_element(items_.begin(), items_.begin() + static_cast<ptrdiff_t>(count - 1),
                       items_.end(), by_key);
      const uint32_t last = items_[count - 1].key;
      const auto below_end = std::partition(items_.begin(), items_.end(),
                                            [&](const Candidate& c) { return c.key < last; });
      const auto ties_end = std::partition(below_end, items_.end(),
                                           [&](const Candidate& c) { return c.key == last; });
      chosen.assign(items_.begin(), below_end);
      const auto ties = static_cast<size_t>(ties_end - below_end);
      const size_t need = count - chosen.size();
      // Partial Fisher-Yates: the first `need` ties become a uniform sample.
      for (size_t j = 0; j < need; ++j) {
        std::uniform_int_distribution<size_t> dist(j, ties - 1);
        std::swap(below_end[static_cast<ptrdiff_t>(j)],
                  below_end[static_cast<ptrdiff_t>(dist(rng))]);
        chosen.push_back(below_end[static_cast<ptrdiff_t>(j)]);
      }
    }
    std::shuffle(chosen.begin(), chosen.end(), rng);
    std::stable_sort(chosen.begin(), chosen.end(), by_key);
    std::vector<PieceIndex> pieces;
    pieces.reserve(chosen.size());
    for (const Candidate& c : chosen) {
      pieces.push_back(c.piece);
    }
    return pieces;
  }

 private:
  static bool by_key(const Candidate& a, const Candidate& b) { return a.key < b.key; }

  // Drops everything worse than the max-th best. When ties keep the list
  // long, the next prune waits until it has doubled, so the work per offer
  // stays constant on average.
  void prune() {
    std::nth_element(items_.begin(), items_.begin() + static_cast<ptrdiff_t>(max_ - 1),
                     items_.end(), by_key);
    cutoff_ = items_[max_ - 1].key;
    std::erase_if(items_, [&](const Candidate& c) { return c.key > cutoff_; });
    prune_at_ = std::max(prune_at_, 2 * items_.size());
  }

  size_t max_;
  size_t prune_at_;
  uint32_t cutoff_ = std::numeric_limits<uint32_t>::max();
  std::vector<Candidate> items_;
};

}  // namespace

PiecePicker::PiecePicker(uint32_t piece_count, uint64_t seed, Options options)
    : piece_count_(piece_count),
      options_(options),
      rng_(seed),
      have_(piece_count),
      verifying_(piece_count),
      wanted_(piece_count),
      requested_(piece_count),
      availability_(piece_count, 0),
      requesters_(piece_count),
      idle_count_(piece_count) {
  // A cap of 0 would forbid even the first request of a piece.
  options_.endgame_max_duplicates = std::max<uint32_t>(options_.endgame_max_duplicates, 1);
  wanted_.set_all();
}

bool PiecePicker::have(PieceIndex piece) const { return valid(piece) && have_.get(piece); }

bool PiecePicker::verifying(PieceIndex piece) const {
  return valid(piece) && verifying_.get(piece);
}

bool PiecePicker::wanted(PieceIndex piece) const { return valid(piece) && wanted_.get(piece); }

bool PiecePicker::idle(PieceIndex piece) const {
  return !have_.get(piece) && !verifying_.get(piece) && requesters_[piece.value()].empty();
}

void PiecePicker::refresh(PieceIndex piece, bool was_idle) {
  if (!have_.get(piece) && !verifying_.get(piece)) {
    wanted_.set(piece);
  } else {
    wanted_.clear(piece);
  }
  if (requesters_[piece.value()].empty()) {
    requested_.clear(piece);
  } else {
    requested_.set(piece);
  }
  const bool now_idle = idle(piece);
  if (was_idle && !now_idle) {
    --idle_count_;
  } else if (!was_idle && now_idle) {
    ++idle_count_;
  }
}

void PiecePicker::set_have(PieceIndex piece) {
  if (!valid(piece) || have_.get(piece)) {
    return;
  }
  const bool was_idle = idle(piece);
  // Normally none are left (on_received dropped them); at worst the caller
  // gets an unwanted copy, which is harmless.
  drop_requests(piece, 0, false);
  verifying_.clear(piece);
  have_.set(piece);
  refresh(piece, was_idle);
}

void PiecePicker::add_peer(PeerKey key) { peers_.try_emplace(key, piece_count_); }

void PiecePicker::mark_peer_has(Peer& peer, PieceIndex piece) {
  if (!peer.has.get(piece)) {
    peer.has.set(piece);
    ++availability_[piece.value()];
  }
}

void PiecePicker::peer_has(PeerKey key, PieceIndex piece) {
  auto it = peers_.find(key);
  if (it == peers_.end() || !valid(piece)) {
    return;
  }
  mark_peer_has(it->second, piece);
}

void PiecePicker::peer_has_bitfield(PeerKey key, const Bitfield& has) {
  auto it = peers_.find(key);
  if (it == peers_.end() || has.size() != piece_count_) {
    return;
  }
  Peer& peer = it->second;
  for (size_t w = 0; w < has.word_count(); ++w) {
    Bitfield::for_each_in_word(w, has.word(w) & ~peer.has.word(w),
                               [&](PieceIndex piece) { mark_peer_has(peer, piece); });
  }
}

void PiecePicker::remove_peer(PeerKey key) {
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    return;
  }
  Peer& peer = it->second;
  for (PieceIndex piece : peer.requested) {
    const bool was_idle = idle(piece);
    erase_requester(piece, key);
    refresh(piece, was_idle);
  }
  for (size_t w = 0; w < peer.has.word_count(); ++w) {
    Bitfield::for_each_in_word(w, peer.has.word(w),
                               [&](PieceIndex piece) { --availability_[piece.value()]; });
  }
  peers_.erase(it);
}

uint32_t PiecePicker::availability(PieceIndex piece) const {
  return valid(piece) ? availability_[piece.value()] : 0;
}

void PiecePicker::add_request(PeerKey key, Peer& peer, PieceIndex piece) {
  const bool was_idle = idle(piece);
  requesters_[piece.value()].push_back(key);
  peer.requested.insert(piece);
  refresh(piece, was_idle);
}

void PiecePicker::erase_requester(PieceIndex piece, PeerKey key) {
  auto& who = requesters_[piece.value()];
  who.erase(std::remove(who.begin(), who.end(), key), who.end());
}

std::vector<PeerKey> PiecePicker::drop_requests(PieceIndex piece, PeerKey except, bool has_except) {
  std::vector<PeerKey> others;
  for (PeerKey key : requesters_[piece.value()]) {
    if (auto it = peers_.find(key); it != peers_.end()) {
      it->second.requested.erase(piece);
    }
    if (!has_except || key != except) {
      others.push_back(key);
    }
  }
  requesters_[piece.value()].clear();
  return others;
}

std::vector<PieceIndex> PiecePicker::pick(PeerKey key, size_t max, PickScope scope) {
  auto it = peers_.find(key);
  if (it == peers_.end() || max == 0) {
    return {};
  }
  Peer& peer = it->second;
  const bool random_phase = have_count() < options_.random_first;
  const bool exclusive = scope == PickScope::exclusive;
  Shortlist fresh(max);
  Shortlist duplicates(max);
  for (size_t w = 0; w < peer.has.word_count(); ++w) {
    const uint64_t eligible = peer.has.word(w) & wanted_.word(w);
    if (eligible == 0) {
      continue;
    }
    const uint64_t requested = requested_.word(w);
    Bitfield::for_each_in_word(w, eligible & ~requested, [&](PieceIndex piece) {
      const uint32_t availability = availability_[piece.value()];
      if (exclusive && availability > 1) {
        return;
      }
      // In the random phase every fresh piece ranks the same.
      fresh.offer(random_phase ? 0 : availability, piece);
    });
    if (exclusive) {
      // A duplicate is of a piece another peer was asked for, so has.
      continue;
    }
    Bitfield::for_each_in_word(w, eligible & requested, [&](PieceIndex piece) {
      const auto& who = requesters_[piece.value()];
      if (who.size() < options_.endgame_max_duplicates &&
          std::find(who.begin(), who.end(), key) == who.end()) {
        duplicates.offer(static_cast<uint32_t>(who.size()), piece);
      }
    });
  }
  std::vector<PieceIndex> picked = fresh.take(max, rng_);
  if (picked.size() < max) {
    // Endgame for this peer: nothing fresh is left that it can give us.
    const std::vector<PieceIndex> more = duplicates.take(max - picked.size(), rng_);
    picked.insert(picked.end(), more.begin(), more.end());
  }
  for (PieceIndex piece : picked) {
    add_request(key, peer, piece);
  }
  return picked;
}

std::vector<PeerKey> PiecePicker::on_received(PeerKey from, PieceIndex piece) {
  if (!valid(piece)) {
    return {};
  }
  if (!wanted(piece)) {
    // A late copy (e.g. a CANCEL crossed it on the wire): only the sender's
    // request, if any, is settled.
    on_request_dropped(from, piece);
    return {};
  }
  const bool was_idle = idle(piece);
  std::vector<PeerKey> others = drop_requests(piece, from, true);
  verifying_.set(piece);
  refresh(piece, was_idle);
  return others;
}

void PiecePicker::on_verify_failed(PieceIndex piece) {
  if (!valid(piece) || !verifying_.get(piece)) {
    return;
  }
  const bool was_idle = idle(piece);
  verifying_.clear(piece);
  refresh(piece, was_idle);
}

void PiecePicker::on_request_dropped(PeerKey key, PieceIndex piece) {
  auto it = peers_.find(key);
  if (it == peers_.end() || !valid(piece) || it->second.requested.erase(piece) == 0) {
    return;
  }
  const bool was_idle = idle(piece);
  erase_requester(piece, key);
  refresh(piece, was_idle);
}

size_t PiecePicker::requests_of(PeerKey key) const {
  auto it = peers_.find(key);
  return it == peers_.end() ? 0 : it->second.requested.size();
}

std::vector<PieceIndex> PiecePicker::requested_from(PeerKey key) const {
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    return {};
  }
  return {it->second.requested.begin(), it->second.requested.end()};
}

size_t PiecePicker::requesters_of(PieceIndex piece) const {
  return valid(piece) ? requesters_[piece.value()].size() : 0;
}

}  // namespace gs
