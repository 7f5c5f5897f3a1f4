#include "downloads.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "log.h"
#include "names.h"

namespace gs::daemon {
namespace {

constexpr timeval kTick{0, 250'000};

// docs/protocol.md names io_error for a destination that cannot be used.
Error bad_dest(std::string message) { return make_error("io_error", std::move(message)); }

std::string part_path_of(const std::string& dest) { return dest + std::string(kPartSuffix); }

}  // namespace

Result<std::string> resolve_dest(const std::string& dest, const std::string& name) {
  if (dest.empty() || dest[0] != '/' || dest.find('\0') != std::string::npos) {
    return make_error("bad_request", "the destination must be an absolute path");
  }
  if (std::string problem = path_problem(dest, "destination"); !problem.empty()) {
    return make_error("bad_request", "the " + problem);
  }
  if (std::string problem = file_name_problem(name); !problem.empty()) {
    return make_error("bad_request", "cannot download to that name: " + problem);
  }
  std::string path = dest;
  struct stat st {};
  if (stat(dest.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    path = (path == "/" ? "" : path) + "/" + name;
  } else if (path.back() == '/') {
    return bad_dest("directory " + dest + " does not exist");
  }
  // The file lands in its directory under its last component, which is a
  // file name like any other: never "..", never empty.
  const std::string last = base_name(path);
  if (std::string problem = file_name_problem(last); !problem.empty()) {
    return make_error("bad_request", "the destination " + path + " does not end in a file name: " + problem);
  }
  const std::string dir = parent_dir(path);
  if (stat(dir.c_str(), &st) != 0) return bad_dest("directory " + dir + " does not exist");
  if (!S_ISDIR(st.st_mode)) return bad_dest(dir + " is not a directory");
  // The directory as it is now, without symbolic links or "..": resolved
  // once, here. Every later step goes through that directory (DestDir), and
  // a resume after a restart refuses a link found on this path then.
  char* real = realpath(dir.c_str(), nullptr);
  if (!real) return bad_dest("cannot resolve directory " + dir + ": " + std::strerror(errno));
  std::string canonical = real;
  free(real);
  path = (canonical == "/" ? "" : canonical) + "/" + last;
  if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return bad_dest(path + " is a directory");
  return path;
}

Downloads::Downloads(DownloadEnv env) : env_(std::move(env)) {
  tick_ = event_new(env_.base, -1, EV_PERSIST, &Downloads::tick_cb, this);
  event_add(tick_, &kTick);
}

Downloads::~Downloads() {
  shutdown();
  if (tick_) event_free(tick_);
  list_.clear();  // unregisters each from serving
}

size_t Downloads::peer_links() const {
  size_t n = 0;
  for (const auto& d : list_) n += d->peer_links();
  return n;
}

void Downloads::tick_cb(evutil_socket_t, short, void* self) { static_cast<Downloads*>(self)->tick_now(); }

void Downloads::tick_now() {
  const auto now = DownloadClock::now();
  for (auto& d : list_) d->tick(now);
}

Status Downloads::load() {
  auto records = env_.store->load_all();
  if (!records) return records.error();
  for (DownloadRecord& r : *records) list_.push_back(std::make_unique<Download>(env_, std::move(r), nullptr));
  size_t waiting = 0;
  for (const auto& d : list_) waiting += d->unfinished() ? 1 : 0;
  if (waiting) log_info(waiting, " unfinished download(s) found; they resume once their user's session is ready");
  return Ok{};
}

void Downloads::on_session_event(Session::Event event) {
  for (auto& d : list_) {
    if (event == Session::Event::ready) {
      d->on_session_ready();
    } else {
      d->pause();
    }
  }
}

Status Downloads::precheck(const Request& req) const {
  for (const auto& d : list_) {
    if (d->unfinished() && d->group() == req.group && d->name() == req.name) {
      return make_error("already_downloading", req.name + " of group " + req.group + " is already being downloaded (to " +
                                                   d->dest() + ")");
    }
  }
  return Ok{};
}

Result<std::string> Downloads::check_dest(const Request& req) const {
  if (auto s = precheck(req); !s) return s.error();
  auto path = resolve_dest(req.dest, req.name);
  if (!path) return path.error();
  for (const auto& d : list_) {
    if (d->unfinished() && (d->dest() == *path || d->part_path() == part_path_of(*path))) {
      return make_error("already_downloading",
                        *path + " is the destination of the download of " + d->name() + " in " + d->group());
    }
  }
  struct stat st {};
  if (!req.force && lstat(path->c_str(), &st) == 0) {
    return make_error("dest_exists", *path + " exists; pass --force to overwrite");
  }
  return path;
}

Result<Json> Downloads::add(const Request& req, const Json& info) {
  // After the tracker, so that a person who may not have the file at all
  // hears that first; and what was true before the answer may not be now.
  auto path = check_dest(req);
  if (!path) return path.error();
  const auto user = env_.session->user();
  if (!user) return env_.session->not_logged_in();

  const auto size = info.get_int("size");
  const auto piece_size = info.get_int("piece_size");
  const auto hashes = info.get_string("hashes");
  const auto file_id = info.get_string("file_id");
  if (!size || *size < 0 || !piece_size || *piece_size <= 0 || *piece_size > UINT32_MAX || !hashes || !file_id) {
    return make_error("tracker_unreachable", "the tracker's answer to 'file_info' is malformed");
  }
  auto meta = FileMeta::from_parts(static_cast<uint64_t>(*size), static_cast<uint32_t>(*piece_size), *hashes, *file_id);
  if (!meta) {
    // As for any malformed answer: a tracker that sends this cannot be used.
    return make_error("tracker_unreachable",
                      "the tracker's description of " + req.name + " is not valid: " + meta.error().message);
  }

  if (const Json* named = info.find("name"); named && (!named->is_string() || named->as_string() != req.name)) {
    return make_error("tracker_unreachable", "the tracker's answer to 'file_info' names another file");
  }

  // The directory, opened once: the partial file and the final rename go
  // through it, whatever its path leads to later.
  const std::string dir_path = parent_dir(*path);
  auto dir = DestDir::open(dir_path);
  if (!dir) return dir.error();
  const std::string part_path = part_path_of(*path);
  const std::string part_name = base_name(part_path);

  // Refused before anything is written: the bytes still needed must fit.
  struct statvfs vfs {};
  if (fstatvfs((*dir)->fd(), &vfs) != 0) {
    return make_error("io_error", "cannot check the free space in " + dir_path + ": " + std::strerror(errno));
  }
  uint64_t avail = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  struct stat old {};
  if (fstatat((*dir)->fd(), part_name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(old.st_mode)) {
    avail += static_cast<uint64_t>(old.st_blocks) * 512;  // a stale partial file is removed first
  }
  if (avail < meta->size) {
    return make_error("no_space", "not enough free space in " + dir_path + " for " + req.name + ": " +
                                      std::to_string(meta->size) + " bytes needed, " + std::to_string(avail) +
                                      " available");
  }

  // A finished or failed download of the same file is replaced.
  for (auto it = list_.begin(); it != list_.end();) {
    if ((*it)->group() == req.group && (*it)->name() == req.name) {
      if (auto s = env_.store->remove((*it)->id()); !s) log_warn("cannot remove an old download record: ", s.error().message);
      it = list_.erase(it);
    } else {
      ++it;
    }
  }

  auto part = PartFile::create(*dir, part_name, meta->size, env_.options.direct_io);
  if (!part) return part.error();
  auto st = stat_part((*part)->fd());
  if (!st) return st.error();

  DownloadRecord rec;
  rec.user = *user;
  rec.group = req.group;
  rec.name = req.name;
  rec.dest = *path;
  rec.part_path = part_path;
  rec.force = req.force;
  rec.meta = *meta;
  rec.have = Bitfield(meta->piece_count()).to_bytes();
  rec.state = "downloading";
  rec.part_size = st->size;
  rec.part_mtime_ns = st->mtime_ns;
  if (auto s = env_.store->insert(rec); !s) {
    (void)unlinkat((*dir)->fd(), part_name.c_str(), 0);
    return make_error("io_error", "cannot record the download: " + s.error().message);
  }

  Json result = Json::object();
  result["group"] = req.group;
  result["name"] = req.name;
  result["dest"] = *path;
  result["size"] = meta->size;
  result["file_id"] = meta->file_id_hex();

  const Json* peers = info.find("peers");
  log_info("downloading ", req.name, " of group ", req.group, " (", meta->size, " bytes, ", meta->piece_count(),
           " pieces) to ", *path, "; ", peers && peers->is_array() ? peers->size() : 0, " peer(s) listed");
  list_.push_back(std::make_unique<Download>(env_, std::move(rec), std::move(*part)));
  Download& d = *list_.back();
  if (env_.tickets) env_.tickets->take(info);
  if (peers) d.add_peers(*peers);
  d.on_session_ready();
  return result;
}

Json Downloads::show() const {
  const auto now = DownloadClock::now();
  Json out = Json::array();
  for (const auto& d : list_) out.push_back(d->to_json(now));
  return out;
}

Downloads::Activity Downloads::activity() const {
  const auto now = DownloadClock::now();
  Activity a;
  for (const auto& d : list_) {
    if (d->state() == Download::State::downloading) ++a.downloading;
    if (d->state() == Download::State::paused) ++a.paused;
    a.rate += d->rate(now);
  }
  return a;
}

Result<Json> Downloads::resume(const std::string& group, const std::string& name) {
  for (auto& d : list_) {
    if (d->group() != group || d->name() != name) continue;
    if (auto s = d->resume(); !s) return s.error();
    return d->to_json(DownloadClock::now());
  }
  return make_error("no_such_download", "no download of '" + name + "' in '" + group +
                                            "'; 'gsctl show_downloads' lists them");
}

const Download* Downloads::find(const std::string& group, const std::string& name) const {
  for (const auto& d : list_) {
    if (d->group() == group && d->name() == name) return d.get();
  }
  return nullptr;
}

void Downloads::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (tick_) event_del(tick_);
  for (auto& d : list_) d->shutdown();
}

}  // namespace gs::daemon
