#include "piece_spreader.h"

#include <algorithm>

namespace gs {

PieceSpreader::PieceSpreader(uint32_t piece_count, uint64_t seed, Options options)
    : piece_count_(piece_count),
      options_(options),
      rng_(seed),
      claims_(piece_count, 0),
      sent_(piece_count),
      unsent_(piece_count),
      over_(piece_count == 0) {
  // Without offers a peer could never ask for anything.
  options_.offers_ahead = std::max<uint32_t>(options_.offers_ahead, 1);
  options_.lapse_after = std::max<uint32_t>(options_.lapse_after, 1);
}

std::vector<PieceIndex> PieceSpreader::add_peer(PeerKey key) {
  auto [it, added] = peers_.try_emplace(key, piece_count_);
  if (!added) {
    return {};
  }
  Peer& peer = it->second;
  if (round_over()) {
    peer.advertised.set_all();
    std::vector<PieceIndex> all;
    all.reserve(piece_count_);
    for (PieceIndex p : all_pieces(piece_count_)) {
      all.push_back(p);
    }
    return all;
  }
  std::vector<PieceIndex> offered = top_up(peer);
  std::sort(offered.begin(), offered.end());
  return offered;
}

void PieceSpreader::release(PieceIndex piece) {
  if (claims_[piece.value()] > 0) {
    --claims_[piece.value()];
  }
}

void PieceSpreader::remove_peer(PeerKey key) {
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    return;
  }
  for (const Offer& o : it->second.offers) {
    release(o.piece);
  }
  for (PieceIndex piece : it->second.requested) {
    release(piece);
  }
  peers_.erase(it);
}

std::vector<PieceSpreader::Advert> PieceSpreader::on_request(PeerKey key, PieceIndex piece) {
  auto it = peers_.find(key);
  if (it == peers_.end() || !valid(piece)) {
    return {};
  }
  Peer& peer = it->second;
  ++peer.requests;
  // Its offer turns into a request: the claim on the piece stays.
  const auto offer = std::find_if(peer.offers.begin(), peer.offers.end(),
                                  [&](const Offer& o) { return o.piece == piece; });
  if (offer != peer.offers.end()) {
    peer.offers.erase(offer);
  } else {
    ++claims_[piece.value()];
  }
  peer.requested.push_back(piece);
  if (round_over() || peer.declined) {
    return {};
  }
  // Offers it keeps passing over are pieces it got elsewhere.
  std::erase_if(peer.offers, [&](const Offer& o) {
    if (peer.requests - o.at_request < options_.lapse_after) {
      return false;
    }
    release(o.piece);
    return true;
  });
  std::vector<PieceIndex> offered = top_up(peer);
  if (offered.empty()) {
    return {};
  }
  return {Advert{key, std::move(offered)}};
}

void PieceSpreader::on_cancel(PeerKey key, PieceIndex piece) {
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    return;
  }
  auto& requested = it->second.requested;
  const auto r = std::find(requested.begin(), requested.end(), piece);
  if (r != requested.end()) {
    requested.erase(r);
    release(piece);
  }
}

std::vector<PieceSpreader::Advert> PieceSpreader::on_sent(PeerKey key, PieceIndex piece) {
  if (!valid(piece)) {
    return {};
  }
  if (auto it = peers_.find(key); it != peers_.end()) {
    auto& requested = it->second.requested;
    const auto r = std::find(requested.begin(), requested.end(), piece);
    if (r != requested.end()) {
      requested.erase(r);
      release(piece);
    }
  }
  if (sent_.get(piece)) {
    return {};
  }
  sent_.set(piece);
  --unsent_;
  return unsent_ == 0 && !over_ ? end_round() : std::vector<Advert>{};
}

std::vector<PieceSpreader::Advert> PieceSpreader::on_idle(PeerKey key) {
  auto it = peers_.find(key);
  if (it == peers_.end() || round_over()) {
    return {};
  }
  Peer& peer = it->second;
  if (!peer.offers.empty()) {
    peer.declined = true;
  }
  for (const Offer& o : peer.offers) {
    release(o.piece);
  }
  peer.offers.clear();
  std::vector<PieceIndex> told = peer.declined ? tell_free(peer) : top_up(peer);
  if (!told.empty()) {
    return {Advert{key, std::move(told)}};
  }
  return unsent_in_play() ? std::vector<Advert>{} : end_round();
}

std::vector<PieceIndex> PieceSpreader::tell_free(Peer& peer) {
  std::vector<PieceIndex> told;
  for (PieceIndex p : all_pieces(piece_count_)) {
    if (!peer.advertised.get(p) && claims_[p.value()] == 0) {
      peer.advertised.set(p);
      told.push_back(p);
    }
  }
  return told;
}

bool PieceSpreader::unsent_in_play() const {
  for (PieceIndex p : all_pieces(piece_count_)) {
    if (sent_.get(p)) {
      continue;
    }
    if (claims_[p.value()] > 0) {
      return true;
    }
    for (const auto& [key, peer] : peers_) {
      if (!peer.advertised.get(p)) {
        return true;
      }
    }
  }
  return false;
}

std::vector<PieceIndex> PieceSpreader::top_up(Peer& peer) {
  const size_t need =
      peer.offers.size() >= options_.offers_ahead ? 0 : options_.offers_ahead - peer.offers.size();
  if (need == 0) {
    return {};
  }
  // A uniform sample (reservoir) of the free pieces this peer has not been
  // told about: random, so that offers made to peers at the same time do not
  // all come from the start of the file.
  std::vector<PieceIndex> chosen;
  chosen.reserve(need);
  size_t seen = 0;
  for (PieceIndex p : all_pieces(piece_count_)) {
    if (sent_.get(p) || claims_[p.value()] != 0 || peer.advertised.get(p)) {
      continue;
    }
    ++seen;
    if (chosen.size() < need) {
      chosen.push_back(p);
    } else {
      std::uniform_int_distribution<size_t> dist(0, seen - 1);
      if (const size_t j = dist(rng_); j < need) {
        chosen[j] = p;
      }
    }
  }
  for (PieceIndex p : chosen) {
    peer.advertised.set(p);
    peer.offers.push_back({p, peer.requests});
    ++claims_[p.value()];
  }
  return chosen;
}

std::vector<PieceSpreader::Advert> PieceSpreader::end_round() {
  over_ = true;
  std::vector<Advert> out;
  for (auto& [key, peer] : peers_) {
    Advert a{key, {}};
    for (PieceIndex p : all_pieces(piece_count_)) {
      if (!peer.advertised.get(p)) {
        peer.advertised.set(p);
        a.pieces.push_back(p);
      }
    }
    // Offers mean nothing once everything is advertised.
    for (const Offer& o : peer.offers) {
      release(o.piece);
    }
    peer.offers.clear();
    if (!a.pieces.empty()) {
      out.push_back(std::move(a));
    }
  }
  return out;
}

std::vector<PieceIndex> PieceSpreader::offers_of(PeerKey key) const {
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    return {};
  }
  std::vector<PieceIndex> out;
  for (const Offer& o : it->second.offers) {
    out.push_back(o.piece);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool PieceSpreader::advertised(PeerKey key, PieceIndex piece) const {
  auto it = peers_.find(key);
  return it != peers_.end() && valid(piece) && it->second.advertised.get(piece);
}

}  // namespace gs
