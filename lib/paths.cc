#include "paths.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace gs {
namespace {

std::string env_first(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return {};
  std::string s(v);
  // systemd passes several directories separated by ':' when a unit lists more.
  return s.substr(0, s.find(':'));
}

std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h && *h) return h;
  if (const passwd* pw = getpwuid(getuid())) return pw->pw_dir;
  return "/";
}

}  // namespace

std::string default_state_dir(const std::string& component) {
  if (std::string d = env_first("STATE_DIRECTORY"); !d.empty()) return d;
  if (std::string d = env_first("XDG_STATE_HOME"); !d.empty()) return d + "/gs/" + component;
  return home_dir() + "/.local/state/gs/" + component;
}

std::string default_runtime_dir() {
  if (std::string d = env_first("RUNTIME_DIRECTORY"); !d.empty()) return d;
  if (std::string d = env_first("XDG_RUNTIME_DIR"); !d.empty()) return d;
  return "/tmp/gs-" + std::to_string(getuid());
}

std::string default_socket_path() { return default_runtime_dir() + "/gsd.sock"; }

Status make_dirs(const std::string& path, unsigned mode) {
  if (path.empty()) return make_error("io_error", "empty directory path");
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string part = path.substr(0, pos);
    if (mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
      return make_error("io_error", "cannot create directory " + part + ": " + std::strerror(errno));
    }
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error("io_error", path + " is not a directory");
  }
  return Ok{};
}

}  // namespace gs
