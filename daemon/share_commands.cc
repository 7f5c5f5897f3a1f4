// The sharing commands of the control protocol: upload_file, list_files and
// stop_share. Argument checks here; the work is Shares' (and the tracker's).
#include <string>

#include "commands.h"
#include "crypto.h"
#include "names.h"
#include "shares.h"

namespace gs::daemon {
namespace {

Error bad_request(std::string message) { return make_error("bad_request", std::move(message)); }

Error no_sharing() { return make_error("internal", "sharing is not available in this daemon"); }

// Echoing what a client sent: short, so a 1 MiB argument does not come back whole.
std::string shown(std::string_view s) {
  constexpr size_t kShown = 200;
  if (s.size() <= kShown) return std::string(s);
  return std::string(s.substr(0, kShown)) + "...";
}

Result<std::string> string_arg(const Json& args, std::string_view key) {
  const Json* v = args.find(key);
  if (!v) return bad_request("missing argument '" + std::string(key) + "'");
  if (!v->is_string()) return bad_request("argument '" + std::string(key) + "' must be a string");
  return v->as_string();
}

Result<std::string> group_arg(const Json& args) {
  auto group = string_arg(args, "group");
  if (!group) return group;
  if (!valid_name(*group)) {
    return bad_request("'" + shown(*group) +
                       "' is not a valid group name: use 1-64 characters of A-Z a-z 0-9 . _ -, not starting with . or -");
  }
  return group;
}

Error malformed(const std::string& what) {
  return make_error("tracker_unreachable", "the tracker's answer to 'list_files' is malformed: " + what);
}

bool hex_id(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

void Commands::upload_file(const Json& args, Reply& reply) {
  auto path = string_arg(args, "path");
  if (!path) return reply(path.error());
  // gsd's working directory is not the user's: only an absolute path means
  // the same file to both.
  if (path->empty() || (*path)[0] != '/' || path->find('\0') != std::string::npos) {
    return reply(bad_request("the path must be absolute, not '" + shown(*path) + "'"));
  }
  auto group = group_arg(args);
  if (!group) return reply(group.error());
  if (!shares_) return reply(no_sharing());
  shares_->upload(*path, *group, std::move(reply));
}

void Commands::list_files(const Json& args, Reply& reply) {
  auto group = group_arg(args);
  if (!group) return reply(group.error());
  with_session("list_files", {{"group", *group}}, reply, [](const Json& answer) -> Result<Json> {
    const Json* files = answer.find("files");
    if (!files || !files->is_array()) return malformed("no 'files' list");
    Json out = Json::array();
    for (const Json& f : files->as_array()) {
      const auto name = f.get_string("name");
      const auto size = f.get_int("size");
      const auto file_id = f.get_string("file_id");
      const auto peers = f.get_int("peers");
      if (!name || !valid_file_name(*name) || !size || *size < 0 || !file_id || !hex_id(*file_id) || !peers ||
          *peers < 0) {
        return malformed("a file without a valid name, size, file_id and peers");
      }
      Json item = Json::object();
      item["name"] = *name;
      item["size"] = *size;
      item["file_id"] = *file_id;
      item["peers"] = *peers;
      out.push_back(std::move(item));
    }
    return out;
  });
}

void Commands::stop_share(const Json& args, Reply& reply) {
  auto group = group_arg(args);
  if (!group) return reply(group.error());
  auto name = string_arg(args, "name");
  if (!name) return reply(name.error());
  if (!valid_file_name(*name)) return reply(bad_request("'" + shown(*name) + "' is not a valid file name"));
  if (!shares_) return reply(no_sharing());
  shares_->stop(*group, *name, std::move(reply));
}

}  // namespace gs::daemon
