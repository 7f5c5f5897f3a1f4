// gsd's durable state: STATE_DIR/gsd.db (sqlite, WAL). It holds the seat id
// (made once, on first start) and the session of the logged-in user: the
// user name and the tracker's token, never the password. Shares and
// downloads have their own tables, versioned apart (share_store.h,
// download_store.h); each set has its row in schema_version (lib/schema.h).
//
// The state directory is locked (STATE_DIR/gsd.lock, flock) for as long as a
// State is open, so two daemons can never share one seat by mistake.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "db.h"
#include "result.h"

namespace gs::daemon {

struct StoredSession {
  std::string user;
  std::string token;
  friend bool operator==(const StoredSession&, const StoredSession&) = default;
};

// A token as the tracker hands it out: 1-512 printable ASCII characters, no
// spaces. Anything else in a tracker answer or in the state file is refused.
bool valid_token(std::string_view token);

class State {
 public:
  // The version of the state tables this gsd writes (component "state" in
  // schema_version, lib/schema.h).
  static constexpr int kSchemaVersion = 1;
  static constexpr std::string_view kSchemaComponent = "state";

  // Creates `dir` (0700) if needed, locks it, opens or creates gsd.db and
  // brings its schema up to date. Errors say what is wrong and with which file.
  static Result<std::unique_ptr<State>> open(const std::string& dir);
  ~State();
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // 32 hex digits (16 random bytes), the same for the life of the state file.
  const std::string& seat() const { return seat_; }
  const std::optional<StoredSession>& session() const { return session_; }
  Status save_session(const StoredSession& session);
  Status clear_session();
  const std::string& db_path() const { return db_->path(); }
  // Small facts kept beside the seat (e.g. tracker keys trusted on first
  // use): empty when unset.
  std::string meta(const std::string& key);
  Status set_meta(const std::string& key, const std::string& value);

 private:
  State() = default;
  Status load();

  int lock_fd_ = -1;
  std::unique_ptr<Db> db_;
  std::string seat_;
  std::optional<StoredSession> session_;
};

}  // namespace gs::daemon
