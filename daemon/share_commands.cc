// The sharing commands of the control protocol: upload_file, list_files and
// stop_share. Argument checks here; the work is Shares' (and the tracker's).
#include <string>

#include "command_args.h"
#include "commands.h"
#include "crypto.h"
#include "log.h"
#include "names.h"
#include "shares.h"

namespace gs::daemon {
namespace {

Error no_sharing() { return make_error("internal", "sharing is not available in this daemon"); }

Result<std::string> group_arg(const Json& args) { return name_arg(args, "group", "group"); }

Error malformed(const std::string& what) {
  return make_error("tracker_unreachable", "the tracker's answer to 'list_files' is malformed: " + what);
}

bool hex_id(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

void Commands::upload_file(const Json& args, Reply& reply) {
  auto path = absolute_path_arg(args, "path", "path");
  if (!path) return reply(path.error());
  auto group = group_arg(args);
  if (!group) return reply(group.error());
  if (!shares_) return reply(no_sharing());
  shares_->upload(*path, *group, std::move(reply), progress_);
}

void Commands::list_files(const Json& args, Reply& reply) {
  auto group = group_arg(args);
  if (!group) return reply(group.error());
  with_session("list_files", {{"group", *group}}, reply, [group = *group](const Json& answer) -> Result<Json> {
    const Json* files = answer.find("files");
    if (!files || !files->is_array()) return malformed("no 'files' list");
    Json out = Json::array();
    for (const Json& f : files->as_array()) {
      const auto name = f.get_string("name");
      const auto size = f.get_int("size");
      const auto file_id = f.get_string("file_id");
      const auto peers = f.get_int("peers");
      if (!name || !size || *size < 0 || !file_id || !hex_id(*file_id) || !peers || *peers < 0) {
        return malformed("a file without a name, size, file_id and peers");
      }
      // A name no client could ask for (a tracker that kept one from before
      // the rules, or a hostile one): left out, never shown or used.
      if (std::string problem = file_name_problem(*name); !problem.empty()) {
        log_warn("list_files: the tracker listed a file in [", group, "] whose name is refused: ", problem);
        continue;
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
  auto name = file_name_arg(args, "name");
  if (!name) return reply(name.error());
  if (!shares_) return reply(no_sharing());
  shares_->stop(*group, *name, std::move(reply));
}

}  // namespace gs::daemon
