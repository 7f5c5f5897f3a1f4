#include "state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "crypto.h"
#include "names.h"
#include "paths.h"
#include "schema.h"

namespace gs::daemon {
namespace {

constexpr size_t kSeatBytes = 16;
constexpr size_t kMaxTokenLength = 512;

// steps[i] takes the state tables from version i to i + 1 (lib/schema.h).
// Shipped steps are never edited; a change is a new step at the end.
constexpr const char* kSchemaSteps[] = {
    // 0 -> 1: the seat id and the logged-in session (one row at most).
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE session("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  user TEXT NOT NULL,"
    "  token TEXT NOT NULL,"
    "  created INTEGER NOT NULL);",
};
static_assert(std::size(kSchemaSteps) == State::kSchemaVersion, "append a step and bump kSchemaVersion together");

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return {};
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char c : s) {
    if (c < '0' || c > '9') return {};
  }
  return s;
}

// One gsd per state directory: a second one would log in with the same seat
// and fight over the session. flock is released by the kernel however the
// holder dies, so a crashed daemon never leaves a stale lock behind.
Result<int> lock_dir(const std::string& dir) {
  const std::string path = dir + "/gsd.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("state_error", "cannot open " + path + ": " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string pid = read_pid(fd);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return make_error("state_locked", "state directory " + dir + " is in use by another gsd" +
                                            (pid.empty() ? "" : " (pid " + pid + ")") +
                                            "; give this one its own --state-dir");
    }
    return make_error("state_error", "cannot lock " + path + ": " + std::strerror(err));
  }
  // For the message above, seen by the next daemon that tries; best effort.
  const std::string me = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, me.data(), me.size(), 0);
  return fd;
}

}  // namespace

bool valid_token(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenLength) return false;
  for (char c : token) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

Result<std::unique_ptr<State>> State::open(const std::string& dir) {
  if (auto s = make_dirs(dir, 0700); !s) return make_error("state_error", s.error().message);
  std::unique_ptr<State> st(new State());
  auto fd = lock_dir(dir);
  if (!fd) return fd.error();
  st->lock_fd_ = *fd;

  // The file holds a session token, a credential: private from its first
  // byte, including the -wal and -shm files sqlite creates next to it.
  const std::string path = dir + "/gsd.db";
  const mode_t old_mask = umask(077);
  auto db = Db::open(path);
  umask(old_mask);
  if (!db) return db.error();
  st->db_ = std::move(*db);
  // A file from before (or copied in) may be more open than that.
  (void)chmod(path.c_str(), 0600);

  // Releases before schema_version kept this version in PRAGMA user_version.
  if (auto s = migrate(*st->db_, kSchemaComponent, kSchemaSteps, take_legacy_user_version); !s) return s.error();
  if (auto s = st->load(); !s) return s.error();
  return st;
}

State::~State() {
  db_.reset();  // close the database before giving up the lock
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status State::load() {
  const auto damaged = [&](const std::string& what) {
    return make_error("db_damaged", "state file " + db_path() + " " + what + "; move it aside to start afresh");
  };
  {
    // INSERT OR IGNORE keeps an existing seat: it is made once per state file.
    Transaction tx(*db_);
    auto ins = db_->prepare("INSERT OR IGNORE INTO meta(key, value) VALUES('seat', ?)");
    ins.bind(1, std::string_view(to_hex(random_bytes(kSeatBytes))));
    if (auto s = ins.run(); !s) return make_error("state_error", "cannot write " + db_path() + ": " + s.error().message);
    if (auto s = tx.commit(); !s) return make_error("state_error", "cannot write " + db_path() + ": " + s.error().message);
  }
  auto seat = db_->prepare("SELECT value FROM meta WHERE key = 'seat'");
  auto row = seat.step();
  if (!row) return damaged("cannot be read (" + row.error().message + ")");
  if (!*row) return damaged("has no seat id");
  seat_ = seat.column_text(0);
  if (seat_.size() != 2 * kSeatBytes || !is_hex(seat_)) return damaged("holds a malformed seat id");

  auto sess = db_->prepare("SELECT user, token FROM session WHERE id = 1");
  row = sess.step();
  if (!row) return damaged("cannot be read (" + row.error().message + ")");
  if (*row) {
    StoredSession s{sess.column_text(0), sess.column_text(1)};
    if (!valid_name(s.user) || !valid_token(s.token)) return damaged("holds a malformed session");
    session_ = std::move(s);
  }
  return Ok{};
}

std::string State::meta(const std::string& key) {
  auto st = db_->prepare("SELECT value FROM meta WHERE key = ?");
  st.bind(1, std::string_view(key));
  auto row = st.step();
  return row && *row ? st.column_text(0) : std::string();
}

Status State::set_meta(const std::string& key, const std::string& value) {
  auto st = db_->prepare("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  st.bind(1, std::string_view(key)).bind(2, std::string_view(value));
  if (auto s = st.run(); !s) return make_error("state_error", "cannot write " + db_path() + ": " + s.error().message);
  return Ok{};
}

Status State::save_session(const StoredSession& session) {
  auto st = db_->prepare(
      "INSERT INTO session(id, user, token, created) VALUES(1, ?, ?, ?) "
      "ON CONFLICT(id) DO UPDATE SET user = excluded.user, token = excluded.token, created = excluded.created");
  st.bind(1, std::string_view(session.user))
      .bind(2, std::string_view(session.token))
      .bind(3, static_cast<int64_t>(std::time(nullptr)));
  if (auto s = st.run(); !s) return s.error();
  session_ = session;
  return Ok{};
}

Status State::clear_session() {
  // Forget in memory first: even if the file cannot be written, this daemon
  // must stop using the session now.
  session_.reset();
  auto st = db_->prepare("DELETE FROM session");
  return st.run();
}

}  // namespace gs::daemon
