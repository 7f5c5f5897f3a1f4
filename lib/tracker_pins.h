// Which key each tracker of a trackers file must prove it holds on a TLS
// link: the key written beside it in the file (key=HEX), else the key it
// showed the first time (trust on first use), kept by a Memory. Links to a
// tracker then fail with wrong_key, naming both keys, when another shows up.
//
// Likewise the cluster key, which signs access tickets (lib/ticket.h): the
// file's cluster_key= line, else the key the first tracker hello named, kept
// by the Memory under the name "cluster".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "framed_conn.h"
#include "trackers_file.h"

namespace gs {

class TrackerPins {
 public:
  // Where keys learned on first use are kept (gsd: gsd.db; gs-tracker: a file
  // in its state directory).
  struct Memory {
    virtual ~Memory() = default;
    virtual std::string recall(const std::string& tracker) = 0;  // raw key; empty: none
    virtual void remember(const std::string& tracker, const std::string& key) = 0;
  };
  // A Memory in a small text file ("HOST:PORT HEX" lines), rewritten whole.
  static std::unique_ptr<Memory> file_memory(std::string path);

  // `tls` null: links are plain (tls = false) and nothing is pinned.
  // `memory` may be null (nothing learned is kept).
  TrackerPins(const TlsContext* tls, TrackersFile file, Memory* memory);

  const std::vector<Endpoint>& trackers() const { return file_.trackers; }
  LinkSecurity security(size_t index) const;
  // A link to tracker `index` came up having proved `key`: pins it when no
  // key was pinned yet.
  void proven(size_t index, std::string_view key);
  // True when `key` may speak for tracker `index`: it is the key pinned for
  // it, or nothing is pinned yet.
  bool may_be(size_t index, std::string_view key) const;

  // The raw key that signs access tickets; empty while none is known.
  const std::string& cluster_key() const;
  // Tracker `index` named `key` (raw) as the cluster's in its hello: pins it
  // when none is; an error ("wrong_cluster_key") naming both keys and where
  // the pinned one came from when it differs.
  Status offer_cluster_key(size_t index, std::string_view key);

 private:
  // The key tracker `index` must prove: the file's, else the one learned.
  const std::string& pinned(size_t index) const;

  const TlsContext* tls_;
  TrackersFile file_;
  Memory* memory_;
  std::vector<std::string> learned_;  // per tracker: the key trusted on first use
  std::string learned_cluster_key_;    // the cluster key trusted on first use
};

}  // namespace gs
