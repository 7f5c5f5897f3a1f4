#include "serve_registry.h"

namespace gs::daemon {

void ServeRegistry::add(const Sha256Digest& file_id, Servable s) { entries_[file_id] = std::move(s); }

void ServeRegistry::remove(const Sha256Digest& file_id) {
  if (entries_.erase(file_id) == 0) return;
  // After the erase, so that a listener that looks the id up finds nothing.
  if (listener_) listener_(file_id, std::nullopt);
}

const Servable* ServeRegistry::find(const Sha256Digest& file_id) const {
  const auto it = entries_.find(file_id);
  return it == entries_.end() ? nullptr : &it->second;
}

void ServeRegistry::piece_added(const Sha256Digest& file_id, PieceIndex piece) {
  const auto it = entries_.find(file_id);
  if (it == entries_.end() || !it->second.meta || !it->second.meta->has_piece(piece)) return;
  if (listener_) listener_(file_id, piece);
}

void ServeRegistry::set_listener(std::function<void(const Sha256Digest&, std::optional<PieceIndex>)> l) {
  listener_ = std::move(l);
}

}  // namespace gs::daemon
