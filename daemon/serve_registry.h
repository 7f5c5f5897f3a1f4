// What this daemon can serve to other peers, by file id: complete shares
// (Shares) and the verified pieces of downloads in progress (partial
// seeding). The peer server looks entries up here for every handshake and
// request; owners add and remove their entries and report new pieces.
//
// Loop thread only. The registry holds no bytes and opens no files: it is the
// meeting point between the owners of files and the peer server.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "bitfield.h"
#include "crypto.h"
#include "file_meta.h"
#include "result.h"

namespace gs::daemon {

// What this daemon can serve, by file id: complete shares and partial downloads.
struct Servable {
  std::string group;
  std::string name;
  const FileMeta* meta = nullptr;   // owned by the share or download; valid until remove()
  std::string path;                 // the file holding the bytes (a download's partial file)
  const Bitfield* have = nullptr;   // verified pieces; nullptr = all pieces (a complete share)
  // Runs before each piece is served: an error means the bytes on disk can no longer be trusted.
  // The server then answers REJECT and calls on_broken(error) so the owner can stop the share.
  std::function<Status()> check_intact;
  std::function<void(const Error&)> on_broken;
  // Runs on the descriptor the server got by opening `path` (with
  // O_NOFOLLOW): an error means it is not the file meant (another file, or
  // one reached through a directory swapped for a link). Handled like a
  // check_intact error. Empty: any regular file at `path` will do.
  std::function<Status(int fd)> check_opened = nullptr;
};

class ServeRegistry {
 public:
  void add(const Sha256Digest& file_id, Servable s);      // replaces an entry with the same id
  void remove(const Sha256Digest& file_id);               // connections serving it are closed
  const Servable* find(const Sha256Digest& file_id) const;
  void piece_added(const Sha256Digest& file_id, PieceIndex piece);  // a download verified a piece: HAVE to its peers
  // For the peer server: told about piece_added (piece set) and remove (piece nullopt).
  void set_listener(std::function<void(const Sha256Digest&, std::optional<PieceIndex>)> l);

  size_t size() const { return entries_.size(); }

 private:
  std::map<Sha256Digest, Servable> entries_;
  std::function<void(const Sha256Digest&, std::optional<PieceIndex>)> listener_;
};

}  // namespace gs::daemon
