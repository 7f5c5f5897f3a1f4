#include "trackers_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "identity.h"

namespace gs {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

constexpr std::string_view kClusterKeyPrefix = "cluster_key=";

}  // namespace

Result<TrackersFile> parse_trackers_file(std::string_view text) {
  TrackersFile file;
  std::vector<Endpoint>& out = file.trackers;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (line.substr(0, kClusterKeyPrefix.size()) == kClusterKeyPrefix) {
      auto raw = parse_key_text(line.substr(kClusterKeyPrefix.size()));
      if (!raw) return make_error("bad_trackers", where + "cluster_key: " + raw.error().message);
      if (!file.cluster_key.empty()) return make_error("bad_trackers", where + "a second cluster_key line");
      file.cluster_key = std::move(*raw);
      continue;
    }
    std::string key;
    if (const size_t at = line.rfind("key="); at != std::string_view::npos &&
                                              (at == 0 || line[at - 1] == ' ' || line[at - 1] == '\t')) {
      auto raw = parse_key_text(line.substr(at + 4));
      if (!raw) return make_error("bad_trackers", where + raw.error().message);
      key = std::move(*raw);
      line = trim(line.substr(0, at));
    }
    Result<Endpoint> ep = make_error("", "");
    const size_t space = line.find_first_of(" \t");
    if (space != std::string_view::npos) {
      const std::string_view host = line.substr(0, space);
      const std::string_view port = trim(line.substr(space));
      if (port.find_first_of(" \t") != std::string_view::npos) {
        return make_error("bad_trackers", where + "expected 'IP PORT' or 'IP:PORT', got '" + std::string(line) + "'");
      }
      auto p = parse_port(port);
      if (!p) return make_error("bad_trackers", where + p.error().message);
      std::string h(host);
      if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
      ep = Endpoint{h, *p};
    } else {
      ep = parse_endpoint(line);
      if (!ep) {
        return make_error("bad_trackers", where + "expected 'IP PORT' or 'IP:PORT', got '" + std::string(line) + "'");
      }
    }
    for (const Endpoint& seen : out) {
      if (seen == *ep) return make_error("bad_trackers", where + "tracker " + ep->str() + " is listed twice");
    }
    out.push_back(*ep);
    file.keys.push_back(std::move(key));
  }
  if (out.empty()) return make_error("bad_trackers", "no trackers listed");
  return file;
}

Result<std::vector<Endpoint>> parse_trackers(std::string_view text) {
  auto file = parse_trackers_file(text);
  if (!file) return file.error();
  return std::move(file->trackers);
}

Result<std::string> read_small_file(const std::string& path, size_t max_size) {
  // POSIX reads, not std::ifstream: the first C++ stream in a process sets up
  // the locale machinery, ~600 KiB more of libstdc++ resident for good.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("io_error", "cannot read " + path + ": " + std::strerror(errno));
  std::string data;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return make_error("io_error", "cannot read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > max_size) {
      ::close(fd);
      return make_error("io_error", path + " is larger than " + std::to_string(max_size) + " bytes");
    }
  }
  ::close(fd);
  return data;
}

Result<TrackersFile> load_trackers_file(const std::string& path) {
  auto text = read_small_file(path);
  if (!text) return text.error();
  auto list = parse_trackers_file(*text);
  if (!list) return make_error(list.error().code, path + ": " + list.error().message);
  return list;
}

Status write_private_file(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return make_error("io_error", "cannot create " + tmp + ": " + std::strerror(errno));
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int why = ok ? errno : err;
    ::unlink(tmp.c_str());
    return make_error("io_error", "cannot write " + path + ": " + std::strerror(why));
  }
  return Ok{};
}

}  // namespace gs
