#include "shares.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "control_request.h"
#include "download_steps.h"
#include "fd.h"
#include "file_hasher.h"
#include "log.h"
#include "names.h"

namespace gs::daemon {
namespace {

constexpr unsigned kHashThreads = 2;

// docs/protocol.md: local file problems (missing, unreadable, not a regular
// file, changed while hashed) are io_error.
Error file_error(std::string message) { return make_error("io_error", std::move(message)); }

// The smallest piece size from the default up that keeps the file within
// the catalogue's piece limit: small files keep fine-grained pieces.
uint32_t piece_size_for(uint64_t size) {
  uint32_t p = kDefaultPieceSize;
  while (p < kMaxPieceSize && FileMeta::pieces_for(size, p) > kMaxCataloguePieces) p *= 2;
  return p;
}

std::string basename_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A name travels in JSON, which carries only UTF-8: a name that would not
// come back byte for byte could never be found again by its name.
bool json_safe(const std::string& name) {
  auto back = Json::parse(Json(name).dump(), 0);
  return back && back->is_string() && back->as_string() == name;
}

// The tracker's refusals that mean this user may not share this file under
// this name any more; anything else (unreachable, session gone) is retried
// on the next announce.
bool refusal(const Error& e) {
  return e.code == "name_taken" || e.code == "not_member" || e.code == "no_such_group" || e.code == "bad_request";
}

Json share_result(const ShareRecord& rec) {
  Json out = Json::object();
  out["group"] = rec.group;
  out["name"] = rec.name;
  out["size"] = rec.meta.size;
  out["file_id"] = rec.meta.file_id_hex();
  return out;
}

TrackerApi::Fields share_fields(const ShareRecord& rec) {
  return {{"group", rec.group},
          {"name", rec.name},
          {"size", rec.meta.size},
          {"piece_size", rec.meta.piece_size},
          {"hashes", rec.meta.hashes_hex()},
          {"file_id", rec.meta.file_id_hex()}};
}

std::string describe(const ShareRecord& rec) { return "[" + rec.group + "] " + rec.name + " (" + rec.path + ")"; }

}  // namespace

struct Shares::Live {
  ShareRecord rec;
};

Shares::Shares(ShareStore& store, ServeRegistry& registry, Session& session, WorkerPool& pool)
    : store_(store), registry_(registry), session_(session), pool_(pool) {}

Shares::~Shares() {
  cancel_->store(true);
  alive_.reset();
  unregister_all();
}

void Shares::load() {
  if (auto user = session_.user()) register_user(*user);
}

// --- upload -----------------------------------------------------------------

void Shares::upload(const std::string& path, const std::string& group, Done done,
                    std::shared_ptr<ControlProgress> progress) {
  if (session_.phase() != Session::Phase::active) return done(session_.not_logged_in());
  const std::string name = basename_of(path);
  if (std::string problem = file_name_problem(name); !problem.empty()) {
    return done(make_error("bad_request", "cannot share " + path + " under its name: " + problem));
  }
  if (!json_safe(name)) {
    return done(file_error("'" + path + "' has a name that cannot be shared (it must be valid UTF-8); rename it"));
  }
  // stat, not lstat: a symbolic link given on purpose is shared as the file
  // it points to now (resolved once, on the worker, below).
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return done(file_error("no such file: " + path));
    return done(file_error("cannot read " + path + ": " + std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) return done(file_error(path + " is not a regular file"));
  if (::access(path.c_str(), R_OK) != 0) return done(file_error("cannot read " + path + ": " + std::strerror(errno)));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint32_t piece_size = piece_size_for(size);
  if (FileMeta::pieces_for(size, piece_size) > kMaxCataloguePieces) {
    return done(file_error(path + " is too large to share (at most " +
                           std::to_string(uint64_t{kMaxCataloguePieces} * kMaxPieceSize >> 30) + " GiB)"));
  }

  struct Job {
    Result<FileMeta> meta = make_error("cancelled", "not run");
    std::string real_path;  // `path` with every symbolic link resolved
    FileStamp stamp;
    bool changed = false;
  };
  auto job = std::make_shared<Job>();
  auto cancel = cancel_;
  std::weak_ptr<bool> alive = alive_;
  const std::string user = *session_.user();
  log_info("hashing ", path, " to share it in [", group, "]");
  if (progress) progress->total = size;
  pool_.post(
      [job, path, piece_size, cancel, progress] {
        // Symbolic links in `path` are resolved once, here; from now on the
        // share is the real path, opened with O_NOFOLLOW, and the file it
        // named then (device and inode, in the stamp): a link or another
        // file put in its place later is never served.
        char* real = ::realpath(path.c_str(), nullptr);
        if (!real) {
          job->meta = file_error("cannot read " + path + ": " + std::strerror(errno));
          return;
        }
        job->real_path = real;
        std::free(real);
        // O_NONBLOCK so that a FIFO swapped in does not hang the open.
        Fd fd(::open(job->real_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW));
        if (fd.get() < 0) {
          job->meta = file_error("cannot read " + path + ": " + std::strerror(errno));
          return;
        }
        // The stamp is taken before hashing and compared after: a file that
        // changes meanwhile has hashes that describe neither version.
        struct stat before {};
        if (::fstat(fd.get(), &before) != 0) {
          job->meta = file_error("cannot read " + path + ": " + std::strerror(errno));
          return;
        }
        job->stamp = FileStamp::of(before);
        job->meta = hash_fd(fd.get(), path, piece_size, kHashThreads, cancel.get(),
                            progress ? &progress->done : nullptr);
        // The descriptor saw no change, and the name still leads to it (an
        // editor saving by rename leaves the old file open here).
        job->changed = !check_stamp_fd(fd.get(), job->stamp) || !check_stamp(job->real_path, job->stamp);
      },
      [this, alive, job, path, group, user, done = std::move(done)]() mutable {
        if (alive.expired()) return;
        if (!job->meta) {
          const Error& e = job->meta.error();
          log_info("not sharing ", path, ": ", e.message);
          return done(e.code == "bad_file_meta" ? file_error(e.message) : e);
        }
        if (job->changed) return done(file_error(path + " changed while it was being hashed; try again"));
        if (session_.user() != user) {
          return done(make_error("not_logged_in", "the session of '" + user + "' ended while " + path +
                                                      " was being hashed; log in and upload it again"));
        }
        ShareRecord rec;
        rec.user = user;
        rec.group = group;
        rec.name = basename_of(path);
        rec.path = job->real_path;
        rec.meta = std::move(*job->meta);
        rec.stamp = job->stamp;
        share_with_tracker(std::move(rec), std::move(done));
      });
}

void Shares::share_with_tracker(ShareRecord rec, Done done) {
  auto fields = share_fields(rec);
  with_token("share_file", std::move(fields), [this, rec, done = std::move(done)](Result<Json> r) {
    if (!r) return done(r.error());
    if (auto s = keep(rec); !s) {
      log_error("cannot save the share ", describe(rec), ": ", s.error().message,
                "; it is shared until gsd stops, but not after a restart");
    }
    if (registered_user_ == rec.user) activate(rec);
    log_info("sharing ", describe(rec), ", ", rec.meta.size, " bytes, file id ", rec.meta.file_id_hex());
    done(share_result(rec));
  });
}

// --- adopt ------------------------------------------------------------------

void Shares::adopt(const std::string& user, const std::string& group, const std::string& path, const FileMeta& meta,
                   Done done, std::optional<FileStamp> expect) {
  ShareRecord rec;
  rec.user = user;
  rec.group = group;
  rec.name = basename_of(path);
  rec.path = path;
  rec.meta = meta;
  if (std::string problem = file_name_problem(rec.name); !problem.empty() || !json_safe(rec.name)) {
    return done(file_error("'" + path + "' cannot be shared by its name" + (problem.empty() ? "" : ": " + problem)));
  }
  struct stat st {};
  // lstat: a link at `path` is not the downloaded file, wherever it points.
  if (::lstat(path.c_str(), &st) != 0) return done(file_error("cannot read " + path + ": " + std::strerror(errno)));
  rec.stamp = FileStamp::of(st);
  if (!S_ISREG(st.st_mode) || rec.stamp.size != meta.size) {
    return done(file_error(path + " does not hold the downloaded file (" +
                           (S_ISLNK(st.st_mode) ? "it is a symbolic link" : "its size differs") + ")"));
  }
  if (expect && !(rec.stamp == *expect)) {
    return done(file_error(path + " is no longer the downloaded file (something else was put there)"));
  }
  const Key key{group, rec.name};
  if (auto it = active_.find(key); it != active_.end() && it->second->rec.meta.file_id != meta.file_id) {
    return done(make_error("name_taken", "a different file named '" + rec.name + "' is already shared in [" +
                                             group + "] from " + it->second->rec.path));
  }
  // Kept before anything else: the download records itself complete only
  // after this, and the tracker hears of every kept share on each session
  // ready (announce_all) if it cannot be told now.
  if (auto s = keep(rec); !s) log_error("cannot save the share ", describe(rec), ": ", s.error().message);
  crash_at(DownloadStep::share_kept);
  // Served from the final file at once.
  if (registered_user_ == rec.user) activate(rec);
  if (session_.user() != rec.user) {
    log_info("sharing ", describe(rec), " once '", rec.user, "' logs in again");
    return done(share_result(rec));
  }
  with_token("share_file", share_fields(rec), [this, rec, key, done = std::move(done)](Result<Json> r) {
    if (!r && refusal(r.error())) {
      log_warn("not sharing the download ", describe(rec), ": ", r.error().message);
      mark(rec.user, key, ShareState::stopped, r.error().message);
      deactivate(key, rec.meta.file_id);
      return done(r.error());
    }
    if (!r) {
      log_info("sharing ", describe(rec), " locally; the tracker hears of it once reachable (", r.error().message, ")");
    } else {
      log_info("sharing the download ", describe(rec));
    }
    done(share_result(rec));
  });
}

// --- stop -------------------------------------------------------------------

void Shares::stop(const std::string& group, const std::string& name, Done done) {
  if (session_.phase() != Session::Phase::active) return done(session_.not_logged_in());
  const std::string user = *session_.user();
  with_token("stop_share", {{"group", group}, {"name", name}},
             [this, user, group, name, done = std::move(done)](Result<Json> r) {
               // The tracker not knowing the share still ends it here.
               const bool gone_there = !r && (refusal(r.error()) || r.error().code == "no_such_file" ||
                                              r.error().code == "not_sharing");
               if (!r && !gone_there) return done(r.error());
               const Key key{group, name};
               const auto stored = store_.find(user, group, name);
               const bool here = active_.count(key) > 0 || (stored && stored->state == ShareState::active);
               if (!here && !r) return done(r.error());
               if (here) {
                 mark(user, key, ShareState::stopped, "stopped by the user");
                 if (auto it = active_.find(key); it != active_.end()) {
                   log_info("stopped sharing ", describe(it->second->rec));
                   deactivate(key, it->second->rec.meta.file_id);
                 }
               }
               done(null_result());
             });
}

void Shares::group_left(const std::string& group) {
  std::vector<Key> keys;
  for (const auto& [key, live] : active_) {
    if (key.first == group) keys.push_back(key);
  }
  for (const Key& key : keys) {
    const ShareRecord& rec = active_.at(key)->rec;
    log_info("stopped sharing ", describe(rec), ": left the group");
    mark(rec.user, key, ShareState::stopped, "left the group");
    deactivate(key, rec.meta.file_id);
  }
}

// --- session ----------------------------------------------------------------

void Shares::on_session_event(Session::Event event) {
  if (event == Session::Event::ended) {
    unregister_all();
    return;
  }
  const auto user = session_.user();
  if (!user) return;
  if (registered_user_ != *user) register_user(*user);
  announce_all();
}

void Shares::register_user(const std::string& user) {
  unregister_all();
  registered_user_ = user;
  auto all = store_.load_all();
  if (!all) {
    log_error("cannot load the shares: ", all.error().message);
    return;
  }
  for (ShareRecord& rec : *all) {
    if (rec.user != user || rec.state != ShareState::active) continue;
    if (auto intact = check_stamp(rec.path, rec.stamp); !intact) {
      log_warn("not sharing ", describe(rec), " any more: ", intact.error().message);
      mark(rec.user, {rec.group, rec.name}, ShareState::broken, intact.error().message);
      tell_stop(rec.group, rec.name);
      continue;
    }
    activate(std::move(rec));
  }
  if (!active_.empty()) log_info("serving ", active_.size(), " share(s) of '", user, "'");
}

void Shares::unregister_all() {
  registered_user_.clear();
  active_.clear();
  for (const Sha256Digest& id : owned_ids_) registry_.remove(id);
  owned_ids_.clear();
}

void Shares::announce_all() {
  for (const auto& [key, live] : active_) {
    const Sha256Digest id = live->rec.meta.file_id;
    with_token("share_file", share_fields(live->rec), [this, key = key, id](Result<Json> r) {
      if (r) return;
      const auto it = active_.find(key);
      if (it == active_.end() || it->second->rec.meta.file_id != id) return;
      if (!refusal(r.error())) {
        log_debug("announcing ", describe(it->second->rec), " failed: ", r.error().message, "; next time");
        return;
      }
      log_warn("stopped sharing ", describe(it->second->rec), ": the tracker says: ", r.error().message);
      mark(it->second->rec.user, key, ShareState::stopped, r.error().message);
      deactivate(key, id);
    });
  }
}

// --- bookkeeping ------------------------------------------------------------

Status Shares::keep(const ShareRecord& rec) {
  ShareRecord stored = rec;
  stored.state = ShareState::active;
  stored.reason.clear();
  return store_.put(stored);
}

void Shares::activate(ShareRecord rec) {
  const Key key{rec.group, rec.name};
  const Sha256Digest id = rec.meta.file_id;
  auto live = std::make_unique<Live>();
  live->rec = std::move(rec);
  live->rec.state = ShareState::active;
  live->rec.reason.clear();
  // The old share under this name (another file, or the same one from
  // another path) goes first; the registry never points at a freed meta.
  std::unique_ptr<Live> old;
  if (auto it = active_.find(key); it != active_.end()) old = std::move(it->second);
  active_[key] = std::move(live);
  refresh_registry(id);
  if (old && old->rec.meta.file_id != id) refresh_registry(old->rec.meta.file_id);
}

void Shares::deactivate(const Key& key, const Sha256Digest& file_id) {
  const auto it = active_.find(key);
  if (it == active_.end() || it->second->rec.meta.file_id != file_id) return;
  std::unique_ptr<Live> gone = std::move(it->second);
  active_.erase(it);
  refresh_registry(file_id);  // before `gone` (which the registry may point into) is freed
}

void Shares::refresh_registry(const Sha256Digest& file_id) {
  const Live* pick = nullptr;
  for (const auto& [key, live] : active_) {
    if (live->rec.meta.file_id == file_id) {
      pick = live.get();
      break;
    }
  }
  if (!pick) {
    if (owned_ids_.erase(file_id) > 0) registry_.remove(file_id);
    return;
  }
  const ShareRecord& rec = pick->rec;
  Servable s;
  s.group = rec.group;
  s.name = rec.name;
  s.meta = &rec.meta;
  s.path = rec.path;
  s.check_intact = [path = rec.path, stamp = rec.stamp] { return check_stamp(path, stamp); };
  s.check_opened = [stamp = rec.stamp](int fd) { return check_stamp_fd(fd, stamp); };
  s.on_broken = [this, key = Key{rec.group, rec.name}, file_id](const Error& e) { broken(key, file_id, e); };
  registry_.add(file_id, std::move(s));
  owned_ids_.insert(file_id);
}

void Shares::broken(const Key& key, const Sha256Digest& file_id, const Error& why) {
  const auto it = active_.find(key);
  if (it == active_.end() || it->second->rec.meta.file_id != file_id) return;
  const ShareRecord& rec = it->second->rec;
  log_warn("stopped sharing ", describe(rec), ": ", why.message, "; upload it again to share what it holds now");
  mark(rec.user, key, ShareState::broken, why.message);
  tell_stop(rec.group, rec.name);
  deactivate(key, file_id);
}

void Shares::mark(const std::string& user, const Key& key, ShareState state, const std::string& reason) {
  if (auto s = store_.set_state(user, key.first, key.second, state, reason); !s) {
    log_error("cannot record that [", key.first, "] ", key.second, " is ", share_state_name(state), ": ",
              s.error().message);
  }
}

void Shares::tell_stop(const std::string& group, const std::string& name) {
  // The tracker must stop sending downloaders here. If it cannot be told
  // now, the share is gone from this daemon anyway and never announced again.
  if (session_.phase() != Session::Phase::active) return;
  with_token("stop_share", {{"group", group}, {"name", name}}, [group, name](Result<Json> r) {
    if (!r && r.error().code != "not_sharing" && r.error().code != "no_such_file") {
      log_info("could not tell the tracker to stop listing [", group, "] ", name, " here: ", r.error().message);
    }
  });
}

void Shares::with_token(const std::string& op, TrackerApi::Fields fields, TrackerApi::Done done) {
  // Only the lifetime guard is added here: a destroyed Shares hears nothing.
  session_.request(op, std::move(fields), [alive = std::weak_ptr<bool>(alive_), done = std::move(done)](Result<Json> r) {
    if (!alive.expired()) done(std::move(r));
  });
}

}  // namespace gs::daemon
